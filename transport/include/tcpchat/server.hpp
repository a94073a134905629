// The rendezvous server (spec §6): accepts request connections, reads exactly one request with the
// codec's StreamDecoder, answers it from a Registry, then closes the connection.
//
// The server serves on threads of its own, ServerOptions::threads of them, each running its own
// event loop over its own share of the connections (transport/README.md, "Threads"). The
// io_context the caller owns is where the server reports that it stopped: listen() keeps it
// running until then. Tests start it in-process on port 0 and read the bound port from
// local_endpoint().
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace tcpchat {

// How much the server says (spec §6.6). A line is emitted when its level is at or below the
// configured one: `error` is --quiet, `info` the default, `verbose` adds per-connection lines.
enum class LogLevel : std::uint8_t { error, info, verbose };

// Receives each log line, without a line end. Called from the server's threads, one call at a
// time.
using LogSink = std::function<void(LogLevel, std::string_view line)>;

// What a client gets when its request is refused (spec §9.3): ERROR with a code and reason, or,
// for installed-base clients that crash on any ERROR, what installed-base servers do instead:
// close without a reply (an empty BRIDGEACK for a BRIDGE from an unknown clientID).
enum class ErrorReplies : std::uint8_t { send, close };

struct ServerOptions {
    std::string host = "127.0.0.2"; // listening address, IPv4 or IPv6 text (spec §6.1)
    std::uint16_t port = 5555;      // 0: an ephemeral port, see Server::local_endpoint()
    DecodeOptions decoding{}; // leniency profile and limits of the request decoder (§7, §9.2)
    std::chrono::milliseconds read_timeout{5000}; // whole request, from accept (spec §6.5)
    std::size_t max_connections = 1024; // open request connections; more get ERROR 503 (§6.5)
    bool regack_status = false;         // add `Status: registered` to REGACK (spec §5.2)
    ErrorReplies error_replies = ErrorReplies::send; // --error-replies (spec §9.3)
    // After the reply, unread input is drained for at most this long before closing, so that the
    // close does not turn into a reset that could destroy the reply in flight (spec §6.1).
    std::chrono::milliseconds linger_timeout{1000};
    // stop(): how long in-flight connections may take before they are cut (spec §6.5).
    std::chrono::milliseconds drain_timeout{2000};
    LogLevel log_level = LogLevel::info;
    // Threads serving connections, each with its own listening socket on the same port
    // (SO_REUSEPORT) and its own connections.
    unsigned threads = 1;
};

class Server {
  public:
    Server(boost::asio::io_context& io, ServerOptions options, Registry& registry, LogSink log);
    // Closes the listening socket and every connection, and joins the server's threads; stop()
    // is the graceful way. The io_context must outlive the server.
    ~Server();

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds, listens, logs the start-up line and starts accepting. Returns the bind or listen
    // error (address in use, address not available, ...) instead of throwing.
    [[nodiscard]] std::error_code listen();

    // The address actually bound (valid after a successful listen()).
    [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

    // Graceful stop, callable from any thread: stop accepting, let connections in flight finish
    // for at most drain_timeout, then close the rest. `on_stopped` runs on the io_context once no
    // connection is left (at once on the caller's thread if the server had already stopped); the
    // io_context then runs out of the server's work.
    void stop(std::function<void()> on_stopped = {});

    // Connections open right now (for tests and logs); callable from any thread.
    [[nodiscard]] std::size_t connections() const noexcept;

    // Connections accepted so far, turned-away ones included; callable from any thread.
    [[nodiscard]] std::uint64_t accepted() const noexcept;

    class State; // the shared state connections keep alive; defined in server.cpp

  private:
    void shut_down();

    std::shared_ptr<State> state_;
    std::vector<std::thread> threads_; // one per shard
};

} // namespace tcpchat
