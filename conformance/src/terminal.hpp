// The client under test in a pseudo-terminal (spec/transcript-format.md §T.9.3): started with
// forkpty in its own session, typed at, its output read with escape sequences removed, stopped
// with its whole process group.
#pragma once

#include "process.hpp"
#include "socket.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace tcpchat::conformance {

class Terminal {
  public:
    Terminal() = default;
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;
    ~Terminal() { stop(); }

    // Runs `/bin/sh -c command` with NO_COLOR=1 and TERM=dumb; the reason if it cannot.
    std::optional<std::string> start(const std::string& command);

    // Reads what the client printed, waiting up to `wait_ms` for it; notes its end once it exited.
    void read(int wait_ms);
    // Types at the terminal before `until`; false if it cannot be done.
    bool type(std::string_view text, Clock::time_point until);
    // Notes the client's exit status if it has ended (never blocks). It is reaped by stop() only,
    // after its group: see GroupLeader.
    void reap();
    // SIGTERM, then SIGKILL, to the client's whole process group (forkpty made it a session
    // leader, so a shell between us and the client goes too). Bounded: a process that does not
    // die even of SIGKILL within 2 s is left behind rather than hanging the runner.
    void stop();

    // The client's process group; -1 once stopped.
    [[nodiscard]] pid_t group() const noexcept { return leader_.group(); }
    [[nodiscard]] bool readable() const noexcept { return master_.valid() && !output_closed_; }
    [[nodiscard]] bool output_closed() const noexcept { return output_closed_; }

    std::string output;             // everything it printed, escape sequences removed
    std::size_t shown = 0;          // `shows` matched up to here
    std::optional<int> status;      // exit status once it ended (128+N for signal N)
    std::optional<int> wait_status; // as waitpid() gives it
    bool killed = false;            // it had to be killed: SIGTERM did not end it

  private:
    void reap_within(std::chrono::milliseconds limit);
    void append(const char* data, std::size_t n);

    GroupLeader leader_;
    Fd master_;
    bool output_closed_ = false;
    int escape_ = 0;
};

} // namespace tcpchat::conformance
