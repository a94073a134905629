// The rendezvous server's I/O (spec §6.1, §6.5): accept, read one request, reply, close.
//
// Completion handlers rather than C++20 coroutines: the Asio of Boost 1.74 (Debian 12) enables
// co_await on Clang only with libc++'s <experimental/coroutine>, so coroutine code would not build
// with the project's clang-14 + libstdc++ presets (fuzz). The per-connection flow is a short,
// fixed sequence (read until one request, write, drain, close) with one deadline timer, which
// handlers express plainly and with a small, fixed state per connection.
#include "tcpchat/server.hpp"

#include "server_request.hpp"
#include "tcpchat/stream_decoder.hpp"
#include "tcpchat/version.hpp"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <unordered_set>
#include <utility>
#include <vector>

namespace tcpchat {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using server_request::Answer;
using server_request::Peer;

namespace {

Peer peer_of(const tcp::endpoint& endpoint) {
    auto address = endpoint.address();
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; they registered as a.b.c.d.
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    std::string text = address.to_string();
    std::string endpoint_text = server_request::host_port(text, endpoint.port());
    return {std::move(text), std::move(endpoint_text)};
}

} // namespace

class Connection;

class Server::State : public std::enable_shared_from_this<Server::State> {
  public:
    State(asio::io_context& io, ServerOptions options_, Registry& registry_, LogSink sink_)
        : strand(asio::make_strand(io)), acceptor(strand), accept_pause(strand), drain(strand),
          options(std::move(options_)), registry(registry_), sink(std::move(sink_)) {}

    void log(LogLevel level, std::string_view line) const {
        if (level <= options.log_level && sink) {
            sink(level, line);
        }
    }
    void log(const Answer& answer) const {
        for (const auto& line : answer.log) {
            log(line.level, line.text);
        }
    }

    std::error_code listen();
    void accept();
    void on_accept(const boost::system::error_code& ec, tcp::socket socket);
    void turn_away(tcp::socket& socket, const Peer& peer);
    void stop(std::function<void()> on_stopped);
    void cut();
    void finish();
    void close_now();
    void attach(Connection* c) {
        live.insert(c);
        open = live.size();
    }
    void detach(Connection* c);

    asio::strand<asio::io_context::executor_type> strand;
    tcp::acceptor acceptor;
    asio::steady_timer accept_pause; // after a failed accept (out of descriptors), retry later
    asio::steady_timer drain;        // bounds stop()
    ServerOptions options;
    Registry& registry;
    LogSink sink;
    tcp::endpoint bound;
    std::unordered_set<Connection*> live; // on the strand
    std::atomic<std::size_t> open{0};
    bool stopping = false;
    bool stopped = false;
    std::vector<std::function<void()>> on_stopped;
};

// One request connection (spec §6.1). Its handlers run on the server's strand and keep it alive;
// the last one to finish destroys it.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(std::shared_ptr<Server::State> server, tcp::socket socket, Peer peer)
        : server_(std::move(server)), socket_(std::move(socket)), deadline_(server_->strand),
          decoder_(Context::request, server_->options.decoding), peer_(std::move(peer)) {
        server_->attach(this);
    }
    ~Connection() { server_->detach(this); }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start() {
        server_->log(LogLevel::verbose, "accepted " + peer_.endpoint);
        // The read timeout covers the whole request, so a slow drip cannot hold a slot forever.
        arm(server_->options.read_timeout);
        read();
    }

    // The server is stopping: a connection that was already answered need not finish draining.
    void on_stop() {
        if (phase_ == Phase::lingering) {
            close();
        }
    }

    // The drain timeout passed: give up on this connection.
    void abort() {
        if (phase_ != Phase::closed) {
            server_->log(LogLevel::verbose, "cut " + peer_.endpoint + " (server stopping)");
            close();
        }
    }

  private:
    enum class Phase : std::uint8_t { reading, asking, writing, lingering, closed };

