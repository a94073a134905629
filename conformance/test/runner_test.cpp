// The runner itself: the shipped suite passes our codec, and the runner fails exactly the cases a
// deliberately flawed server or client breaks (a conformance runner that cannot fail proves
// nothing).
#include "flawed_server.hpp"
#include "shipped_cases.hpp"
#include "tcpchat/conformance.hpp"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

using namespace tcpchat::conformance;
using tcpchat::conformance::testing::Flaw;
using tcpchat::conformance::testing::FlawedServer;

const Suite& suite() {
    return tcpchat::conformance::testing::shipped_suite();
}

const Case& find(const std::string& name) {
    return tcpchat::conformance::testing::shipped_case(name);
}

TEST(Suite, LoadsWithoutErrorsAndHasAtLeastSixtyCases) {
    for (const LoadError& e : suite().errors) {
        ADD_FAILURE() << e.path << ":" << e.error.line << ": " << e.error.message;
    }
    EXPECT_GE(suite().cases.size(), 60U); // their sections: spec_sections_test.cpp
}

TEST(CodecMode, OurCodecPassesTheWholeSuite) {
    std::size_t run = 0;
    for (const Case& c : suite().cases) {
        if (!c.applies_to(Mode::codec)) {
            continue;
        }
        ++run;
        const CaseResult r = run_codec(c);
        EXPECT_TRUE(r.passed) << c.name << " line " << (r.failure ? r.failure->line : 0) << ": "
                              << (r.failure ? r.failure->message : "");
    }
    EXPECT_GE(run, 60U);
}

TEST(CodecMode, AWrongExpectationFails) {
    const auto p = tcpchat::transcript::parse_transcript(
        "# T\n\n- Sections: §4.1\n- Modes: codec\n\nWhy.\n\n```transcript\nconnect A server\n"
        "A -> server: \"REGISTER\\nx\"\n  decode error bare_lf at 9\n```\n");
    ASSERT_TRUE(p);
    const CaseResult r = run_codec(p.value());
    EXPECT_FALSE(r.passed);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->line, 11U);
    EXPECT_NE(r.failure->actual.find("bare_lf at 8"), std::string::npos);
}

CaseResult passed_result(const std::string& name) {
    CaseResult r;
    r.test = &find(name);
    r.passed = true;
    return r;
}

TEST(Report, GroupsBySectionAndEndsWithTheSummary) {
    const CaseResult ok = passed_result("5.1-register");
    CaseResult bad;
    bad.test = &find("6.3-alone-twice");
    bad.failure = Failure{12, "the bytes differ", "REGACK\r\n", "REGAK\r\n", true};
    std::ostringstream out;
    print_report(out, {ok, bad}, {});
    const std::string text = out.str();
    EXPECT_NE(text.find("\xC2\xA7"
                        "5.1 REGISTER\n"),
              std::string::npos);
    EXPECT_NE(text.find("\xC2\xA7"
                        "6.3 BRIDGE pairing rule\n"),
              std::string::npos);
    EXPECT_NE(text.find("violates \xC2\xA7"
                        "6.3"),
              std::string::npos);
    EXPECT_NE(text.find("expected: \"REGACK\\r\\n\""), std::string::npos);
    EXPECT_NE(text.find("^ first difference at byte 4"), std::string::npos);
    EXPECT_TRUE(text.ends_with("\n1 passed, 1 failed\n")) << text;
    std::ostringstream junit;
    write_junit(junit, {ok, bad}, "server");
    EXPECT_NE(junit.str().find("failures=\"1\""), std::string::npos);
    std::ostringstream json;
    write_json(json, {ok, bad}, "server");
    EXPECT_NE(json.str().find("\"failed\": 1"), std::string::npos);
}

