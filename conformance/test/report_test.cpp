// The reports of a run and of a grade, from hand-built results: every verdict (passed, failed,
// crashed, skipped, not run) and what an implementation printed reach the terminal, JSON, JUnit
// and HTML; the grade's list is read as documented.
#include "tcpchat/conformance.hpp"
#include "tcpchat/grade.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <sstream>

namespace {

using namespace tcpchat::conformance;

// A small case of its own, so that the tests do not depend on the shipped suite's wording.
const Case& sample() {
    static const Case c = [] {
        auto p = tcpchat::transcript::parse_transcript(
            "# Register\n\n- Sections: §5.1, §6.2\n- Modes: server\n\nThe server answers "
            "<REGISTER> & \"echoes\" it.\n\n```transcript\nconnect A server\n"
            "A -> server: \"REGISTER\\r\\n\"\nA -> server: \"clientID: a\\r\\n\"\n"
            "A -> server: \"\\r\\n\"\nserver -> A: \"REGACK\\r\\n\\r\\n\"\nserver closes A\n```\n",
            "5.1-sample");
        if (!p) {
            throw std::runtime_error(p.error().message);
        }
        return p.value();
    }();
    return c;
}

std::vector<CaseResult> every_verdict() {
    std::vector<CaseResult> rs(5);
    for (CaseResult& r : rs) {
        r.test = &sample();
    }
    rs[0].passed = true;
    rs[1].failure = Failure{13, "the bytes differ", "REGACK\r\n\r\n", "REGAK\r\n\r\n", true};
    rs[1].output = "listening\n<b>oops</b>\x01\n";
    rs[2].crashed = Crash{"killed by SIGSEGV", "Segmentation fault & core"};
    rs[2].failure = Failure{13, "the connection was reset", "", "", true};
    rs[3].skipped = "cannot bind 10.9.9.9";
    rs[4].not_run = "the server had stopped";
    return rs;
}

TEST(Reports, TerminalShowsEveryVerdict) {
    std::ostringstream out;
    print_report(out, every_verdict(), {});
    const std::string text = out.str();
    EXPECT_NE(text.find("-> crashed: killed by SIGSEGV\n         | Segmentation fault & core\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("-> not run: the server had stopped\n"), std::string::npos) << text;
    EXPECT_NE(text.find("^ first difference at byte 4"), std::string::npos) << text;
    EXPECT_TRUE(text.ends_with("\n1 passed, 2 failed, 1 skipped, 1 not run\n")) << text;
}

TEST(Reports, JsonCarriesCrashNotRunAndOutput) {
    std::ostringstream out;
    write_json(out, every_verdict(), "server");
    const auto j = nlohmann::json::parse(out.str());
    EXPECT_EQ(j["passed"], 1);
    EXPECT_EQ(j["failed"], 1);
    EXPECT_EQ(j["crashed"], 1);
    EXPECT_EQ(j["skipped"], 1);
    EXPECT_EQ(j["not_run"], 1);
    const auto& cases = j["cases"];
    ASSERT_EQ(cases.size(), 5U);
    EXPECT_EQ(cases[1]["outcome"], "failed");
    EXPECT_EQ(cases[1]["expected"], "\"REGACK\\r\\n\\r\\n\"");
    EXPECT_EQ(cases[1]["line"], 13);
    EXPECT_EQ(cases[1]["output"], "listening\n<b>oops</b>\x01\n");
    EXPECT_EQ(cases[2]["outcome"], "crashed");
    EXPECT_EQ(cases[2]["crash"]["what"], "killed by SIGSEGV");
    EXPECT_EQ(cases[2]["crash"]["last_output"], "Segmentation fault & core");
    EXPECT_EQ(cases[3]["reason"], "cannot bind 10.9.9.9");
    EXPECT_EQ(cases[4]["outcome"], "not_run");
    EXPECT_EQ(cases[4]["reason"], "the server had stopped");
    EXPECT_EQ(cases[0]["sections"], nlohmann::json::array({"5.1", "6.2"}));
}

TEST(Reports, JsonKeepsAReportWhoseOutputIsNotUtf8) {
    std::vector<CaseResult> rs = every_verdict();
    rs[1].output = "bad \xFF\xFE bytes";
    std::ostringstream out;
    write_json(out, rs, "server");
    const auto j = nlohmann::json::parse(out.str());
    EXPECT_EQ(j["cases"][1]["output"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST(Reports, JunitIsWellFormedAndCountsEachVerdict) {
    std::ostringstream out;
    write_junit(out, every_verdict(), "server");
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(out.str().c_str())) << out.str();
    const pugi::xml_node all = doc.child("testsuites");
    EXPECT_EQ(all.attribute("tests").as_int(), 5);
    EXPECT_EQ(all.attribute("failures").as_int(), 1);
    EXPECT_EQ(all.attribute("errors").as_int(), 1);
    EXPECT_EQ(all.attribute("skipped").as_int(), 2);
    const pugi::xml_node suite = all.child("testsuite");
    EXPECT_STREQ(suite.attribute("name").value(), "\xC2\xA7"
                                                  "5.1 REGISTER");
    std::vector<pugi::xml_node> cases;
    for (const pugi::xml_node c : suite.children("testcase")) {
        cases.push_back(c);
    }
    ASSERT_EQ(cases.size(), 5U);
    EXPECT_TRUE(cases[0].first_child().empty());
    EXPECT_NE(std::string(cases[1].child("failure").attribute("message").value())
                  .find("(line 13): the bytes differ"),
              std::string::npos);
    // The control byte the implementation printed cannot be in XML 1.0: replaced, not dropped.
    EXPECT_STREQ(cases[1].child("system-out").text().get(), "listening\n<b>oops</b>\xEF\xBF\xBD\n");
    EXPECT_STREQ(cases[2].child("error").attribute("message").value(),
                 "crashed: killed by SIGSEGV");
    EXPECT_STREQ(cases[2].child("error").text().get(), "Segmentation fault & core");
    EXPECT_STREQ(cases[4].child("skipped").attribute("message").value(),
                 "not run: the server had stopped");
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

TEST(Reports, HtmlShowsEveryVerdictEscaped) {
    std::ostringstream out;
    write_html(out, every_verdict(), Mode::server, "a <heading>");
    const std::string html = out.str();
    EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
    for (const char* v : {"passed", "failed", "crashed", "skipped", "not_run"}) {
        EXPECT_EQ(count(html, std::string("data-verdict=\"") + v + "\""), 1U) << v;
    }
    // Failing and crashed cases open, the others closed.
    EXPECT_EQ(count(html, "\" open>"), 2U);
    EXPECT_NE(html.find("a &lt;heading&gt;"), std::string::npos);
    EXPECT_NE(html.find("&lt;REGISTER&gt; &amp; &quot;echoes&quot;"), std::string::npos);
    EXPECT_NE(html.find("listening\n&lt;b&gt;oops&lt;/b&gt;\xEF\xBF\xBD\n"), std::string::npos);
    EXPECT_EQ(html.find("<b>oops"), std::string::npos);
    EXPECT_NE(html.find("crashed: killed by SIGSEGV"), std::string::npos);
    EXPECT_NE(html.find("Segmentation fault &amp; core"), std::string::npos);
    EXPECT_NE(html.find("not run: the server had stopped"), std::string::npos);
    // The first difference: byte 4 of REGACK / REGAK, marked in both.
    EXPECT_NE(html.find("&quot;REGA<mark>C</mark>K"), std::string::npos);
    EXPECT_NE(html.find("&quot;REGA<mark>K</mark>\\r"), std::string::npos);
    EXPECT_NE(html.find("first difference at byte 4"), std::string::npos);
    // A diagram per case: connect, one REGISTER arrow for three sends, the REGACK, the close.
    EXPECT_EQ(count(html, "<svg class=\"sequence\""), 5U);
    EXPECT_EQ(count(html, "<g class=\"arrow message"), 10U);
    EXPECT_EQ(count(html, "<g class=\"arrow connect"), 5U);
    EXPECT_EQ(count(html, "<g class=\"arrow close"), 5U);
    EXPECT_NE(html.find(">REGISTER</text>"), std::string::npos);
    // The failing step (line 13, the REGACK) in red, in the two cases that failed there.
    EXPECT_EQ(count(html, "<g class=\"arrow message at-fault\" data-from=\"server\""), 2U);
    // Self-contained: the only address is the SVG namespace, which is never fetched.
    EXPECT_EQ(count(html, "http"), count(html, "http://www.w3.org/2000/svg"));
    EXPECT_EQ(count(html, " src="), 0U);
}

using tcpchat::conformance::grade::parse_list;

TEST(GradeList, ReadsEachKeyAndKeepsTheOrder) {
    const auto list = parse_list("# submissions\n\n"
                                 "  bob: server = python3 srv.py --port={port}  # not a comment\n"
                                 "alice: client = ./client --id={id} --port={port}\n"
                                 "bob: client = python3 cli.py\r\n"
                                 "carol-2.0: server-at = 127.0.0.1:5555\n");
    ASSERT_TRUE(list.errors.empty()) << list.errors.front().message;
    ASSERT_EQ(list.implementations.size(), 3U);
    EXPECT_EQ(list.implementations[0].name, "bob");
    EXPECT_EQ(list.implementations[0].server, "python3 srv.py --port={port}  # not a comment");
    EXPECT_EQ(list.implementations[0].client, "python3 cli.py");
    EXPECT_EQ(list.implementations[1].name, "alice");
    EXPECT_EQ(list.implementations[1].client, "./client --id={id} --port={port}");
    EXPECT_TRUE(list.implementations[1].server.empty());
    EXPECT_EQ(list.implementations[2].server_at, "127.0.0.1:5555");
}

struct ListRow {
    std::string text;
    std::size_t line;
    std::string message_part;
};

void PrintTo(const ListRow& row, std::ostream* os) {
    *os << row.message_part;
}

class GradeListErrors : public ::testing::TestWithParam<ListRow> {};

TEST_P(GradeListErrors, NameTheLineAndTheProblem) {
    const auto list = parse_list(GetParam().text);
    ASSERT_EQ(list.errors.size(), 1U) << GetParam().text;
    EXPECT_EQ(list.errors[0].line, GetParam().line);
    EXPECT_NE(list.errors[0].message.find(GetParam().message_part), std::string::npos)
        << list.errors[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, GradeListErrors,
    ::testing::Values(ListRow{"a server = x\n", 1, "expected NAME:"},
                      ListRow{"# c\na: server x\n", 2, "expected NAME:"},
                      ListRow{"a: server =\n", 1, "no value"},
                      ListRow{"a: servr = x\n", 1, "unknown key 'servr'"},
                      ListRow{"../a: server = x\n", 1, "is not a name"},
                      ListRow{"-a: server = x\n", 1, "is not a name"},
                      ListRow{std::string(65, 'a') + ": server = x\n", 1, "is not a name"},
                      ListRow{"index.html: server = x\n", 1, "a file grade writes"},
                      ListRow{"a: server = x\na: server = y\n", 2, "two server lines"},
                      ListRow{"a: server = x\na: server-at = 127.0.0.1:1\n", 2,
                              "both server and server-at"}));

} // namespace
