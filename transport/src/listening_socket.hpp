// A listening socket (spec §6.1, §10.3): bound with SO_REUSEADDR, listening with the system's
// backlog, and a pause after a failed accept. The server and WAIT mode each run their own accept
// loop over one of these.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <system_error>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace tcpchat::detail {

// Opens, binds and listens (SO_REUSEADDR; with `reuse_port`, SO_REUSEPORT: other sockets may
// listen on the same address and port, the kernel spreading new connections over them), with the
// system's backlog; close-on-exec, and non-blocking when asked. Returns the descriptor, or -1 with
// `error` set.
[[nodiscard]] int open_listening(const boost::asio::ip::tcp::endpoint& endpoint, bool reuse_port,
                                 bool non_blocking, std::error_code& error);

// The address a socket is bound to (getsockname); the default endpoint on failure.
[[nodiscard]] boost::asio::ip::tcp::endpoint bound_endpoint(int fd);

// The same with Asio's acceptor, for loops that accept through Asio.
class ListeningSocket {
  public:
    template <class Executor>
    explicit ListeningSocket(const Executor& executor) : acceptor_(executor), retry_(executor) {}

    // open_listening(); on failure the socket is left closed.
    [[nodiscard]] std::error_code open(const boost::asio::ip::tcp::endpoint& endpoint,
                                       bool reuse_port = false);

    // After a failed accept (typically out of file descriptors): `again()` shortly, unless the
    // socket is closed meanwhile, instead of spinning on the same error. Whatever `again` needs,
    // this socket included, its captures keep alive.
    template <class Again>
    void retry_later(Again again) {
        retry_.expires_after(retry_pause);
        retry_.async_wait([this, again = std::move(again)](const boost::system::error_code& ec) {
            if (!ec && acceptor_.is_open()) {
                again();
            }
        });
    }

    void close();

    [[nodiscard]] boost::asio::ip::tcp::acceptor& acceptor() noexcept { return acceptor_; }
    [[nodiscard]] bool is_open() const noexcept { return acceptor_.is_open(); }
    [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

    static constexpr std::chrono::milliseconds retry_pause{100};

  private:
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;
};

} // namespace tcpchat::detail
