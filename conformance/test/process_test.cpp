// The implementation under test as a process group: its end is seen without releasing its
// group's id, so that stopping it can never signal a group that another process took the id of.
#include "process.hpp"
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
