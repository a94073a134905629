// Plain POSIX sockets with deadlines, for the live modes and the recorder. Everything here waits
// with poll() against a deadline, so that no case can hang the runner.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpchat::conformance {

using Clock = std::chrono::steady_clock;

// An owned file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    int release() noexcept;
    void reset() noexcept;

  private:
    int fd_ = -1;
};

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
};

// A listening TCP socket on host:port (port 0: any free port); `error` says why not. It is
// non-blocking, so that accepting a connection that was reset after poll() cannot block.
[[nodiscard]] Fd listen_on(const std::string& host, std::uint16_t port, std::string& error);
// Connects, optionally from a given source address, within the deadline; TCP_NODELAY is set.
[[nodiscard]] Fd connect_to(const Endpoint& to, const std::string& source,
                            Clock::time_point deadline, std::string& error);
// Accepts one connection within the deadline (invalid Fd on timeout).
[[nodiscard]] Fd accept_from(int listener, Clock::time_point deadline);

// Whether a connection to `to_host` can be opened from the local address `source` (a socket of
// to_host's family can be bound to it); `error` says why not.
[[nodiscard]] bool can_connect_from(const std::string& source, const std::string& to_host,
                                    std::string& error);

[[nodiscard]] std::optional<Endpoint> local_endpoint(int fd);
[[nodiscard]] std::optional<Endpoint> peer_endpoint(int fd);

// Writes all bytes before the deadline; false on error (EPIPE, reset) or when the peer does not
// read them in time (a full send buffer must not hang the runner).
bool write_all(int fd, std::string_view bytes, Clock::time_point deadline);

// The inodes of the TCP sockets of this machine that listen where a connection to `to` can
// arrive: on its port, at its address or an unspecified one (0.0.0.0, ::) that takes it; at any
// address when to.host is not an IP address. A socket on the same port at another address
// (127.0.0.1 beside 127.0.0.2) is not in the way: the kernel hands out one port number to both.
// As the kernel lists them in /proc/net/tcp and /proc/net/tcp6; whose they are is in
// /proc/PID/fd. Unlike a connection, asking this disturbs no server.
[[nodiscard]] std::vector<unsigned long> listening_sockets(const Endpoint& to);

// Waits until fd is readable or the deadline passes; true if readable.
bool wait_readable(int fd, Clock::time_point deadline);

} // namespace tcpchat::conformance
