// The runner supervises the implementation under test: a server or client that crashes, stops
// accepting or hangs is reported against the case during which it happened, with what it
// printed; with --exec the server is restarted and every other case is still judged, without
// it the cases after the stop are not run.
#include "flawed_server.hpp"
#include "shipped_cases.hpp"
#include "tcpchat/conformance.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace tcpchat::conformance;
using namespace std::chrono_literals;
using tcpchat::conformance::testing::Flaw;
using tcpchat::conformance::testing::FlawedServer;
using tcpchat::conformance::testing::shipped_case;

std::vector<const Case*> cases(std::initializer_list<const char*> names) {
    std::vector<const Case*> out;
    for (const char* n : names) {
        out.push_back(&shipped_case(n));
    }
    return out;
}

// A bad request in the middle: the flaws below strike at 4.1-bare-lf, the second case.
std::vector<const Case*> around_a_bad_request() {
    return cases({"5.1-register", "4.1-bare-lf", "5.3-bridge-alone", "6.3-alone-twice"});
}

LiveOptions options() {
    LiveOptions o;
    o.timeout = 3000ms; // generous for a loaded machine; a hang costs it twice
    o.server_host = "127.0.0.1";
    o.run_id = make_run_id();
    return o;
}

LiveOptions supervising(const std::string& flaw) {
    LiveOptions o = options();
    o.exec =
        std::string(TCPCHAT_FLAWED_SERVER) + " --flaw=" + flaw + " --host={host} --port={port}";
    return o;
}

std::string explain(const CaseResult& r) {
    std::string out = r.test->name + ":";
    if (r.failure) {
        out += " failed at line " + std::to_string(r.failure->line) + ": " + r.failure->message;
    }
    if (r.crashed) {
        out += " crashed: " + r.crashed->what;
    }
    if (r.not_run) {
        out += " not run: " + *r.not_run;
    }
    return out + "\n" + r.output;
}

struct CrashRow {
    std::string name;
    std::string flaw;
    std::string what; // part of Crash::what
};

void PrintTo(const CrashRow& row, std::ostream* os) {
    *os << row.name;
}

class SupervisedServers : public ::testing::TestWithParam<CrashRow> {};

// The crash is the second case's, with the server's last words; the server is restarted and the
// cases around it pass.
TEST_P(SupervisedServers, AttributeTheCrashAndRestart) {
    const auto results =
        run_suite(Mode::server, around_a_bad_request(), supervising(GetParam().flaw));
    ASSERT_EQ(results.size(), 4U);
    for (std::size_t i : {0U, 2U, 3U}) {
        EXPECT_TRUE(results[i].passed) << explain(results[i]);
        EXPECT_FALSE(results[i].crashed) << explain(results[i]);
    }
    const CaseResult& bad = results[1];
    EXPECT_FALSE(bad.passed);
    EXPECT_FALSE(bad.not_run);
    ASSERT_TRUE(bad.crashed) << explain(bad);
    EXPECT_NE(bad.crashed->what.find(GetParam().what), std::string::npos) << bad.crashed->what;
    // Its output: the server's line for the malformed request, and nothing of other cases.
    EXPECT_NE(bad.crashed->last_output.find("malformed"), std::string::npos) << explain(bad);
    EXPECT_NE(bad.output.find("malformed"), std::string::npos) << explain(bad);
    EXPECT_EQ(results[0].output.find("malformed"), std::string::npos) << explain(results[0]);
    EXPECT_NE(results[0].output.find("served"), std::string::npos) << explain(results[0]);
    EXPECT_NE(bad.note.find("restarted"), std::string::npos) << bad.note;
}

INSTANTIATE_TEST_SUITE_P(
    Runner, SupervisedServers,
    ::testing::Values(CrashRow{"Exits", "exits_on_bad_input", "exited with status 1"},
                      CrashRow{"Segfaults", "segfaults_on_bad_input", "killed by SIGSEGV"},
                      CrashRow{"ThrowsUncaught", "throws_on_bad_input", "killed by SIGABRT"},
                      CrashRow{"StopsAccepting", "dies_on_bad_input",
                               "stopped accepting connections (still running"},
                      CrashRow{"Hangs", "hangs_on_bad_input", "stopped responding"}),
    [](const auto& info) { return info.param.name; });

// Flaws that break cases without stopping the server are failures, not crashes.
TEST(SupervisedServer, AServerThatMisreadsASplitRequestFailsThatCaseOnly) {
    const auto results =
        run_suite(Mode::server, cases({"5.1-register", "4.1-drip-request", "5.3-bridge-alone"}),
                  supervising("one_recv"));
    ASSERT_EQ(results.size(), 3U);
    EXPECT_TRUE(results[0].passed) << explain(results[0]);
    EXPECT_FALSE(results[1].passed) << explain(results[1]);
    EXPECT_FALSE(results[1].crashed) << explain(results[1]);
    EXPECT_TRUE(results[2].passed) << explain(results[2]);
}

