// The implementation under test as a process group: its end is seen without releasing its
// group's id, so that stopping it can never signal a group that another process took the id of.
#include "process.hpp"
#include "socket.hpp"
#include "terminal.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace tcpchat::conformance;
using namespace std::chrono_literals;

// The state letter of /proc/PID/stat ('Z' for a zombie), or 0 when there is no such process.
char state_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line) || line.rfind(')') == std::string::npos) {
        return 0;
    }
    return line[line.rfind(')') + 2];
}

pid_t pid_in(const std::string& output) {
    return pid_t(std::stol(output.substr(output.find_first_of("0123456789"))));
}

// The pid the command printed on its first line.
pid_t printed_pid(Process& p) {
    std::string out;
    for (auto until = Clock::now() + 10s;
         out.find('\n') == std::string::npos && Clock::now() < until;) {
        out += p.take_output();
    }
    return pid_in(out);
}

// The shell prints its pid (the group's id) and exits at once: once its end has been seen, the pid
// is still held, as a zombie, until stop(); stop() then reaps it.
TEST(Process, HoldsTheGroupIdUntilStopped) {
    Process p("echo $$; exit 3");
    ASSERT_EQ(p.error(), "");
    const auto st = p.exit_status_within(10s);
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFEXITED(*st));
    EXPECT_EQ(WEXITSTATUS(*st), 3);
    const pid_t leader = printed_pid(p);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(state_of(leader), 'Z') << "the leader was reaped before its group was stopped";
    EXPECT_EQ(p.exit_status(), st);
    p.stop();
    EXPECT_EQ(state_of(leader), 0) << "stop() left the leader unreaped";
    EXPECT_EQ(p.exit_status(), st);
}

// The same for a member the leader left behind: stop() still reaches it through the group.
TEST(Process, StopKillsWhatTheEndedLeaderLeftBehind) {
    Process p("sleep 60 & echo $!; exit 0");
    ASSERT_EQ(p.error(), "");
    ASSERT_TRUE(p.exit_status_within(10s));
    const pid_t member = printed_pid(p);
    ASSERT_NE(state_of(member), 0);
    p.stop();
    for (auto until = Clock::now() + 10s;
         state_of(member) != 0 && state_of(member) != 'Z' && Clock::now() < until;) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(state_of(member) == 0 || state_of(member) == 'Z');
}

