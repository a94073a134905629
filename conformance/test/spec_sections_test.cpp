// The conformance suite names the spec's sections as the spec does: the runner's section titles
// are the headings of spec/tcp-chat.md, every case cites sections that exist, and every §
// reference in the documents that accompany the suite resolves, down to a quoted paragraph name
// (§4.1 "Closing" is a paragraph **Closing.** of §4.1).
#include "shipped_cases.hpp"
#include "tcpchat/conformance.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace tcpchat::conformance;

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Heading {
    std::string number;
    std::string title;
    std::string body; // the text up to the next heading
};

bool is_digit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// The section number at the start of `text` ("4", "4.1", "A", "B.1"; not the "." that may end a
// sentence), or "" if there is none. With `letters`, the appendices' letters count.
std::string section_number_at(std::string_view text, std::string_view letters) {
    std::size_t n = 0;
    if (!text.empty() && letters.find(text[0]) != std::string_view::npos) {
        n = 1;
    } else {
        while (n < text.size() && is_digit(text[n])) {
            ++n;
        }
    }
    if (n > 0 && n + 1 < text.size() && text[n] == '.' && is_digit(text[n + 1])) {
        ++n;
        while (n < text.size() && is_digit(text[n])) {
            ++n;
        }
    }
    return std::string(text.substr(0, n));
}

// The numbered headings of the spec, in the order they appear: "## 4. Message syntax",
// "### 4.1 Framing and bytes", "## Appendix A. Collected ABNF", "### B.1 The server".
std::vector<Heading> spec_headings() {
    std::vector<Heading> out;
    std::istringstream in(read(TCPCHAT_SPEC_DIR "/tcp-chat.md"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("## ") || line.starts_with("### ")) {
            std::string_view rest = std::string_view(line).substr(line.find(' ') + 1);
            if (rest.starts_with("Appendix ")) {
                rest.remove_prefix(9);
            }
            const std::string number = section_number_at(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
            rest.remove_prefix(number.size());
            if (rest.starts_with(".")) {
                rest.remove_prefix(1);
            }
            if (!number.empty() && rest.starts_with(" ")) {
                out.push_back({number, std::string(rest.substr(1)), {}});
            } else {
                out.push_back({"", line, {}}); // an unnumbered heading ends the section's body
            }
            continue;
        }
        if (!out.empty()) {
            out.back().body += line + "\n";
        }
    }
    std::erase_if(out, [](const Heading& h) { return h.number.empty(); });
    return out;
}

const std::map<std::string, Heading>& spec_sections() {
    static const std::map<std::string, Heading> by_number = [] {
        std::map<std::string, Heading> m;
        for (const Heading& h : spec_headings()) {
            m.emplace(h.number, h);
        }
        return m;
    }();
    return by_number;
}

// "4.2" < "4.10" < "12" < "A" < "B.1": numbers part by part, then the appendices.
bool spec_order(const std::string& a, const std::string& b) {
    const bool a_appendix = a.front() >= 'A';
    const bool b_appendix = b.front() >= 'A';
    if (a_appendix != b_appendix) {
        return b_appendix;
    }
    if (a_appendix && a.front() != b.front()) {
        return a.front() < b.front();
    }
    return section_less(a_appendix ? a.substr(1) : a, b_appendix ? b.substr(1) : b);
}

// Runs of whitespace as one space, so that a name quoted across a line break still matches.
std::string one_line(const std::string& text) {
    std::string out;
    for (char c : text) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (!space) {
            out += c;
        } else if (!out.ends_with(' ')) {
            out += ' ';
        }
    }
    return out;
}

TEST(SpecSections, TheSpecHasItsSectionsInOrderEachOnce) {
    const std::vector<Heading> headings = spec_headings();
    ASSERT_GE(headings.size(), 40U)
        << "cannot read the headings of " TCPCHAT_SPEC_DIR "/tcp-chat.md";
    EXPECT_EQ(spec_sections().size(), headings.size()) << "a section number is used twice";
    for (std::size_t i = 1; i < headings.size(); ++i) {
        EXPECT_TRUE(spec_order(headings[i - 1].number, headings[i].number))
            << "§" << headings[i].number << " comes after §" << headings[i - 1].number;
    }
}

TEST(SpecSections, EveryTitleOfTheRunnerIsTheHeadingOfThatSection) {
    for (const SectionTitle& t : section_titles()) {
        const auto it = spec_sections().find(std::string(t.number));
        if (it == spec_sections().end()) {
            ADD_FAILURE() << "the runner titles §" << t.number << " \"" << t.title
                          << "\", a section the spec does not have";
            continue;
        }
        EXPECT_EQ(it->second.title, t.title) << "§" << t.number;
    }
}

TEST(SpecSections, EverySectionOfTheSpecHasItsTitleInTheRunner) {
    std::vector<std::string> runner;
    for (const SectionTitle& t : section_titles()) {
        runner.emplace_back(t.number);
    }
    std::vector<std::string> spec;
    for (const Heading& h : spec_headings()) {
        spec.push_back(h.number);
    }
    EXPECT_EQ(runner, spec) << "the runner's table lists the spec's sections in the spec's order";
}