TEST(SupervisedServer, AServerThatNeverClosesFailsButHasNotCrashed) {
    const auto results = run_suite(Mode::server, cases({"5.1-register", "5.3-bridge-alone"}),
                                   supervising("never_closes"));
    ASSERT_EQ(results.size(), 2U);
    for (const CaseResult& r : results) {
        EXPECT_FALSE(r.passed) << explain(r);
        EXPECT_FALSE(r.crashed) << explain(r);
        EXPECT_FALSE(r.not_run) << explain(r);
    }
}

// --fresh: every case meets a server that has served nothing yet (its first request is its
// request 1); without it, the second case meets the first case's server.
TEST(SupervisedServer, FreshRestartsTheServerBeforeEveryCase) {
    LiveOptions o = supervising("none");
    o.drain = false; // no requests but the cases'
    const auto two = cases({"5.1-register", "5.3-bridge-alone"});
    o.fresh = true;
    const auto fresh = run_suite(Mode::server, two, o);
    ASSERT_EQ(fresh.size(), 2U);
    o.fresh = false;
    const auto shared = run_suite(Mode::server, two, o);
    ASSERT_EQ(shared.size(), 2U);
    for (const CaseResult& r : fresh) {
        EXPECT_TRUE(r.passed) << explain(r);
        EXPECT_NE(r.output.find("request 1: served"), std::string::npos) << explain(r);
    }
    EXPECT_TRUE(shared[1].passed) << explain(shared[1]);
    EXPECT_EQ(shared[1].output.find("request 1: served"), std::string::npos) << explain(shared[1]);
    EXPECT_NE(shared[1].output.find("request 2: served"), std::string::npos) << explain(shared[1]);
}

// Between the runner choosing a free port and the server binding it, another program (another
// run of `grade -j N`) may take the port. Here the command's first start hands its port to the
// test, which listens there with a server that misspells REGACK, and only then starts the right
// server, which cannot bind: the runner must not take the other listener for its server, but
// start the server again on another port and judge that one.
TEST(SupervisedServer, APortTakenByAnotherProgramIsLeftToIt) {
    const std::string handoff =
        ::testing::TempDir() + "tcpchat-squat-" + std::to_string(::getpid()) + "-" + make_run_id();
    LiveOptions o = supervising("none");
    o.exec = "if [ ! -e " + handoff + ".port ]; then echo {port} > " + handoff + ".tmp && mv " +
             handoff + ".tmp " + handoff + ".port; while [ ! -e " + handoff +
             ".taken ]; do sleep 0.05; done; fi; exec " + o.exec;
    std::unique_ptr<FlawedServer> squatter;
    std::thread take([&] {
        for (auto until = std::chrono::steady_clock::now() + 30s;
             std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms)) {
            std::ifstream in(handoff + ".port");
            int port = 0;
            if (in >> port) {
                squatter = std::make_unique<FlawedServer>(Flaw::misspells_method, "127.0.0.1",
                                                          std::uint16_t(port));
                std::ofstream(handoff + ".taken") << "taken\n";
                return;
            }
        }
    });
    const auto results = run_suite(Mode::server, cases({"5.1-register", "5.3-bridge-alone"}), o);
    take.join();
    std::remove((handoff + ".port").c_str());
    std::remove((handoff + ".taken").c_str());
    ASSERT_TRUE(squatter) << "the command did not hand its port over";
    ASSERT_EQ(results.size(), 2U);
    for (const CaseResult& r : results) {
        EXPECT_TRUE(r.passed) << explain(r);
        EXPECT_FALSE(r.crashed) << explain(r);
    }
    const std::string taken = "port " + std::to_string(squatter->port()) +
                              " was taken by another program; the server was started on port ";
    EXPECT_NE(results[0].note.find(taken), std::string::npos) << results[0].note;
    EXPECT_EQ(results[1].note, "");
}

// A server that leaves its process group (here by setsid, as a daemon does) cannot be told from
// another program on its port: it is not judged, and the run says why. `timeout` ends the
// servers the runner could not stop.
TEST(SupervisedServer, AServerOutsideItsProcessGroupIsNotJudged) {
    LiveOptions o = supervising("none");
    o.exec = "setsid timeout 30 " + o.exec;
    const auto results = run_suite(Mode::server, cases({"5.1-register"}), o);
    ASSERT_EQ(results.size(), 1U);
    ASSERT_TRUE(results[0].not_run) << explain(results[0]);
    EXPECT_NE(results[0].not_run->find("was taken by another program, 5 times in a row"),
              std::string::npos)
        << *results[0].not_run;
}