    void read() {
        socket_.async_read_some(
            asio::buffer(buffer_),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                self->on_read(ec, n);
            });
    }

    void on_read(const boost::system::error_code& ec, std::size_t n) {
        if (phase_ != Phase::reading) {
            return;
        }
        received_ += n;
        if (n > 0) {
            // Bytes after the first complete request are ignored (spec §6.1).
            const Step step = decoder_.feed(std::string_view(buffer_.data(), n));
            if (step.status == Status::message) {
                return ask(step.message);
            }
            if (step.status == Status::error) {
                return answer(server_request::refuse(step.error, peer_, server_->options));
            }
        }
        // `expired_` without an error: the deadline passed while this read's data was already on
        // its way, so the cancel missed it; another read would then wait without a deadline.
        if (!ec && !expired_) {
            return read();
        }
        if (ec == asio::error::eof) {
            return on_end_of_stream();
        }
        if (expired_) {
            return answer(
                server_request::refuse(reply_code::timeout,
                                       "no complete request within " +
                                           server_request::describe(server_->options.read_timeout),
                                       peer_, server_->options));
        }
        // A reset mid-request: nobody is left to answer (spec §6.4).
        server_->log(LogLevel::error, "rejected " + peer_.endpoint + ": " + ec.message() +
                                          " after " + std::to_string(received_) + " bytes");
        close();
    }

    void on_end_of_stream() {
        const Step step = decoder_.finish();
        if (step.status == Status::message) {
            return ask(step.message);
        }
        if (step.status == Status::error) {
            // Half a request, then the client closed: nothing to send (spec §6.4).
            server_->log(LogLevel::error, "rejected " + peer_.endpoint + ": closed mid-request, " +
                                              to_string(step.error));
        } else {
            server_->log(LogLevel::verbose, peer_.endpoint + " closed without a request");
        }
        close();
    }

    // The registry may answer inline or later from another handler (see Registry); either way
    // the answer is taken on the strand, and only if the read deadline has not answered first.
    void ask(const Message& request) {
        phase_ = Phase::asking;
        server_request::answer(request, peer_, server_->registry, server_->options,
                               [self = shared_from_this()](Answer answer) {
                                   asio::dispatch(self->server_->strand,
                                                  [self, answer = std::move(answer)]() mutable {
                                                      if (self->phase_ == Phase::asking) {
                                                          self->answer(std::move(answer));
                                                      }
                                                  });
                               });
    }

    void answer(Answer answer) {
        server_->log(answer);
        phase_ = Phase::writing;
        if (answer.reply.empty()) {
            return on_write({}); // no reply (§9.3): FIN and linger all the same
        }
        reply_ = std::move(answer.reply);
        arm(server_->options.read_timeout); // a client that never reads must not hold the slot
        asio::async_write(socket_, asio::buffer(reply_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      std::size_t) { self->on_write(ec); });
    }

    void on_write(const boost::system::error_code& ec) {
        if (phase_ != Phase::writing) {
            return;
        }
        if (ec) {
            server_->log(LogLevel::verbose,
                         "could not send the reply to " + peer_.endpoint + ": " + ec.message());
            return close();
        }
        // The server closes (spec §6.1): FIN after the reply, then wait briefly for the client's
        // FIN. Closing with unread input would send a reset instead, which may destroy the reply
        // before the client reads it.
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        if (server_->stopping) {
            return close();
        }
        phase_ = Phase::lingering;
        arm(server_->options.linger_timeout);
        linger();
    }

    void linger() {
        socket_.async_read_some(
            asio::buffer(buffer_),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                self->on_linger(ec, n);
            });
    }

    void on_linger(const boost::system::error_code& ec, std::size_t n) {
        if (phase_ != Phase::lingering) {
            return;
        }
        drained_ += n;
        if (ec || drained_ > max_drained) {
            return close();
        }
        linger();
    }

    void close() {
        if (phase_ == Phase::closed) {
            return;
        }
        phase_ = Phase::closed;
        deadline_.cancel();
        boost::system::error_code ignored;
        socket_.close(ignored);
        server_->log(LogLevel::verbose, "closed " + peer_.endpoint);
    }

    // One deadline per phase. The generation tells a stale expiry (already queued when the timer
    // was re-armed) from the current one.
    void arm(std::chrono::milliseconds after) {
        deadline_.expires_after(after);
        deadline_.async_wait([self = shared_from_this(),
                              generation = ++generation_](const boost::system::error_code& ec) {
            if (!ec && generation == self->generation_) {
                self->on_deadline();
            }
        });
    }

    void on_deadline() {
        if (phase_ == Phase::reading) {
            // on_read() sees operation_aborted and replies ERROR 408 (spec §6.5).
            expired_ = true;
            boost::system::error_code ignored;
            socket_.cancel(ignored);
        } else if (phase_ == Phase::asking) {
            // The registry is slow or unreachable (spec §6.7); it changes its state atomically,
            // so whatever it does later, the client is told now.
            answer(
                server_request::refuse(reply_code::unavailable,
                                       "registry did not answer within " +
                                           server_request::describe(server_->options.read_timeout),
                                       peer_, server_->options));
        } else {
            close();
        }
    }

    static constexpr std::size_t max_drained = 64 * 1024;

    std::shared_ptr<Server::State> server_;
    tcp::socket socket_;
    asio::steady_timer deadline_;
    StreamDecoder decoder_;
    Peer peer_;
    std::string reply_;
    std::array<char, 1024> buffer_{};
    std::uint64_t received_ = 0;
    std::size_t drained_ = 0;
    unsigned generation_ = 0;
    Phase phase_ = Phase::reading;
    bool expired_ = false;
};

