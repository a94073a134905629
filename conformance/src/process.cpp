#include "process.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tcpchat::conformance {

using namespace std::chrono_literals;

namespace {

constexpr std::size_t output_limit = 64 * 1024;

std::string signal_name(int sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

} // namespace

std::string fill_command(std::string command,
                         std::initializer_list<std::pair<std::string_view, std::string>> values) {
    for (const auto& [what, with] : values) {
        for (std::size_t at = 0; (at = command.find(what, at)) != std::string::npos;
             at += with.size()) {
            command.replace(at, what.size(), with);
        }
    }
    return command;
}

std::string describe_exit(int wait_status) {
    if (WIFSIGNALED(wait_status)) {
        return "killed by " + signal_name(WTERMSIG(wait_status));
    }
    const int code = WEXITSTATUS(wait_status);
    if (code > 128 && code < 128 + NSIG) {
        // The implementation runs under `sh -c`, which reports a program killed by signal N as
        // status 128 + N (dash does not replace itself with the program).
        return "killed by " + signal_name(code - 128) + " (status " + std::to_string(code) +
               " from the shell)";
    }
    return "exited with status " + std::to_string(code);
}

std::string last_lines(std::string_view text, std::size_t n) {
    if (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    std::size_t start = text.size();
    for (std::size_t lines = 0; start > 0 && lines < n; --start) {
        if (text[start - 1] == '\n' && ++lines == n) {
            break;
        }
    }
    return std::string(text.substr(start));
}

namespace {

// A fixed table of atomics: a signal handler may read it while the program changes it.
std::array<std::atomic<pid_t>, 64> tracked_groups{};

extern "C" void stop_groups_and_exit(int sig) {
    kill_tracked_groups();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

} // namespace

void track_group(pid_t group) noexcept {
    for (auto& slot : tracked_groups) {
        pid_t empty = 0;
        if (slot.compare_exchange_strong(empty, group)) {
            return;
        }
    }
}

void untrack_group(pid_t group) noexcept {
    for (auto& slot : tracked_groups) {
        pid_t expected = group;
        if (slot.compare_exchange_strong(expected, 0)) {
            return;
        }
    }
}

void die_with(pid_t runner) noexcept {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != runner) { // the runner died before the request took effect
        ::_exit(127);
    }
}

void kill_tracked_groups() noexcept {
    for (auto& slot : tracked_groups) {
        if (const pid_t group = slot.load(); group > 0) {
            ::kill(-group, SIGKILL);
        }
    }
}

void stop_groups_on_signal() noexcept {
    ::signal(SIGINT, stop_groups_and_exit);
    ::signal(SIGTERM, stop_groups_and_exit);
}

namespace {

// The pids of the live processes of a group, as /proc lists them. Zombies do not count: they hold
// nothing, and whoever adopted them may never reap them (a container's init).
std::vector<std::string> members_of(pid_t group) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in(entry.path() / "stat");
        std::string line;
        std::getline(in, line);
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        const auto close = line.rfind(')');
        char state = 0;
        long ppid = 0;
        long pgrp = 0;
        if (close != std::string::npos &&
            std::sscanf(line.c_str() + close + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 &&
            pgrp == group && state != 'Z') {
            out.push_back(name);
        }
    }
    return out;
}

} // namespace

bool group_alive(pid_t group) {
    return !members_of(group).empty();
}

std::vector<unsigned long> sockets_of_group(pid_t group) {
    std::vector<unsigned long> out;
    for (const std::string& pid : members_of(group)) {
        std::error_code ec;
        for (const auto& fd : std::filesystem::directory_iterator("/proc/" + pid + "/fd", ec)) {
            // A socket's link reads "socket:[INODE]".
            const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
            unsigned long inode = 0;
            if (!ec && std::sscanf(target.c_str(), "socket:[%lu]", &inode) == 1) {
                out.push_back(inode);
            }
        }
    }
    return out;
}

int wait_status_of(const siginfo_t& info) noexcept {
    switch (info.si_code) {
    case CLD_EXITED: return (info.si_status & 0xFF) << 8;
    case CLD_DUMPED: return info.si_status | 0x80;
    default: return info.si_status; // CLD_KILLED
    }
}

void GroupLeader::adopt(pid_t pid) noexcept {
    release();
    pid_ = pid;
    status_.reset();
    track_group(pid);
}

std::optional<int> GroupLeader::exit_status() noexcept {
    if (pid_ > 0 && !status_) {
        siginfo_t info{};
        if (::waitid(P_PID, id_t(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid_) {
            status_ = wait_status_of(info);
        }
    }
    return status_;
}

std::optional<int> GroupLeader::exit_status_within(std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (!exit_status() && Clock::now() < until) {
        std::this_thread::sleep_for(10ms);
    }
    return status_;
}

void GroupLeader::signal_group(int sig) const noexcept {
    if (pid_ > 0) {
        ::kill(-pid_, sig);
    }
}

void GroupLeader::release() noexcept {
    if (pid_ <= 0) {
        return;
    }
    signal_group(SIGKILL);
    const auto until = Clock::now() + 2000ms;
    for (int st = 0; Clock::now() < until; std::this_thread::sleep_for(10ms)) {
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR)) {
            if (r == pid_ && !status_) {
                status_ = st;
            }
            break;
        }
    }
    untrack_group(pid_);
    pid_ = -1;
}

Listener listener_of(const Endpoint& to, pid_t group) {
    const auto listening = listening_sockets(to);
    if (listening.empty()) {
        return Listener::none;
    }
    const auto held = sockets_of_group(group);
    for (const unsigned long inode : listening) {
        if (std::find(held.begin(), held.end(), inode) == held.end()) {
            return Listener::foreign;
        }
    }
    return Listener::ours;
}

ChildEnvironment::ChildEnvironment(std::initializer_list<std::string_view> set) {
    for (const std::string_view s : set) {
        text_.emplace_back(s);
    }
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry = *e;
        bool replaced = false;
        for (const std::string_view s : set) {
            const auto name = s.substr(0, s.find('=') + 1);
            replaced = replaced || entry.starts_with(name);
        }
        if (!replaced) {
            text_.emplace_back(entry);
        }
    }
    for (std::string& t : text_) {
        pointers_.push_back(t.data());
    }
    pointers_.push_back(nullptr);
}