// Every "§N.N" in `text`, and every "§N.N "Name"" paragraph reference, must resolve.
void expect_references_resolve(const std::string& where, const std::string& text) {
    static constexpr std::string_view sign = "\xC2\xA7"; // §
    for (std::size_t at = text.find(sign); at != std::string::npos; at = text.find(sign, at + 1)) {
        const std::string_view rest = std::string_view(text).substr(at + sign.size());
        const std::string number = section_number_at(rest, "AB");
        if (number.empty()) {
            continue; // §T.9, §N.N: the transcript format's own sections, or notation
        }
        const auto section = spec_sections().find(number);
        if (section == spec_sections().end()) {
            ADD_FAILURE() << where << " cites §" << number << ", which the spec does not have";
            continue;
        }
        const std::string_view after = rest.substr(number.size());
        if (after.starts_with(" \"")) {
            const std::size_t close = after.find('"', 2);
            const std::string name = one_line(std::string(after.substr(2, close - 2)));
            const std::string body = one_line(section->second.body);
            EXPECT_TRUE(body.find("**" + name + ".**") != std::string::npos ||
                        body.find("**" + name + "**") != std::string::npos)
                << where << " cites §" << number << " \"" << name << "\", a paragraph §" << number
                << " does not have";
        }
    }
}

TEST(SpecSections, EveryCaseCitesSectionsOfTheSpec) {
    const Suite& suite = tcpchat::conformance::testing::shipped_suite();
    ASSERT_TRUE(suite.errors.empty());
    ASSERT_GE(suite.cases.size(), 60U);
    for (const Case& c : suite.cases) {
        ASSERT_FALSE(c.sections.empty()) << c.name;
        for (const std::string& s : c.sections) {
            EXPECT_TRUE(spec_sections().contains(s))
                << c.name << " cites §" << s << ", which the spec does not have";
        }
        EXPECT_TRUE(c.name.starts_with(c.sections.front() + "-"))
            << c.name << " is not named after its first section, §" << c.sections.front();
        expect_references_resolve(c.name, read(default_cases_dir() + "/" + c.name + ".md"));
    }
}

// conformance/README.md counts the cases by first section and by mode; the counts are the suite's.
TEST(SpecSections, TheSuitesReadmeCountsTheCases) {
    const Suite& suite = tcpchat::conformance::testing::shipped_suite();
    std::map<std::string, std::size_t> by_section;
    std::map<Mode, std::size_t> by_mode;
    for (const Case& c : suite.cases) {
        ++by_section[c.sections.front()];
        for (Mode m : {Mode::codec, Mode::server, Mode::client}) {
            by_mode[m] += c.applies_to(m) ? 1 : 0;
        }
    }
    const std::string readme = read(TCPCHAT_SOURCE_DIR "/conformance/README.md");
    // The table's cells come in pairs: "| 4.1 Framing | 7 |".
    std::map<std::string, std::size_t> listed;
    std::istringstream in(readme);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        for (std::size_t bar = line.find('|'); bar != std::string::npos;) {
            const std::size_t next = line.find('|', bar + 1);
            if (next == std::string::npos) {
                break;
            }
            cells.push_back(one_line(line.substr(bar + 1, next - bar - 1)));
            bar = next;
        }
        for (std::size_t i = 0; i + 1 < cells.size(); ++i) {
            const std::string number = section_number_at(std::string_view(cells[i]).substr(1), "");
            const std::string count = cells[i + 1].substr(1, cells[i + 1].size() - 2);
            if (!number.empty() && !count.empty() &&
                std::all_of(count.begin(), count.end(), is_digit)) {
                listed[number] = std::stoul(count);
            }
        }
    }
    EXPECT_EQ(listed, by_section);
    // "110 cases, each citing"; "109 run in codec mode, 62 in server mode, 32 in client mode".
    const auto number_before = [&](std::string_view marker) -> std::size_t {
        std::size_t end = readme.find(marker);
        if (end == std::string::npos) {
            ADD_FAILURE() << "conformance/README.md says nothing like \"" << marker << "\"";
            return 0;
        }
        std::size_t start = end;
        while (start > 0 && is_digit(readme[start - 1])) {
            --start;
        }
        return start == end ? 0 : std::stoul(readme.substr(start, end - start));
    };
    EXPECT_EQ(number_before(" cases, each citing"), suite.cases.size());
    EXPECT_EQ(number_before(" run in codec mode,"), by_mode[Mode::codec]);
    EXPECT_EQ(number_before(" in server mode,"), by_mode[Mode::server]);
    EXPECT_EQ(number_before(" in client mode."), by_mode[Mode::client]);
}

TEST(SpecSections, EveryReferenceOfTheDocumentsResolves) {
    for (const char* path : {"spec/tcp-chat.md", "spec/README.md", "spec/transcript-format.md",
                             "README.md", "conformance/README.md", "bench/README.md"}) {
        const std::string text = read(std::string(TCPCHAT_SOURCE_DIR "/") + path);
        ASSERT_FALSE(text.empty()) << path;
        expect_references_resolve(path, text);
    }
}

TEST(SpecSections, AWrongReferenceIsFound) {
    EXPECT_NONFATAL_FAILURE(expect_references_resolve("sample", "as §6.9 says"), "§6.9");
    EXPECT_NONFATAL_FAILURE(expect_references_resolve("sample", "§4.1 \"Shutting\""), "Shutting");
    expect_references_resolve("sample", "§4.1 \"Closing\", §10.7 \"Fail the chat\", §A, §12");
}

} // namespace