std::error_code Server::State::listen() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) {
        return ec;
    }
    const tcp::endpoint endpoint(address, options.port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(tcp::socket::max_listen_connections, ec);
    }
    if (!ec) {
        bound = acceptor.local_endpoint(ec);
    }
    if (ec) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
        return ec;
    }
    log(LogLevel::info, "tcp-chat-server " + std::string(project_version) + " listening on " +
                            server_request::host_port(bound.address().to_string(), bound.port()));
    asio::post(strand, [self = shared_from_this()] { self->accept(); });
    return {};
}

void Server::State::accept() {
    if (stopping) {
        return;
    }
    // New sockets run their handlers on the strand too.
    acceptor.async_accept(strand, [self = shared_from_this()](const boost::system::error_code& ec,
                                                              tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
    });
}

void Server::State::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) {
        return;
    }
    if (ec) {
        // Typically out of file descriptors: pause instead of spinning on the same error.
        log(LogLevel::error, "accept failed: " + ec.message());
        accept_pause.expires_after(std::chrono::milliseconds(100));
        accept_pause.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
            if (!e) {
                self->accept();
            }
        });
        return;
    }
    accept();
    boost::system::error_code remote_ec;
    const auto remote = socket.remote_endpoint(remote_ec);
    if (remote_ec) {
        return; // reset before we looked at it
    }
    Peer peer = peer_of(remote);
    if (live.size() >= options.max_connections) {
        return turn_away(socket, peer);
    }
    std::make_shared<Connection>(shared_from_this(), std::move(socket), std::move(peer))->start();
}

// Over the cap (spec §6.5): answer ERROR 503 at once rather than leave the client hanging. The
// reply is a few dozen bytes into an empty send buffer, so a non-blocking write takes it whole and
// the turned-away socket never outlives this call.
void Server::State::turn_away(tcp::socket& socket, const Peer& peer) {
    const Answer answer = server_request::refuse(reply_code::unavailable,
                                                 "too many connections (limit " +
                                                     std::to_string(options.max_connections) + ")",
                                                 peer, options);
    log(answer);
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(answer.reply), ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    // Read what already arrived of the request so that close() sends FIN, not a reset.
    std::array<char, 1024> discard;
    for (int i = 0; i < 16 && socket.read_some(asio::buffer(discard), ignored) > 0; ++i) {
    }
    socket.close(ignored);
}

void Server::State::stop(std::function<void()> callback) {
    if (callback) {
        on_stopped.push_back(std::move(callback));
    }
    if (stopped) {
        return finish();
    }
    if (stopping) {
        return;
    }
    stopping = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    accept_pause.cancel();
    log(LogLevel::info, "stopping: " + std::to_string(live.size()) + " connections open");
    for (Connection* c : std::vector<Connection*>(live.begin(), live.end())) {
        c->on_stop();
    }
    if (live.empty()) {
        return finish();
    }
    drain.expires_after(options.drain_timeout);
    drain.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) {
            self->cut();
        }
    });
}

void Server::State::cut() {
    log(LogLevel::info, "stopping: cutting " + std::to_string(live.size()) + " connections after " +
                            server_request::describe(options.drain_timeout));
    for (Connection* c : std::vector<Connection*>(live.begin(), live.end())) {
        c->abort();
    }
}

void Server::State::finish() {
    if (!stopped) {
        stopped = true;
        drain.cancel();
        log(LogLevel::info, "stopped");
    }
    auto callbacks = std::move(on_stopped);
    on_stopped.clear();
    for (auto& callback : callbacks) {
        callback();
    }
}

void Server::State::detach(Connection* c) {
    live.erase(c);
    open = live.size();
    if (stopping && !stopped && live.empty()) {
        asio::post(strand, [self = shared_from_this()] { self->finish(); });
    }
}

void Server::State::close_now() {
    stopping = true;
    stopped = true;
    sink = nullptr;
    on_stopped.clear();
    boost::system::error_code ignored;
    acceptor.close(ignored);
    accept_pause.cancel();
    drain.cancel();
    for (Connection* c : std::vector<Connection*>(live.begin(), live.end())) {
        c->abort();
    }
}

Server::Server(asio::io_context& io, ServerOptions options, Registry& registry, LogSink log)
    : state_(std::make_shared<State>(io, std::move(options), registry, std::move(log))) {}

Server::~Server() {
    state_->close_now();
}

std::error_code Server::listen() {
    return state_->listen();
}

tcp::endpoint Server::local_endpoint() const {
    return state_->bound;
}

void Server::stop(std::function<void()> on_stopped) {
    asio::dispatch(state_->strand, [state = state_, cb = std::move(on_stopped)]() mutable {
        state->stop(std::move(cb));
    });
}

std::size_t Server::connections() const noexcept {
    return state_->open.load();
}

} // namespace tcpchat
