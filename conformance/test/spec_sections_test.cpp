// The conformance suite names the spec's sections as the spec does: the runner's section titles
// are the headings of spec/tcp-chat.md, every case cites sections that exist, and every §
// reference in the documents that accompany the suite resolves, down to a quoted paragraph name
// (§4.1 "Closing" is a paragraph **Closing.** of §4.1).
#include "shipped_cases.hpp"
#include "tcpchat/conformance.hpp"

#include <fstream>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <map>
#include <regex>
#include <sstream>
#include <string>
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

// The numbered headings of the spec, in the order they appear: "## 4. Message syntax",
// "### 4.1 Framing and bytes", "## Appendix A. Collected ABNF", "### B.1 The server".
std::vector<Heading> spec_headings() {
    static const std::regex numbered(
        R"(^#{2,3} (?:Appendix )?([0-9]+|[A-Z])(?:\.([0-9]+))?\.? (.+)$)");
    std::vector<Heading> out;
    std::istringstream in(read(TCPCHAT_SPEC_DIR "/tcp-chat.md"));
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (line.starts_with("#")) {
            if (std::regex_match(line, m, numbered)) {
                std::string number = m[1].str();
                if (m[2].matched) {
                    number += "." + m[2].str();
                }
                out.push_back({number, m[3].str(), {}});
                continue;
            }
            if (!out.empty() && !line.starts_with("####")) {
                out.push_back({"", line, {}}); // an unnumbered heading ends the section's body
                continue;
            }
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
    return std::regex_replace(text, std::regex(R"(\s+)"), " ");
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
    static const std::regex reference(
        R"(§([0-9]+(?:\.[0-9]+)?|[AB](?:\.[0-9]+)?)(?: \"([^\"]+)\")?)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), reference);
         it != std::sregex_iterator(); ++it) {
        const std::string number = (*it)[1].str();
        const auto section = spec_sections().find(number);
        if (section == spec_sections().end()) {
            ADD_FAILURE() << where << " cites §" << number << ", which the spec does not have";
            continue;
        }
        if ((*it)[2].matched) {
            const std::string name = one_line((*it)[2].str());
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
    std::map<std::string, std::size_t> listed;
    static const std::regex cell(R"(\| ([0-9]+(?:\.[0-9]+)?) [^|]+ \| ([0-9]+) )");
    for (auto it = std::sregex_iterator(readme.begin(), readme.end(), cell);
         it != std::sregex_iterator(); ++it) {
        listed[(*it)[1].str()] = std::stoul((*it)[2].str());
    }
    EXPECT_EQ(listed, by_section);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(readme, m, std::regex(R"(\n([0-9]+) cases, each citing)")));
    EXPECT_EQ(std::stoul(m[1].str()), suite.cases.size());
    ASSERT_TRUE(std::regex_search(
        readme, m,
        std::regex(
            R"(([0-9]+) run in codec mode, ([0-9]+) in server mode, ([0-9]+) in client mode)")));
    EXPECT_EQ(std::stoul(m[1].str()), by_mode[Mode::codec]);
    EXPECT_EQ(std::stoul(m[2].str()), by_mode[Mode::server]);
    EXPECT_EQ(std::stoul(m[3].str()), by_mode[Mode::client]);
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
