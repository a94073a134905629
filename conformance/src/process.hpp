// The implementation under test as a process: started in its own process group, its output
// captured, its end observed and described. Nothing it spawns outlives stop().
#pragma once

#include "socket.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <sys/wait.h>
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
// The inodes of the sockets that the processes of this group hold open (see listening_sockets()).
[[nodiscard]] std::vector<unsigned long> sockets_of_group(pid_t group);

// Who listens where the runner connects to an implementation under test (see
// listening_sockets()): its process group alone, nobody, or (also) another program. The runner
// picks a free port and releases it before the implementation binds it, so another program
// (another run of `grade -j N`, another test) can take it in between; connections to it may then
// reach that program.
enum class Listener { ours, none, foreign };
[[nodiscard]] Listener listener_of(const Endpoint& to, pid_t group);

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
// For the child between fork and exec: the implementation is killed when the runner dies
// without a chance to stop it (SIGKILL, a crash), instead of serving on, orphaned, a port a
// later run may be given. Async-signal-safe; `runner` is the runner's pid, taken before the fork.
// Only what was started from the runner's main thread may use it (the signal follows the thread).
void die_with(pid_t runner) noexcept;

// waitid()'s report of a child's end as the status waitpid() would have given.
[[nodiscard]] int wait_status_of(const siginfo_t& info) noexcept;

// A child that leads its own process group. Its end is observed without reaping it (waitid with
// WNOWAIT): an unreaped leader keeps its pid, and with it the group's id, from being given to a
// new process, so that signalling the group never reaches a stranger; a reaped leader's group
// id is free again as soon as the group empties. release() kills what is left of the group and
// only then reaps the leader.
class GroupLeader {
  public:
    GroupLeader() = default;
    GroupLeader(const GroupLeader&) = delete;
    GroupLeader& operator=(const GroupLeader&) = delete;
    ~GroupLeader() { release(); }

    // Takes charge of a child just forked into its own group (and tracks the group).
    void adopt(pid_t pid) noexcept;
    [[nodiscard]] bool started() const noexcept { return pid_ > 0; }
    [[nodiscard]] pid_t group() const noexcept { return pid_; } // -1 once released
    // The waitpid() status once the leader has ended; never blocks, never reaps.
    [[nodiscard]] std::optional<int> exit_status() noexcept;
    std::optional<int> exit_status_within(std::chrono::milliseconds limit);
    // A signal to every process of the group; nothing once released.
    void signal_group(int sig) const noexcept;
    // SIGKILL to the group, then the leader reaped (waiting 2 s at most for it to end).
    void release() noexcept;

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

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
    [[nodiscard]] std::optional<int> exit_status() { return leader_.exit_status(); }
    // Waits up to `limit` for the process to end.
    std::optional<int> exit_status_within(std::chrono::milliseconds limit) {
        return leader_.exit_status_within(limit);
    }
    // SIGTERM to the whole group, SIGKILL after 1 s; bounded (2 s more at most). The group is
    // signalled for as long as the shell is not reaped, so never a group that another process
    // took the id of.
    void stop();
    // Its process group's id; -1 once stopped.
    [[nodiscard]] pid_t group() const noexcept { return leader_.group(); }
    // What it printed since the last call (at most the last 64 KiB of it).
    [[nodiscard]] std::string take_output();

  private:
    void read_output();
    bool read_available(); // false once the pipe is closed

    GroupLeader leader_;
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