// A runner killed without a chance to stop what it started (SIGKILL: grade's time limit after
// its grace, the OOM killer) does not leave the implementation running.
TEST(Process, DiesWithARunnerKilledOutright) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t runner = ::fork();
    ASSERT_GE(runner, 0);
    if (runner == 0) {
        ::close(fds[0]);
        Process p("echo $$; exec sleep 60");
        const std::string line = std::to_string(printed_pid(p)) + "\n";
        (void)!::write(fds[1], line.data(), line.size());
        ::pause();
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[32];
    for (ssize_t n;
         out.find('\n') == std::string::npos && (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
        out.append(buf, std::size_t(n));
    }
    ::close(fds[0]);
    ASSERT_NE(out.find('\n'), std::string::npos) << "the runner printed no pid";
    const pid_t implementation = pid_in(out);
    ASSERT_NE(state_of(implementation), 0);
    ::kill(runner, SIGKILL);
    ::waitpid(runner, nullptr, 0);
    for (auto until = Clock::now() + 10s; state_of(implementation) != 0 &&
                                          state_of(implementation) != 'Z' &&
                                          Clock::now() < until;) {
        std::this_thread::sleep_for(10ms);
    }
    const char state = state_of(implementation);
    if (state != 0 && state != 'Z') {
        ::kill(-implementation, SIGKILL); // do not leave it behind for the next test
    }
    EXPECT_TRUE(state == 0 || state == 'Z') << "the implementation outlived its runner";
}

// The first line the process printed, waiting up to 10 s for it.
std::string first_line(Process& p) {
    std::string out;
    for (auto until = Clock::now() + 10s;
         out.find('\n') == std::string::npos && Clock::now() < until;) {
        out += p.take_output();
    }
    return out.substr(0, out.find('\n'));
}

// The kernel gives one port number to sockets at different addresses: a test elsewhere listening
// on 127.0.0.1:P while the server under test listens on 127.0.0.2:P takes no connection of the
// runner's, so the server is still the one listening where the runner connects.
TEST(ListenerOf, AnotherProgramOnTheSamePortAtAnotherAddressIsNotInTheWay) {
    std::string error;
    const Fd other = listen_on("127.0.0.1", 0, error);
    ASSERT_TRUE(other.valid()) << error;
    const std::uint16_t port = local_endpoint(other.get())->port;
    Process server("exec python3 -c 'import socket, time\n"
                   "s = socket.socket(); s.bind((\"127.0.0.2\", " +
                   std::to_string(port) +
                   ")); s.listen()\n"
                   "print(\"listening\", flush=True); time.sleep(60)'");
    ASSERT_EQ(first_line(server), "listening");
    EXPECT_EQ(listener_of({"127.0.0.2", port}, server.group()), Listener::ours);
    EXPECT_EQ(listener_of({"127.0.0.1", port}, server.group()), Listener::foreign);
    EXPECT_EQ(listener_of({"127.0.0.3", port}, server.group()), Listener::none);
}

struct ReachRow {
    std::string name;
    std::string listen_at; // a socket of another program
    std::string connect_to;
    Listener expected;
};

void PrintTo(const ReachRow& row, std::ostream* os) {
    *os << row.name;
}

class ListenersReached : public ::testing::TestWithParam<ReachRow> {};

// Which listening sockets a connection to an address can arrive at: the same address, the
// unspecified address of a family that takes it, an IPv4 address mapped into IPv6; any, when
// the host is not an IP address. The group holds no socket, so each one found is another's.
TEST_P(ListenersReached, AsTheKernelRoutesAConnection) {
    const ReachRow& row = GetParam();
    std::string error;
    const Fd other = listen_on(row.listen_at, 0, error);
    if (!other.valid()) {
        GTEST_SKIP() << error; // no IPv6 on this machine
    }
    const std::uint16_t port = local_endpoint(other.get())->port;
    Process nobody("exec sleep 60");
    ASSERT_EQ(nobody.error(), "");
    EXPECT_EQ(listener_of({row.connect_to, port}, nobody.group()), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Socket, ListenersReached,
    ::testing::Values(ReachRow{"SameAddress", "127.0.0.2", "127.0.0.2", Listener::foreign},
                      ReachRow{"OtherAddress", "127.0.0.1", "127.0.0.2", Listener::none},
                      ReachRow{"AnyIPv4TakesIPv4", "0.0.0.0", "127.0.0.2", Listener::foreign},
                      ReachRow{"AnyIPv4TakesNoIPv6", "0.0.0.0", "::1", Listener::none},
                      ReachRow{"AnyIPv6TakesIPv4", "::", "127.0.0.2", Listener::foreign},
                      ReachRow{"AnyIPv6TakesIPv6", "::", "::1", Listener::foreign},
                      ReachRow{"SameIPv6Address", "::1", "::1", Listener::foreign},
                      ReachRow{"IPv6LoopbackTakesNoIPv4", "::1", "127.0.0.1", Listener::none},
                      ReachRow{"MappedIPv4", "::ffff:127.0.0.2", "127.0.0.2", Listener::foreign},
                      ReachRow{"OtherMappedIPv4", "::ffff:127.0.0.2", "127.0.0.1", Listener::none},
                      ReachRow{"NotAnAddressMeansAnyAddress", "127.0.0.1", "localhost",
                               Listener::foreign}),
    [](const auto& info) { return info.param.name; });

// The client in its terminal: the same rule.
TEST(Terminal, HoldsTheGroupIdUntilStopped) {
    Terminal t;
    ASSERT_FALSE(t.start("echo $$; exit 4"));
    for (auto until = Clock::now() + 10s; !t.status && Clock::now() < until;) {
        t.read(20);
        t.reap();
    }
    ASSERT_EQ(t.status, 4);
    t.read(100);
    const pid_t leader = pid_in(t.output);
    EXPECT_EQ(state_of(leader), 'Z') << "the client was reaped before its group was stopped";
    t.stop();
    EXPECT_EQ(state_of(leader), 0) << "stop() left the client unreaped";
    EXPECT_EQ(t.status, 4);
}

} // namespace
