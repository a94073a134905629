#include "terminal.hpp"

#include "process.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace tcpchat::conformance {

using namespace std::chrono_literals;

std::optional<std::string> Terminal::start(const std::string& command) {
    // The child's environment and arguments are built before the fork: between fork and exec a
    // process with threads may only make async-signal-safe calls (no setenv, no allocation).
    ChildEnvironment env{"NO_COLOR=1", "TERM=dumb"};
    std::string sh = "/bin/sh";
    std::string dash_c = "-c";
    std::string text = command;
    std::array<char*, 4> argv{sh.data(), dash_c.data(), text.data(), nullptr};
    int master = -1;
    winsize size{};
    size.ws_row = 40;
    size.ws_col = 200;
    const pid_t runner = ::getpid();
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid < 0) {
        return "forkpty failed";
    }
    if (pid == 0) {
        die_with(runner);
        ::execve(argv[0], argv.data(), env.get());
        ::_exit(127);
    }
    leader_.adopt(pid); // forkpty made the client a session and group leader
    master_ = Fd(master);
    // Non-blocking, so that typing into a terminal the client does not read cannot hang us.
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    return std::nullopt;
}

void Terminal::reap() {
    if (status) {
        return;
    }
    if (const auto st = leader_.exit_status()) {
        status = WIFEXITED(*st) ? WEXITSTATUS(*st) : 128 + WTERMSIG(*st);
        wait_status = st;
    }
}

void Terminal::reap_within(std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    for (reap(); !status && Clock::now() < until; reap()) {
        std::this_thread::sleep_for(10ms);
    }
}

void Terminal::append(const char* data, std::size_t n) {
    // Strip ANSI escape sequences and CRs so that `shows` matches the text alone.
    for (std::size_t i = 0; i < n; ++i) {
        const char c = data[i];
        if (c == '\x1b') {
            escape_ = 1;
            continue;
        }
        if (escape_ == 1) {
            escape_ = (c == '[') ? 2 : 0;
            continue;
        }
        if (escape_ == 2) {
            if (c >= 0x40 && c <= 0x7E) {
                escape_ = 0;
            }
            continue;
        }
        if (c != '\r') {
            output += c;
        }
    }
}

void Terminal::read(int wait_ms) {
    if (!readable()) {
        reap();
        if (wait_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
        }
        return;
    }
    pollfd p{master_.get(), POLLIN, 0};
    if (::poll(&p, 1, wait_ms) > 0) {
        char buf[4096];
        const ssize_t n = ::read(master_.get(), buf, sizeof buf);
        if (n > 0) {
            append(buf, std::size_t(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            output_closed_ = true; // EIO once the child has exited
        }
    }
    reap();
}

bool Terminal::type(std::string_view text, Clock::time_point until) {
    while (!text.empty() && readable()) {
        const ssize_t n = ::write(master_.get(), text.data(), text.size());
        if (n > 0) {
            text.remove_prefix(std::size_t(n));
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
            return false;
        } else if (Clock::now() >= until) {
            return false;
        } else {
            read(10); // the terminal's buffers are full: let the client's output drain
        }
    }
    return text.empty();
}

void Terminal::stop() {
    if (leader_.started() && !status) {
        leader_.signal_group(SIGTERM);
        reap_within(1000ms);
        if (!status) {
            killed = true;
            leader_.signal_group(SIGKILL);
            reap_within(2000ms);
        }
        // A member of the group that outlives the shell by a second ignored SIGTERM.
        const auto until = Clock::now() + 1000ms;
        while (group_alive(leader_.group()) && Clock::now() < until) {
            std::this_thread::sleep_for(10ms);
        }
        if (group_alive(leader_.group())) {
            killed = true;
        }
    }
    leader_.release(); // SIGKILL to what is left of the group, then the client is reaped
    master_.reset();
}

} // namespace tcpchat::conformance