Process::Process(const std::string& command) {
    // Unbuffered Python output, so that what a Python server printed before it died reaches us.
    ChildEnvironment env{"PYTHONUNBUFFERED=1"};
    std::string sh = "/bin/sh";
    std::string dash_c = "-c";
    std::string text = command;
    std::array<char*, 4> argv{sh.data(), dash_c.data(), text.data(), nullptr};
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        error_ = std::string("pipe: ") + std::strerror(errno);
        return;
    }
    Fd read_end(pipe_fds[0]);
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    Fd write_end(pipe_fds[1]);
    Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const pid_t runner = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        error_ = std::string("fork: ") + std::strerror(errno);
        return;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        die_with(runner);
        ::dup2(null.get(), STDIN_FILENO);
        ::dup2(write_end.get(), STDOUT_FILENO);
        ::dup2(write_end.get(), STDERR_FILENO);
        ::execve(argv[0], argv.data(), env.get());
        ::_exit(127);
    }
    ::setpgid(pid, pid); // also here, so that stop() reaches the group even before the child ran
    leader_.adopt(pid);
    output_fd_ = std::move(read_end);
    reader_ = std::thread([this] { read_output(); });
}

Process::~Process() {
    stop();
}

bool Process::read_available() {
    // Under the lock, so that what two threads read is appended in the order it was written.
    const std::lock_guard lock(mutex_);
    if (output_closed_) {
        return false;
    }
    char buf[4096];
    const ssize_t n = ::read(output_fd_.get(), buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        output_closed_ = true; // every process of the group has closed its output
        return false;
    }
    if (n > 0) {
        output_.append(buf, std::size_t(n));
        if (output_.size() > 2 * output_limit) {
            output_.erase(0, output_.size() - output_limit);
        }
    }
    return true;
}

void Process::read_output() {
    while (!stopping_) {
        pollfd p{output_fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 50) > 0 && !read_available()) {
            return;
        }
    }
}

void Process::stop() {
    if (leader_.started() && !stopped_) {
        stopped_ = true;
        // The group, not only the shell: whatever the command started goes too.
        leader_.signal_group(SIGTERM);
        if (!leader_.exit_status_within(1000ms)) {
            leader_.signal_group(SIGKILL);
            leader_.exit_status_within(2000ms);
        }
        leader_.release(); // members that outlived the leader are killed, then it is reaped
    }
    // Let the reader take what was printed last, then end it (a process that left the group may
    // still hold the pipe: the reader does not wait for it).
    for (int i = 0; i < 20 && reader_.joinable(); ++i) {
        pollfd p{output_fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) {
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    stopping_ = true;
    if (reader_.joinable()) {
        reader_.join();
    }
}

std::string Process::take_output() {
    // What is under way in the pipe belongs to the case that just ended: read until the pipe has
    // been quiet for a moment (bounded: a process printing without pause cannot hold us).
    const auto until = Clock::now() + 200ms;
    for (pollfd p{output_fd_.get(), POLLIN, 0};
         output_fd_.valid() && Clock::now() < until && ::poll(&p, 1, 20) > 0;) {
        if (!read_available()) {
            break;
        }
    }
    const std::lock_guard lock(mutex_);
    std::string out = std::move(output_);
    output_.clear();
    if (out.size() > output_limit) {
        out.erase(0, out.size() - output_limit);
    }
    return out;
}

} // namespace tcpchat::conformance
