// The JUnit XML report (spec/transcript-format.md §T.9): a suite per spec section, a test case per
// transcript.
#include "junit.hpp"

#include <map>
#include <ostream>

namespace tcpchat::conformance {

std::string xml_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
            out += "\xEF\xBF\xBD";
        } else {
            out += c;
        }
    }
    return out;
}

void junit_counts(pugi::xml_node suite, const Tally& t) {
    suite.append_attribute("tests") = t.total();
    suite.append_attribute("failures") = t[Verdict::failed];
    suite.append_attribute("skipped") = t[Verdict::skipped] + t[Verdict::not_run];
    suite.append_attribute("errors") = t[Verdict::crashed];
}

namespace {

void add_case(pugi::xml_node suite, const CaseResult& r, std::string_view mode) {
    pugi::xml_node tc = suite.append_child("testcase");
    tc.append_attribute("classname") =
        (std::string(mode) + ".\xC2\xA7" + r.test->sections.front()).c_str();
    tc.append_attribute("name") = r.test->name.c_str();
    tc.append_attribute("time") = double(r.elapsed.count()) / 1000.0;
    switch (verdict(r)) {
    case Verdict::passed: break;
    case Verdict::skipped:
        tc.append_child("skipped").append_attribute("message") = xml_text(*r.skipped).c_str();
        break;
    case Verdict::not_run:
        tc.append_child("skipped").append_attribute("message") =
            xml_text("not run: " + *r.not_run).c_str();
        break;
    case Verdict::crashed: {
        pugi::xml_node e = tc.append_child("error");
        e.append_attribute("message") = xml_text("crashed: " + r.crashed->what).c_str();
        e.text() = xml_text(r.crashed->last_output).c_str();
        break;
    }
    case Verdict::failed: {
        pugi::xml_node f = tc.append_child("failure");
        if (r.failure) {
            const Failure& fl = *r.failure;
            f.append_attribute("message") =
                xml_text("violates " + sections_of(*r.test) + " (line " + std::to_string(fl.line) +
                         "): " + fl.message)
                    .c_str();
            f.text() = xml_text(r.test->why + "\nexpected: " + shown(fl, fl.expected) +
                                "\n  actual: " + shown(fl, fl.actual))
                           .c_str();
        } else {
            f.append_attribute("message") = "failed";
        }
        break;
    }
    }
    if (!r.output.empty()) {
        tc.append_child("system-out").text() = xml_text(r.output).c_str();
    }
}

} // namespace

void write_junit(std::ostream& out, const std::vector<CaseResult>& results, std::string_view mode) {
    std::map<std::string, std::vector<const CaseResult*>,
             bool (*)(const std::string&, const std::string&)>
        groups(&section_less);
    for (const CaseResult& r : results) {
        groups[r.test->sections.front()].push_back(&r);
    }
    pugi::xml_document doc;
    pugi::xml_node all = doc.append_child("testsuites");
    all.append_attribute("name") = ("tcp-chat-conformance " + std::string(mode)).c_str();
    junit_counts(all, tally(results));
    for (const auto& [section, rs] : groups) {
        pugi::xml_node suite = all.append_child("testsuite");
        suite.append_attribute("name") = section_heading(section).c_str();
        Tally t;
        for (const CaseResult* r : rs) {
            t.add(verdict(*r));
        }
        junit_counts(suite, t);
        for (const CaseResult* r : rs) {
            add_case(suite, *r, mode);
        }
    }
    doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
}

} // namespace tcpchat::conformance
