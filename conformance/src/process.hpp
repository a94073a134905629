// The implementation under test as a process: started in its own process group, its output
// captured, its end observed and described. Nothing it spawns outlives stop().
#pragma once

#include "socket.hpp"

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <utility>
#include <vector>

namespace tcpchat::conformance {

// A command line with its placeholders ("{port}", ...) replaced, each everywhere it occurs.
[[nodiscard]] std::string
fill_command(std::string command,
             std::initializer_list<std::pair<std::string_view, std::string>> values);

// "exited with status 1", "killed by SIGSEGV" for a status from waitpid().
[[nodiscard]] std::string describe_exit(int wait_status);

// The last `n` lines of `text` (a final line without a newline counts).
[[nodiscard]] std::string last_lines(std::string_view text, std::size_t n);

// Whether a process of this process group still runs (zombies aside).
[[nodiscard]] bool group_alive(pid_t group);

// The process groups this runner started and has not stopped yet, so that a runner stopped by a
// signal (Ctrl-C, or grade's time limit) takes them along instead of leaving them running.
// track_group() after the fork, untrack_group() once the group is stopped; kill_tracked_groups()
// is async-signal-safe, for a signal handler.
void track_group(pid_t group) noexcept;
void untrack_group(pid_t group) noexcept;
void kill_tracked_groups() noexcept;
// Installs, for SIGINT and SIGTERM, a handler that kills the tracked groups and then ends this
// process by the same signal.
void stop_groups_on_signal() noexcept;

// The environment of a child process, built before fork(): after fork() a threaded process may
// only make async-signal-safe calls. `set` entries ("NAME=value") replace inherited ones.
class ChildEnvironment {
  public:
    explicit ChildEnvironment(std::initializer_list<std::string_view> set);
    [[nodiscard]] char** get() noexcept { return pointers_.data(); }

  private:
    std::vector<std::string> text_;
    std::vector<char*> pointers_;
};

// `/bin/sh -c command` in a new process group, stdin from /dev/null, stdout and stderr into one
// pipe that a thread reads (so a chatty process never blocks on a full pipe).
class Process {
  public:
    explicit Process(const std::string& command);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // Empty when the process was started; otherwise why not.
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    // The waitpid() status once the process has ended; never blocks.
    [[nodiscard]] std::optional<int> exit_status();
    // Waits up to `limit` for the process to end.
    std::optional<int> exit_status_within(std::chrono::milliseconds limit);
    // SIGTERM to the whole group, SIGKILL after 1 s; bounded (2 s more at most).
    void stop();
    // What it printed since the last call (at most the last 64 KiB of it).
    [[nodiscard]] std::string take_output();

  private:
    void read_output();
    bool read_available(); // false once the pipe is closed

    pid_t pid_ = -1;
    std::optional<int> status_;
    bool stopped_ = false;
    std::string error_;
    Fd output_fd_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::string output_;
    bool output_closed_ = false;
    std::thread reader_;
};

} // namespace tcpchat::conformance