TEST(Report, CountsSkippedCasesApart) {
    const CaseResult ok = passed_result("5.1-register");
    CaseResult skip;
    skip.test = &find("6.2-re-register-other-address");
    skip.skipped = "cannot bind 10.9.9.9";
    std::ostringstream out;
    print_report(out, {ok, skip}, {});
    const std::string text = out.str();
    EXPECT_NE(text.find("  - 6.2-re-register-other-address: "), std::string::npos) << text;
    EXPECT_NE(text.find("-> skipped: cannot bind 10.9.9.9\n"), std::string::npos) << text;
    EXPECT_TRUE(text.ends_with("\n1 passed, 0 failed, 1 skipped\n")) << text;
    std::ostringstream junit;
    write_junit(junit, {ok, skip}, "server");
    EXPECT_NE(junit.str().find("failures=\"0\" skipped=\"1\""), std::string::npos);
    EXPECT_NE(junit.str().find("<skipped message=\"cannot bind 10.9.9.9\" />"), std::string::npos);
    std::ostringstream json;
    write_json(json, {ok, skip}, "server");
    EXPECT_NE(json.str().find("\"failed\": 0,\n  \"skipped\": 1"), std::string::npos) << json.str();
}

// A crash shows what happened and the server's last lines; the reason for not running is shown
// once for a series of cases with the same reason; the summary counts them apart.
TEST(Report, ShowsCrashesAndCasesNotRun) {
    const CaseResult ok = passed_result("5.1-register");
    CaseResult crash;
    crash.test = &find("4.1-bare-lf");
    crash.failure =
        Failure{13, "a different message arrived", "ERROR", "(connection closed)", false};
    crash.crashed = Crash{"killed by SIGSEGV", "request 2: malformed\nbye"};
    crash.note = "the server was restarted";
    CaseResult later;
    later.test = &find("5.3-bridge-alone");
    later.not_run = "the server stopped during 4.1-bare-lf";
    CaseResult last = later;
    last.test = &find("6.3-alone-twice");
    std::ostringstream out;
    print_report(out, {ok, crash, later, last}, {});
    const std::string text = out.str();
    EXPECT_NE(text.find("  \xC3\x97 4.1-bare-lf: "), std::string::npos) << text;
    EXPECT_NE(text.find("-> crashed: killed by SIGSEGV; the server was restarted\n"
                        "         | request 2: malformed\n"
                        "         | bye\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("  \xC2\xB7 5.3-bridge-alone: "), std::string::npos) << text;
    EXPECT_NE(text.find("  \xC2\xB7 6.3-alone-twice: "), std::string::npos) << text;
    const auto reason = text.find("-> not run: the server stopped during 4.1-bare-lf\n");
    EXPECT_NE(reason, std::string::npos) << text;
    EXPECT_EQ(text.find("-> not run:", reason + 1), std::string::npos) << "shown twice:\n" << text;
    EXPECT_TRUE(text.ends_with("\n1 passed, 1 failed, 2 not run\n")) << text;
    CaseResult hung;
    hung.test = &find("5.3-bridge-alone");
    hung.failure = Failure{23, "A did not connect to server within the timeout", {}, {}, false};
    hung.note = "the client was still running at the end of the case: stopped with SIGTERM";
    std::ostringstream hung_out;
    print_report(hung_out, {hung}, {});
    EXPECT_NE(hung_out.str().find("within the timeout\n      -> the client was still running"),
              std::string::npos)
        << hung_out.str();
}

struct FlawRow {
    std::string name;
    Flaw flaw;
    std::set<std::string> fail;
    std::set<std::string> pass;
};

// The row's name, so that CTest lists `.../NoFlaw  # GetParam() = NoFlaw`, not the bytes.
void PrintTo(const FlawRow& row, std::ostream* os) {
    *os << row.name;
}

class FlawedServers : public ::testing::TestWithParam<FlawRow> {};

TEST_P(FlawedServers, FailTheCasesTheirFlawBreaks) {
    FlawedServer server(GetParam().flaw);
    LiveOptions o;
    // Generous for a loaded machine; the cases expected to fail wait this long at most once.
    o.timeout = std::chrono::milliseconds(3000);
    o.server_host = "127.0.0.1";
    o.server_port = server.port();
    o.run_id = make_run_id();
    std::vector<std::string> names(GetParam().pass.begin(), GetParam().pass.end());
    names.insert(names.end(), GetParam().fail.begin(), GetParam().fail.end());
    // Cases that pass run first: a server that dies must not take them down with it.
    for (const std::string& name : names) {
        const CaseResult r = run_server(find(name), o);
        if (GetParam().fail.contains(name)) {
            EXPECT_FALSE(r.passed) << name << " should fail against this server";
        } else {
            EXPECT_TRUE(r.passed) << name
                                  << " should pass: " << (r.failure ? r.failure->message : "");
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Runner, FlawedServers,
    ::testing::Values(
        FlawRow{"NoFlaw",
                Flaw::none,
                {},
                {"5.1-register", "5.3-bridge-alone", "6.3-alone-twice", "6.3-two-clients-a-first",
                 "4.1-bare-lf", "6.2-re-register-other-address", "7-id-past-limit"}},
        FlawRow{"NeverCloses", Flaw::never_closes, {"5.1-register", "5.3-bridge-alone"}, {}},
        FlawRow{"MisspellsMethod",
                Flaw::misspells_method,
                {"5.1-register", "6.3-two-clients-a-first"},
                {"4.2-unknown-method"}},
        FlawRow{"BridgesToSelf",
                Flaw::bridges_to_self,
                {"6.3-alone-twice"},
                {"6.3-two-clients-a-first", "5.1-register"}},
        FlawRow{"NoFinalBlankLine", Flaw::no_final_blank, {"5.3-bridge-alone", "5.1-register"}, {}},
        FlawRow{"DiesOnBadInput",
                Flaw::dies_on_bad_input,
                {"4.1-bare-lf", "5.1-register"},
                {"6.3-two-clients-a-first"}}),
    [](const auto& info) { return info.param.name; });

// A source address that cannot be bound (192.0.2.1 is TEST-NET-1, never a local address) makes
// the `from another address` cases skipped, with the reason, instead of failed (§T.5.1).
TEST(ServerMode, SkipsACaseThatNeedsAnUnbindableSourceAddress) {
    FlawedServer server(Flaw::none);
    LiveOptions o;
    o.server_host = "127.0.0.1";
    o.server_port = server.port();
    o.other_address = "192.0.2.1";
    o.run_id = make_run_id();
    const CaseResult r = run_server(find("6.2-re-register-other-address"), o);
    EXPECT_FALSE(r.passed);
    EXPECT_FALSE(r.failure.has_value());
    ASSERT_TRUE(r.skipped.has_value());
    EXPECT_NE(r.skipped->find("192.0.2.1"), std::string::npos) << *r.skipped;
    EXPECT_NE(r.skipped->find("--other-address"), std::string::npos) << *r.skipped;
    // A case that does not need it still runs.
    EXPECT_TRUE(run_server(find("5.1-register"), o).passed);
}

#ifdef TCPCHAT_FLAWED_CLIENT
struct ClientRow {
    std::string name;
    std::string flaw;
    bool passes;
};

void PrintTo(const ClientRow& row, std::ostream* os) {
    *os << row.name;
}

class FlawedClients : public ::testing::TestWithParam<ClientRow> {};

TEST_P(FlawedClients, FailTheCasesTheirFlawBreaks) {
    LiveOptions o;
    o.timeout = std::chrono::milliseconds(3000);
    o.run_id = make_run_id();
    o.exec = std::string(TCPCHAT_FLAWED_CLIENT) + " --flaw=" + GetParam().flaw +
             " --id={id} --port={port} --server={server}";
    for (const char* name : {"5.1-register", "5.3-bridge-alone"}) {
        const CaseResult r = run_client(find(name), o);
        EXPECT_EQ(r.passed, GetParam().passes)
            << name << ": " << (r.failure ? r.failure->message : "") << "\n"
            << r.output;
    }
}

INSTANTIATE_TEST_SUITE_P(Runner, FlawedClients,
                         ::testing::Values(ClientRow{"NoFlaw", "none", true},
                                           ClientRow{"MisspellsMethod", "misspells", false},
                                           ClientRow{"NoFinalBlankLine", "no-final-blank", false}),
                         [](const auto& info) { return info.param.name; });
#endif

} // namespace

namespace {

// Runs the recorder in a thread for the duration of a test. Every wait is bounded: the port is
// awaited for 10 s, and the recording ends after its connections, after 30 s, or when stopped (a
// run that failed before its connection reached the proxy must not leave the proxy waiting).
class Recording {
  public:
    explicit Recording(RecordOptions options) : options_(std::move(options)) {
        options_.stop = &stop_;
        options_.time_limit = std::chrono::seconds(30);
        thread_ = std::thread([this] {
            status_ = record(
                options_, log_,
                [](std::uint16_t p, void* c) {
                    static_cast<std::promise<std::uint16_t>*>(c)->set_value(p);
                },
                &bound_);
        });
    }
    ~Recording() { finish(true); }
    Recording(const Recording&) = delete;
    Recording& operator=(const Recording&) = delete;

    // The proxy's port, or 0 if it did not start within 10 s.
    std::uint16_t port() {
        auto f = bound_.get_future();
        return f.wait_for(std::chrono::seconds(10)) == std::future_status::ready ? f.get() : 0;
    }
    // Waits for the recording to end (stopping it first if `now`); its status.
    int finish(bool now) {
        if (now) {
            stop_ = true;
        }
        if (thread_.joinable()) {
            thread_.join();
        }
        return status_;
    }
    std::string log() const { return log_.str(); }

  private:
    RecordOptions options_;
    std::atomic<bool> stop_{false};
    std::promise<std::uint16_t> bound_;
    std::ostringstream log_;
    int status_ = -1;
    std::thread thread_;
};

// Records a case with an ERROR and a pairing, then replays the recording with new clientIDs
// against the same server, as a long-running one: the recorded ids must be placeholders, in the
// clientID headers and in the ERROR's Reason, or the server's answers would not match.
TEST(Recorder, WritesATranscriptThatReplaysWithNewClientIDs) {
    FlawedServer server(Flaw::none);
    const Case& original = find("6.3-register-unregistered-bridge");
    RecordOptions o;
    o.target_host = "127.0.0.1";
    o.target_port = server.port();
    o.connections = 5; // the case's connections
    // Per process: two build directories may run this test at the same time.
    o.output = ::testing::TempDir() + "tcpchat-recorded-" + std::to_string(::getpid()) + ".md";
    Recording recording(o);
    const std::uint16_t port = recording.port();
    ASSERT_NE(port, 0) << recording.log();
    LiveOptions live;
    live.server_host = "127.0.0.1";
    live.server_port = port;
    live.run_id = make_run_id();
    live.drain = false; // the recorder counts connections: no others
    const CaseResult run = run_server(original, live);
    EXPECT_TRUE(run.passed) << (run.failure ? run.failure->message : "");
    ASSERT_EQ(recording.finish(!run.passed), 0) << recording.log();

    std::ifstream in(o.output);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const Suite recorded = load_suite({o.output});
    std::remove(o.output.c_str());
    EXPECT_NE(text.find("\"Reason: clientID ${A.id} is not registered\\r\\n\""), std::string::npos)
        << text;
    EXPECT_NE(text.find("\"clientID: ${B.id}\\r\\n\""), std::string::npos) << text;
    EXPECT_EQ(text.find("A-"), std::string::npos) << "a literal clientID is left:\n" << text;
    ASSERT_TRUE(recorded.errors.empty()) << recorded.errors.front().error.message;
    ASSERT_EQ(recorded.cases.size(), 1U);
    const CaseResult codec = run_codec(recorded.cases.front());
    EXPECT_TRUE(codec.passed) << (codec.failure ? codec.failure->message : "");

    LiveOptions again;
    again.server_host = "127.0.0.1";
    again.server_port = server.port();
    again.run_id = make_run_id();
    const CaseResult replay = run_server(recorded.cases.front(), again);
    EXPECT_TRUE(replay.passed) << (replay.failure ? replay.failure->message + "\nexpected " +
                                                        replay.failure->expected + "\nactual " +
                                                        replay.failure->actual
                                                  : "");
}

// Without a deadline, a proxy waiting for a connection that never comes (the runner failed
// before reaching it) would hold the test until CTest kills it.
TEST(Recorder, StopsWhenToldEvenIfNoConnectionCame) {
    FlawedServer server(Flaw::none);
    RecordOptions o;
    o.target_host = "127.0.0.1";
    o.target_port = server.port();
    o.connections = 1;
    o.output = ::testing::TempDir() + "tcpchat-unused-" + std::to_string(::getpid()) + ".md";
    Recording recording(o);
    ASSERT_NE(recording.port(), 0) << recording.log();
    EXPECT_EQ(recording.finish(true), 0) << recording.log();
    EXPECT_NE(recording.log().find("stopped after 0 of 1 connections"), std::string::npos)
        << recording.log();
    std::remove(o.output.c_str());
}

} // namespace