TEST(SupervisedServer, AServerThatDoesNotStartLeavesEveryCaseNotRun) {
    LiveOptions o = options();
    o.exec = "echo cannot bind; exit 4";
    const auto results = run_suite(Mode::server, cases({"5.1-register", "5.3-bridge-alone"}), o);
    ASSERT_EQ(results.size(), 2U);
    for (const CaseResult& r : results) {
        EXPECT_FALSE(r.passed);
        ASSERT_TRUE(r.not_run) << explain(r);
        EXPECT_NE(r.not_run->find("exited with status 4 before it listened"), std::string::npos)
            << *r.not_run;
        EXPECT_NE(r.not_run->find("cannot bind"), std::string::npos) << *r.not_run;
    }
}

// A command that never listens is given up after the start timeout, and it is stopped with all
// it started: here a shell and a sleep that ignores SIGTERM and outlives the shell, whose
// process id the test reads back.
TEST(SupervisedServer, AServerThatNeverListensIsStoppedWithItsChildren) {
    const std::string pid_file =
        ::testing::TempDir() + "tcpchat-supervised-" + std::to_string(::getpid()) + ".pid";
    LiveOptions o = options();
    o.exec = "(trap '' TERM; exec sleep 120) & echo $! > " + pid_file + "; wait";
    o.start_timeout = 1000ms;
    const auto results = run_suite(Mode::server, cases({"5.1-register"}), o);
    ASSERT_EQ(results.size(), 1U);
    ASSERT_TRUE(results[0].not_run) << explain(results[0]);
    EXPECT_NE(results[0].not_run->find("did not listen on port"), std::string::npos)
        << *results[0].not_run;
    std::ifstream in(pid_file);
    pid_t child = 0;
    ASSERT_TRUE(in >> child) << "the command did not run";
    std::remove(pid_file.c_str());
    // Gone, or a zombie waiting for whoever adopted it: either way it no longer runs.
    const auto until = std::chrono::steady_clock::now() + 10s;
    char state = 'R';
    while (std::chrono::steady_clock::now() < until) {
        std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
        std::string pid_text;
        std::string name;
        if (!(stat >> pid_text >> name >> state) || state == 'Z') {
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(::kill(child, 0) != 0 || state == 'Z') << "the sleep outlived the run";
}

struct StopRow {
    std::string name;
    Flaw flaw;
    std::string what; // part of Crash::what
};

void PrintTo(const StopRow& row, std::ostream* os) {
    *os << row.name;
}

class UnsupervisedServers : public ::testing::TestWithParam<StopRow> {};

// Without --exec: the stop is reported once, against its case; the cases after it are not run.
TEST_P(UnsupervisedServers, LeaveTheCasesAfterTheStopNotRun) {
    FlawedServer server(GetParam().flaw);
    LiveOptions o = options();
    o.server_port = server.port();
    const auto results = run_suite(Mode::server, around_a_bad_request(), o);
    ASSERT_EQ(results.size(), 4U);
    EXPECT_TRUE(results[0].passed) << explain(results[0]);
    ASSERT_TRUE(results[1].crashed) << explain(results[1]);
    EXPECT_NE(results[1].crashed->what.find(GetParam().what), std::string::npos)
        << results[1].crashed->what;
    EXPECT_FALSE(results[1].not_run);
    for (std::size_t i : {2U, 3U}) {
        EXPECT_FALSE(results[i].passed);
        EXPECT_FALSE(results[i].failure) << explain(results[i]);
        ASSERT_TRUE(results[i].not_run) << explain(results[i]);
        EXPECT_NE(results[i].not_run->find("during 4.1-bare-lf"), std::string::npos)
            << *results[i].not_run;
    }
}

INSTANTIATE_TEST_SUITE_P(Runner, UnsupervisedServers,
                         ::testing::Values(StopRow{"StopsAccepting", Flaw::dies_on_bad_input,
                                                   "stopped accepting connections"},
                                           StopRow{"Hangs", Flaw::hangs_on_bad_input,
                                                   "stopped responding"}),
                         [](const auto& info) { return info.param.name; });

TEST(UnsupervisedServer, NoServerAtAllRunsNoCase) {
    LiveOptions o = options();
    {
        FlawedServer gone(Flaw::none); // a port that was free a moment ago
        o.server_port = gone.port();
    }
    const auto results = run_suite(Mode::server, cases({"5.1-register", "5.3-bridge-alone"}), o);
    ASSERT_EQ(results.size(), 2U);
    for (const CaseResult& r : results) {
        ASSERT_TRUE(r.not_run) << explain(r);
        EXPECT_NE(r.not_run->find("before the first case"), std::string::npos) << *r.not_run;
        EXPECT_FALSE(r.crashed);
    }
}

// The kind of server graders meet most: Python, 127.0.0.2 only, one recv(), dies of bad input.
TEST(SupervisedServer, AFragilePythonServerIsRestartedAfterEachCrash) {
    LiveOptions o = options();
    o.server_host = "127.0.0.2";
    o.exec = std::string("python3 ") + TCPCHAT_FRAGILE_SERVER + " --port={port}";
    o.start_timeout = 20000ms; // Python starts slowly on a loaded machine
    const auto results = run_suite(
        Mode::server,
        cases({"5.1-register", "4.2-unknown-method", "4.1-bare-lf", "5.1-register-port-65535"}), o);
    ASSERT_EQ(results.size(), 4U);
    EXPECT_TRUE(results[0].passed) << explain(results[0]);
    for (std::size_t i : {1U, 2U}) {
        ASSERT_TRUE(results[i].crashed) << explain(results[i]);
        EXPECT_EQ(results[i].crashed->what, "exited with status 1");
        EXPECT_NE(results[i].crashed->last_output.find("ValueError"), std::string::npos)
            << results[i].crashed->last_output;
    }
    EXPECT_TRUE(results[3].passed) << explain(results[3]);
    EXPECT_NE(results[3].output.find("REGISTER A-"), std::string::npos) << explain(results[3]);
}

struct ClientCrashRow {
    std::string name;
    std::string flaw;
    std::string what;
};

void PrintTo(const ClientCrashRow& row, std::ostream* os) {
    *os << row.name;
}

class SupervisedClients : public ::testing::TestWithParam<ClientCrashRow> {};

// The flawed clients fail at /bridge: 5.3-bridge-alone has the crash, and the next case starts a
// new client that passes.
TEST_P(SupervisedClients, AttributeTheCrashToTheCase) {
    LiveOptions o = options();
    o.exec = std::string(TCPCHAT_FLAWED_CLIENT) + " --flaw=" + GetParam().flaw +
             " --id={id} --port={port} --server={server}";
    const auto results =
        run_suite(Mode::client, cases({"5.1-register", "5.3-bridge-alone", "5.1-register"}), o);
    ASSERT_EQ(results.size(), 3U);
    EXPECT_TRUE(results[0].passed) << explain(results[0]);
    EXPECT_FALSE(results[0].crashed) << explain(results[0]);
    EXPECT_TRUE(results[2].passed) << explain(results[2]);
    const CaseResult& bad = results[1];
    EXPECT_FALSE(bad.passed);
    ASSERT_TRUE(bad.crashed) << explain(bad);
    EXPECT_NE(bad.crashed->what.find(GetParam().what), std::string::npos) << bad.crashed->what;
    EXPECT_NE(bad.crashed->last_output.find("bridging"), std::string::npos) << explain(bad);
    EXPECT_NE(bad.output.find("registered"), std::string::npos) << explain(bad);
}

INSTANTIATE_TEST_SUITE_P(
    Runner, SupervisedClients,
    ::testing::Values(ClientCrashRow{"Exits", "exits", "exited with status 3"},
                      ClientCrashRow{"Segfaults", "segfaults", "killed by SIGSEGV"},
                      ClientCrashRow{"ThrowsUncaught", "throws", "killed by SIGABRT"},
                      ClientCrashRow{"IgnoresTermAndHangup", "hangs-hard", "hung"}),
    [](const auto& info) { return info.param.name; });

// A client that hangs is still running when its case gives up on it: the case fails with what
// it printed, the client is stopped, and the next case starts a new one.
TEST(SupervisedClient, AHangingClientFailsItsCaseAndIsStopped) {
    LiveOptions o = options();
    o.exec = std::string(TCPCHAT_FLAWED_CLIENT) +
             " --flaw=hangs --id={id} --port={port} --server={server}";
    const auto results =
        run_suite(Mode::client, cases({"5.1-register", "5.3-bridge-alone", "5.1-register"}), o);
    ASSERT_EQ(results.size(), 3U);
    EXPECT_TRUE(results[0].passed) << explain(results[0]);
    const CaseResult& hung = results[1];
    EXPECT_FALSE(hung.passed);
    ASSERT_TRUE(hung.failure) << explain(hung);
    EXPECT_NE(hung.failure->message.find("within the timeout"), std::string::npos) << explain(hung);
    EXPECT_NE(hung.note.find("still running"), std::string::npos) << hung.note;
    EXPECT_NE(hung.output.find("bridging"), std::string::npos) << explain(hung);
    EXPECT_TRUE(results[2].passed) << explain(results[2]);
}

} // namespace
