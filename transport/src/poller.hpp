// Readiness of one thread's sockets in one epoll set of its own, which Asio watches as a single
// descriptor (transport/README.md, "The request path"). Each socket is added once, edge-triggered
// for reading and the peer's FIN (for writing only when a write could not finish), and leaves
// the set by being closed: no system call per wait, none to re-arm, none to remove. Asio's reactor
// would spend one on each (epoll_ctl MOD per wait, DEL before close) plus an ioctl to make the
// socket non-blocking.
#pragma once

#include "tcpchat/handler_memory.hpp"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <sys/epoll.h>
#include <system_error>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace tcpchat::detail {

class Poller {
  public:
    // Receives the events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, ...) of the socket added with `token`;
    // once with `stopped_token` when a wait ends without events (stop(), or the io_context going
    // away), after which the poller touches nothing of its owner's.
    using OnReady = void (*)(void* context, std::uint64_t token, std::uint32_t events);
    static constexpr std::uint64_t stopped_token = ~std::uint64_t{0};

    Poller(boost::asio::io_context& io, OnReady on_ready, void* context);
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    // Watches `fd` until it is closed (or remove()d); `events` as for epoll_ctl, e.g.
    // EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET.
    [[nodiscard]] std::error_code add(int fd, std::uint32_t events, std::uint64_t token);
    [[nodiscard]] std::error_code modify(int fd, std::uint32_t events, std::uint64_t token);
    void remove(int fd);

    // Starts waiting; stop() cancels the wait, so the io_context can run out of work.
    void start();
    void stop();

  private:
    std::error_code control(int operation, int fd, std::uint32_t events, std::uint64_t token);
    void wait();
    void on_readable(const boost::system::error_code& ec);

    boost::asio::posix::stream_descriptor set_; // the epoll descriptor itself
    OnReady on_ready_;
    void* context_;
    tcpchat::HandlerMemory memory_;
    std::array<epoll_event, 64> events_{};
    bool running_ = false;
};

} // namespace tcpchat::detail
