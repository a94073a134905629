// grade's matrix as text for the terminal, as JSON (conformance/schema/grade.json) and as JUnit
// XML with one test suite per implementation.
#include "junit.hpp"
#include "tcpchat/grade.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

namespace tcpchat::conformance::grade {

namespace {

using Json = nlohmann::ordered_json;

// Columns on a terminal: UTF-8 continuation bytes take none.
std::size_t width(std::string_view s) {
    return std::size_t(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(std::string_view s, std::size_t w, bool right = false) {
    const std::string fill(w > width(s) ? w - width(s) : 0, ' ');
    return right ? fill + std::string(s) : std::string(s) + fill;
}

std::size_t column(const std::string& name) {
    return std::max<std::size_t>(name.size(), 7) + 2;
}

} // namespace

void print_matrix(std::ostream& out, const Matrix& m, bool color) {
    const Paint paint{color};
    std::size_t first = 24;
    for (const Row& r : m.rows) {
        first = std::max(first, r.name.size() + 4);
    }
    const std::vector<SectionTotal> totals = section_totals(m);
    auto total = totals.begin();
    std::optional<transcript::Mode> mode;
    for (const Row& row : m.rows) {
        if (mode != row.mode) {
            mode = row.mode;
            out << (row.mode == m.rows.front().mode ? "" : "\n")
                << pad(std::string(transcript::mode_name(row.mode)) + " mode", first);
            for (const std::string& name : m.implementations) {
                out << pad(name, column(name), true);
            }
            out << "\n";
        }
        if (total != totals.end() && total->mode == row.mode &&
            total->section == row.sections.front()) {
            std::string heading = section_heading(total->section);
            if (width(heading) > first - 1) {
                heading = heading.substr(0, first - 2) + "\xE2\x80\xA6";
            }
            out << pad(heading, first);
            for (const std::string& name : m.implementations) {
                const auto p = total->passed.find(name);
                out << pad(p == total->passed.end()
                               ? ""
                               : std::to_string(p->second) + "/" + std::to_string(total->cases),
                           column(name), true);
            }
            out << "\n";
            ++total;
        }
        out << pad("  " + row.name, first);
        for (const std::string& name : m.implementations) {
            const auto c = row.cells.find(name);
            const auto v = c == row.cells.end() ? std::nullopt : verdict_of_key(c->second.outcome);
            out << std::string(column(name) - 1, ' ') << (v ? mark(*v, paint) : " ");
        }
        out << "\n";
    }
    out << "\n";
    for (const Run& r : m.runs) {
        std::size_t passed = 0;
        std::size_t cases = 0;
        for (const Row& row : m.rows) {
            if (row.mode == r.mode) {
                ++cases;
                const auto c = row.cells.find(r.implementation);
                passed += c != row.cells.end() && c->second.outcome == "passed" ? 1 : 0;
            }
        }
        out << pad(r.implementation + " " + std::string(transcript::mode_name(r.mode)), first)
            << passed << "/" << cases << " passed"
            << (r.status == "completed" ? "" : " (" + r.status + ": " + r.error + ")") << "\n";
    }
}

void write_matrix_json(std::ostream& out, const Matrix& m) {
    Json implementations = Json::array();
    for (const std::string& name : m.implementations) {
        Json runs = Json::array();
        for (const Run& r : m.runs) {
            if (r.implementation != name) {
                continue;
            }
            Json run = {{"mode", transcript::mode_name(r.mode)},
                        {"target", r.target},
                        {"status", r.status},
                        {"exit_status", r.exit_status ? Json(*r.exit_status) : Json(nullptr)},
                        {"elapsed_ms", r.elapsed.count()},
                        {"report", r.json},
                        {"html", r.html},
                        {"junit", r.junit},
                        {"log", r.log}};
            if (!r.error.empty()) {
                run["error"] = r.error;
            }
            Tally t;
            for (const Row& row : m.rows) {
                const auto c = row.cells.find(name);
                if (row.mode == r.mode && c != row.cells.end()) {
                    t.add(verdict_of_key(c->second.outcome).value_or(Verdict::failed));
                }
            }
            for (std::size_t i = 0; i < verdict_count; ++i) {
                run[std::string(verdict_key(Verdict(i)))] = t.counts[i];
            }
            runs.push_back(std::move(run));
        }
        implementations.push_back({{"name", name}, {"runs", std::move(runs)}});
    }
    Json sections = Json::array();
    for (const SectionTotal& t : section_totals(m)) {
        sections.push_back({{"mode", transcript::mode_name(t.mode)},
                            {"section", t.section},
                            {"title", section_title(t.section)},
                            {"cases", t.cases},
                            {"passed", t.passed}});
    }
    Json cases = Json::array();
    for (const Row& row : m.rows) {
        Json outcomes = Json::object();
        for (const auto& [name, cell] : row.cells) {
            outcomes[name] = {{"outcome", cell.outcome}};
            if (!cell.message.empty()) {
                outcomes[name]["message"] = cell.message;
            }
        }
        cases.push_back({{"mode", transcript::mode_name(row.mode)},
                         {"name", row.name},
                         {"why", row.why},
                         {"sections", row.sections},
                         {"outcomes", std::move(outcomes)}});
    }
    const Json doc = {{"implementations", std::move(implementations)},
                      {"sections", std::move(sections)},
                      {"cases", std::move(cases)}};
    out << doc.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

void write_matrix_junit(std::ostream& out, const Matrix& m) {
    pugi::xml_document doc;
    pugi::xml_node all = doc.append_child("testsuites");
    all.append_attribute("name") = "tcp-chat-conformance grade";
    for (const std::string& name : m.implementations) {
        pugi::xml_node suite = all.append_child("testsuite");
        suite.append_attribute("name") = name.c_str();
        Tally t;
        for (const Row& row : m.rows) {
            const auto c = row.cells.find(name);
            if (c == row.cells.end()) {
                continue;
            }
            const Verdict v = verdict_of_key(c->second.outcome).value_or(Verdict::failed);
            t.add(v);
            pugi::xml_node tc = suite.append_child("testcase");
            tc.append_attribute("classname") =
                (name + "." + std::string(transcript::mode_name(row.mode)) + ".\xC2\xA7" +
                 row.sections.front())
                    .c_str();
            tc.append_attribute("name") = row.name.c_str();
            const char* element = v == Verdict::failed    ? "failure"
                                  : v == Verdict::crashed ? "error"
                                  : v == Verdict::passed  ? nullptr
                                                          : "skipped";
            if (element != nullptr) {
                const std::string prefix = v == Verdict::not_run ? "not run: " : "";
                tc.append_child(element).append_attribute("message") =
                    xml_text(prefix + c->second.message).c_str();
            }
        }
        junit_counts(suite, t);
    }
    doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
}

} // namespace tcpchat::conformance::grade
