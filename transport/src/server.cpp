// The rendezvous server's I/O (spec §6.1, §6.5): accept, read one request, reply, close.
//
// Completion handlers rather than C++20 coroutines: the Asio of Boost 1.74 (Debian 12) enables
// co_await on Clang only with libc++'s <experimental/coroutine>, so coroutine code would not build
// with the project's clang-14 + libstdc++ presets (fuzz). The per-connection flow is a short,
// fixed sequence (read until one request, write, drain, close) with one deadline timer, which
// handlers express plainly and with a small, fixed state per connection.
//
// Threads (transport/README.md): the server is split into shards, one per thread, each with its
// own io_context run by exactly one thread, its own listening socket on the shared port
// (SO_REUSEPORT: the kernel spreads new connections over them) and its own connections. A
// connection never leaves its shard, so its handlers are serialised without a strand.
//
// The request path (bench/README.md has the system calls it costs): Asio only says when a socket
// is ready; the reads, the write and the shutdown are plain non-blocking calls on the socket, so
// Asio neither switches the socket to non-blocking mode nor reads speculatively. Connections are
// recycled through a free list and their handlers allocate from the connection's own memory, so
// a request in steady state allocates nothing.
#include "tcpchat/server.hpp"

#include "listening_socket.hpp"
#include "poller.hpp"
#include "server_request.hpp"
#include "tcpchat/handler_memory.hpp"
#include "tcpchat/stream_decoder.hpp"
#include "tcpchat/version.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace tcpchat {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using server_request::Answer;
using server_request::Peer;

namespace {

// Into `peer`, reusing its strings' capacity.
void describe_peer(const tcp::endpoint& endpoint, Peer& peer) {
    auto address = endpoint.address();
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; they registered as a.b.c.d.
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    std::array<char, 64> text{};
    boost::system::error_code ec;
    if (address.is_v4()) {
        const auto bytes = address.to_v4().to_bytes();
        const int n = std::snprintf(text.data(), text.size(), "%u.%u.%u.%u", bytes[0], bytes[1],
                                    bytes[2], bytes[3]);
        peer.address.assign(text.data(), static_cast<std::size_t>(n));
    } else {
        peer.address = address.to_string();
    }
    const bool v6 = address.is_v6();
    const int n = std::snprintf(text.data(), text.size(), "%s%s%s:%u", v6 ? "[" : "",
                                peer.address.c_str(), v6 ? "]" : "", endpoint.port());
    peer.endpoint.assign(text.data(), static_cast<std::size_t>(std::min<int>(n, 63)));
}

} // namespace

class Connection;
class Shard;

class Server::State : public std::enable_shared_from_this<Server::State> {
  public:
    State(ServerOptions options_, Registry& registry_, LogSink sink_)
        : options(std::move(options_)), registry(registry_), sink(std::move(sink_)) {}

    [[nodiscard]] bool logs(LogLevel level) const noexcept {
        return level <= options.log_level && sink;
    }
    void log(LogLevel level, std::string_view line) const {
        if (logs(level)) {
            const std::scoped_lock lock(log_mutex);
            sink(level, line);
        }
    }
    void log(const Answer& answer) const {
        for (const auto& line : answer.log) {
            log(line.level, line.text);
        }
    }

    std::error_code listen(asio::io_context& first, std::vector<asio::io_context*> others);
    void stop(std::function<void()> on_stopped);
    void listener_closed();
    void shard_stopped();
    void close_now();

    ServerOptions options;
    Registry& registry;
    LogSink sink;
    mutable std::mutex log_mutex;
    std::vector<std::unique_ptr<Shard>> shards; // [0] runs on the caller's io_context
    tcp::endpoint bound;
    std::atomic<std::size_t> open{0}; // connections reading, writing or lingering, all shards
    std::atomic<std::uint64_t> accepted{0};

    std::mutex stop_mutex; // guards what follows
    std::vector<std::function<void()>> on_stopped;
    std::size_t running = 0;   // shards with connections still open after stop()
    std::size_t listening = 0; // shards still accepting after stop()
    bool stopping = false;
    bool stopped = false;
};

// One thread's share of the server: a listening socket, its connections, their free list, and
// the poller that watches them all.
class Shard {
  public:
    Shard(Server::State& server, asio::io_context& io)
        : server(server), io(io), listening(io.get_executor()), drain(io),
          poller(io, &Shard::on_ready, this) {}
    ~Shard();

    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    std::error_code start_accepting();
    static void on_ready(void* shard, std::uint64_t token, std::uint32_t events);
    void accept();
    void turn_away(int fd, const tcp::endpoint& remote);
    void recycle(Connection* c) noexcept;
    void stop();
    void cut();
    void close_now();
    void attach(Connection* c);
    void detach(Connection* c);
    void finished();

    // Poller tokens: 0 is the listening socket; a connection's is its index in `all` plus one in
    // the high half and its accept count in the low half, so that an event still queued for a
    // closed connection never reaches the next one to use the same object.
    static constexpr std::uint64_t listening_token = 0;

    Server::State& server;
    std::shared_ptr<Server::State> holder; // while the poller waits
    asio::io_context& io;
    detail::ListeningSocket listening;
    asio::steady_timer drain; // bounds stop()
    detail::Poller poller;
    std::vector<std::unique_ptr<Connection>> all; // every connection object ever made here
    Connection* free = nullptr;                   // recycled, ready for the next accept
    std::vector<Connection*> live;                // reading, writing or lingering
    bool stopping = false;
    bool stopped = false;
};

// One request connection (spec §6.1). Everything it does happens on its shard's thread: the
// poller hands it its socket's events, its deadline's handler holds only its address. `pending_`
// counts what may still call it back (the deadline's wait, a registry question); once it is
// closed and nothing is pending, it goes back to its shard's free list.
class Connection {
  public:
    Connection(Shard& shard, std::uint32_t index)
        : shard_(shard), server_(shard.server), index_(index), deadline_(shard.io),
          decoder_(Context::request, server_.options.decoding) {
        asking_.peer = &peer_;
        asking_.options = &server_.options;
        asking_.done = [this] { on_answered(); };
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    [[nodiscard]] std::uint64_t token() const noexcept {
        return (std::uint64_t{index_} + 1) << 32 | serial_;
    }

    // An accepted socket (non-blocking), already known to be under the cap.
    void start(int fd, const tcp::endpoint& remote, std::shared_ptr<Server::State> keep) {
        keep_ = std::move(keep);
        fd_ = fd;
        ++serial_;
        describe_peer(remote, peer_);
        decoder_.reset(Context::request);
        received_ = 0;
        drained_ = 0;
        written_ = 0;
        readable_ = false;
        writable_ = false;
        peer_done_ = false;
        all_read_ = false;
        watching_writes_ = false;
        phase_ = Phase::reading;
        shard_.attach(this);
        if (server_.logs(LogLevel::verbose)) {
            server_.log(LogLevel::verbose, "accepted " + peer_.endpoint);
        }
        // The read timeout covers the whole request, so a slow drip cannot hold a slot forever.
        arm(server_.options.read_timeout);
        // Not EPOLLOUT: a fresh socket is writable, and saying so would cost a round of the
        // poller per connection; write() asks for it if a reply does not fit.
        if (const auto ec = shard_.poller.add(fd_, EPOLLIN | EPOLLRDHUP | EPOLLET, token())) {
            server_.log(LogLevel::error, "cannot watch " + peer_.endpoint + ": " + ec.message());
            close();
            settle();
        }
    }

    // The poller's events for this socket (edge-triggered: each says something new happened).
    void on_events(std::uint32_t events) {
        if (phase_ == Phase::closed) {
            return;
        }
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            readable_ = true;
        }
        if ((events & EPOLLRDHUP) != 0) {
            peer_done_ = true;
        }
        if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
            writable_ = true;
        }
        proceed();
        settle();
    }

    // The server is stopping: a connection that was already answered need not finish draining.
    void on_stop() {
        if (phase_ == Phase::lingering) {
            close();
            settle();
        }
    }

    // The drain timeout passed: give up on this connection.
    void abort() {
        if (phase_ != Phase::closed) {
            server_.log(LogLevel::verbose, "cut " + peer_.endpoint + " (server stopping)");
            close();
            settle();
        }
    }

    Connection* next_free = nullptr;

  private:
    enum class Phase : std::uint8_t { reading, asking, writing, lingering, closed };

    // Does what the phase needs with what the socket is known to be ready for.
    void proceed() {
        if (phase_ == Phase::reading && readable_) {
            read();
        } else if (phase_ == Phase::writing && writable_) {
            write();
        } else if (phase_ == Phase::lingering && readable_) {
            linger();
        }
    }

    // One recv() into the buffer; <0 with errno on failure. Clears `readable_` once the socket
    // has nothing more: a short read means its queue is empty, and more data will be a new edge;
    // but after the client's FIN, only a recv() returning 0 says the end was reached.
    ssize_t receive() {
        for (;;) {
            const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            const bool short_read = n > 0 && static_cast<std::size_t>(n) < buffer_.size();
            if ((n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ||
                (short_read && !peer_done_)) {
                readable_ = false;
            }
            // Everything up to the FIN is read: closing then sends no reset (spec §4.1).
            all_read_ = short_read && peer_done_;
            return n;
        }
    }

    void read() {
        while (readable_ && phase_ == Phase::reading) {
            const ssize_t n = receive();
            if (n > 0) {
                received_ += static_cast<std::size_t>(n);
                // Bytes after the first complete request are ignored (spec §6.1).
                const Step step =
                    decoder_.feed(std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
                if (step.status == Status::message) {
                    return ask(step.message);
                }
                if (step.status == Status::error) {
                    return answer(server_request::refuse(step.error, peer_, server_.options));
                }
            } else if (n == 0) {
                return on_end_of_stream();
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                // A reset mid-request: nobody is left to answer (spec §6.4).
                server_.log(LogLevel::error, "rejected " + peer_.endpoint + ": " +
                                                 std::system_category().message(errno) + " after " +
                                                 std::to_string(received_) + " bytes");
                return close();
            }
        }
    }

    void on_end_of_stream() {
        const Step step = decoder_.finish();
        if (step.status == Status::message) {
            return ask(step.message);
        }
        if (step.status == Status::error) {
            // Half a request, then the client closed: nothing to send (spec §6.4).
            server_.log(LogLevel::error, "rejected " + peer_.endpoint + ": closed mid-request, " +
                                             to_string(step.error));
        } else {
            server_.log(LogLevel::verbose, peer_.endpoint + " closed without a request");
        }
        close();
    }

    // The registry may answer inline or later, from any thread (see Registry); either way the
    // answer is taken on this shard's thread, and only if the read deadline has not answered
    // first. The request's views point into the decoder, which is not fed meanwhile.
    void ask(const Message& request) {
        phase_ = Phase::asking;
        asking_.request = request;
        ++pending_;
        server_request::ask(server_.registry, asking_);
    }

    void on_answered() {
        // Inline when the registry answered on this thread (no allocation), posted otherwise.
        asio::dispatch(shard_.io, [this] {
            --pending_;
            if (phase_ == Phase::asking) {
                answer(asking_.answer);
            }
            settle();
        });
    }

    // Takes the reply and log lines out of `answer`, leaving it empty with its buffers' capacity.
    void answer(Answer& answer) {
        server_.log(answer);
        answer.log.clear();
        phase_ = Phase::writing;
        reply_.clear();
        reply_.swap(answer.reply);
        written_ = 0;
        writable_ = true; // a fresh socket's send buffer is empty; send() says if not
        if (reply_.empty()) {
            return written(); // no reply (§9.3): FIN and linger all the same
        }
        write();
    }

    void answer(Answer&& refusal) { answer(refusal); }

    // A reply is a few dozen bytes into an empty send buffer: the first send takes it whole.
    void write() {
        while (written_ < reply_.size()) {
            const ssize_t n =
                ::send(fd_, reply_.data() + written_, reply_.size() - written_, MSG_NOSIGNAL);
            if (n >= 0) {
                written_ += static_cast<std::size_t>(n);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                writable_ = false;
                if (!watching_writes_) {
                    watching_writes_ = true;
                    (void)shard_.poller.modify(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                               token());
                }
                arm(server_.options.read_timeout); // a client that never reads must not hold on
                return;
            } else if (errno != EINTR) {
                server_.log(LogLevel::verbose, "could not send the reply to " + peer_.endpoint +
                                                   ": " + std::system_category().message(errno));
                return close();
            }
        }
        written();
    }

    void written() {
        // The server closes (spec §6.1): FIN after the reply, then wait briefly for the client's
        // FIN. Closing with unread input would send a reset instead, which may destroy the reply
        // before the client reads it. A client whose FIN came before the read that emptied its
        // input has nothing left to drain.
        ::shutdown(fd_, SHUT_WR);
        if (shard_.stopping || all_read_) {
            return close();
        }
        phase_ = Phase::lingering;
        arm(server_.options.linger_timeout);
        proceed();
    }

    void linger() {
        while (readable_) {
            const ssize_t n = receive();
            if (n > 0) {
                drained_ += static_cast<std::size_t>(n);
                if (drained_ > max_drained) {
                    return close();
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                return close(); // the client's FIN, or a reset
            }
        }
    }

    void close() {
        if (phase_ == Phase::closed) {
            return;
        }
        phase_ = Phase::closed;
        ++generation_;
        deadline_.cancel();
        ::close(fd_); // which also takes it out of the poller's set
        fd_ = -1;
        shard_.detach(this);
        if (server_.logs(LogLevel::verbose)) { // composed only when wanted: no allocation
            server_.log(LogLevel::verbose, "closed " + peer_.endpoint);
        }
    }

    // Back to the free list once closed and nothing is left to call this connection back.
    void settle() {
        if (phase_ == Phase::closed && pending_ == 0 && keep_) {
            auto keep = std::move(keep_); // may be the last hold on the server: released last
            shard_.recycle(this);
        }
    }

    // One deadline per phase. The generation tells a stale expiry (already queued when the timer
    // was re-armed) from the current one.
    void arm(std::chrono::milliseconds after) {
        deadline_.expires_after(after);
        ++pending_;
        deadline_.async_wait(
            with_memory(timer_memory_[++arms_ % 2],
                        [this, generation = ++generation_](const boost::system::error_code& ec) {
                            --pending_;
                            if (!ec && generation == generation_) {
                                on_deadline();
                            }
                            settle();
                        }));
    }

    void on_deadline() {
        if (phase_ == Phase::reading) {
            answer(
                server_request::refuse(reply_code::timeout,
                                       "no complete request within " +
                                           server_request::describe(server_.options.read_timeout),
                                       peer_, server_.options));
        } else if (phase_ == Phase::asking) {
            // The registry is slow or unreachable (spec §6.7); it changes its state atomically,
            // so whatever it does later, the client is told now.
            answer(
                server_request::refuse(reply_code::unavailable,
                                       "registry did not answer within " +
                                           server_request::describe(server_.options.read_timeout),
                                       peer_, server_.options));
        } else {
            close();
        }
    }

    static constexpr std::size_t max_drained = 64 * 1024;

    Shard& shard_;
    Server::State& server_;
    std::uint32_t index_;
    std::uint32_t serial_ = 0;
    std::shared_ptr<Server::State> keep_;
    int fd_ = -1;
    asio::steady_timer deadline_;
    // Two blocks: re-arming the deadline starts a wait while the cancelled one may still hold
    // the other.
    std::array<HandlerMemory, 2> timer_memory_;
    unsigned arms_ = 0;
    StreamDecoder decoder_;
    Peer peer_;
    server_request::Asking asking_;
    std::string reply_;
    std::array<char, 1024> buffer_{};
    std::uint64_t received_ = 0;
    std::size_t drained_ = 0;
    std::size_t written_ = 0;
    unsigned generation_ = 0;
    int pending_ = 0;
    Phase phase_ = Phase::closed;
    bool readable_ = false;        // the socket may have input (an edge came since the last EAGAIN)
    bool writable_ = false;        // the socket may take output
    bool peer_done_ = false;       // the client's FIN has arrived
    bool all_read_ = false;        // the last read took all input up to the client's FIN
    bool watching_writes_ = false; // EPOLLOUT asked for (a reply did not fit at once)
};

Shard::~Shard() = default;

std::error_code Shard::start_accepting() {
    if (const auto ec =
            poller.add(listening.acceptor().native_handle(), EPOLLIN, listening_token)) {
        return ec;
    }
    poller.start();
    return {};
}

void Shard::on_ready(void* context, std::uint64_t token, std::uint32_t events) {
    auto& shard = *static_cast<Shard*>(context);
    if (token == detail::Poller::stopped_token) {
        // The poller's memory is in this shard: the server may go once its wait is over.
        auto last = std::move(shard.holder);
        return;
    }
    if (token == listening_token) {
        return shard.accept();
    }
    const auto index = static_cast<std::size_t>((token >> 32) - 1);
    if (index < shard.all.size() && shard.all[index]->token() == token) {
        shard.all[index]->on_events(events);
    }
}

// One connection per readiness of the (level-triggered) listening socket, as nginx does by
// default: a failed accept4 costs a system call, another round of the poller costs none more
// than the round already makes for the other sockets.
void Shard::accept() {
    if (stopping) {
        return;
    }
    tcp::endpoint remote;
    socklen_t length = static_cast<socklen_t>(remote.capacity());
    const int fd = ::accept4(listening.acceptor().native_handle(), remote.data(), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
            return;
        }
        // Typically out of file descriptors: pause instead of spinning on the same error.
        server.log(LogLevel::error, "accept failed: " + std::system_category().message(errno));
        poller.remove(listening.acceptor().native_handle());
        listening.retry_later(
            [this, keep = server.shared_from_this()] { (void)start_accepting(); });
        return;
    }
    remote.resize(length);
    server.accepted.fetch_add(1, std::memory_order_relaxed);
    if (server.open.fetch_add(1) >= server.options.max_connections) {
        server.open.fetch_sub(1);
        return turn_away(fd, remote);
    }
    Connection* c = free;
    if (c != nullptr) {
        free = c->next_free;
    } else {
        all.push_back(std::make_unique<Connection>(*this, static_cast<std::uint32_t>(all.size())));
        c = all.back().get();
    }
    c->start(fd, remote, server.shared_from_this());
}

// Over the cap (spec §6.5): answer ERROR 503 at once rather than leave the client hanging. The
// reply is a few dozen bytes into an empty send buffer, so a non-blocking write takes it whole and
// the turned-away socket never outlives this call.
void Shard::turn_away(int fd, const tcp::endpoint& remote) {
    Peer peer;
    describe_peer(remote, peer);
    const Answer answer = server_request::refuse(
        reply_code::unavailable,
        "too many connections (limit " + std::to_string(server.options.max_connections) + ")", peer,
        server.options);
    server.log(answer);
    (void)::send(fd, answer.reply.data(), answer.reply.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    // Read what already arrived of the request so that close() sends FIN, not a reset.
    std::array<char, 1024> discard;
    for (int i = 0; i < 16 && ::recv(fd, discard.data(), discard.size(), 0) > 0; ++i) {
    }
    ::close(fd);
}

void Shard::recycle(Connection* c) noexcept {
    c->next_free = free;
    free = c;
}

void Shard::attach(Connection* c) {
    live.push_back(c);
}

void Shard::detach(Connection* c) {
    for (auto& slot : live) {
        if (slot == c) {
            slot = live.back();
            live.pop_back();
            break;
        }
    }
    server.open.fetch_sub(1);
    if (stopping && live.empty()) {
        finished();
    }
}

// No connection left after stop(): the poller stops waiting, so the io_context can run out of
// the server's work.
void Shard::finished() {
    if (stopped) {
        return;
    }
    stopped = true;
    drain.cancel();
    poller.stop();
    asio::post(io, [state = server.shared_from_this()] { state->shard_stopped(); });
}

void Shard::stop() {
    if (stopping) {
        return;
    }
    stopping = true;
    poller.remove(listening.acceptor().native_handle());
    listening.close();
    for (Connection* c : std::vector<Connection*>(live)) {
        c->on_stop();
    }
    // After on_stop(): the line counts the connections still being served, not those that were
    // answered and only wait for the client's close.
    server.listener_closed();
    if (live.empty()) {
        return finished();
    }
    drain.expires_after(server.options.drain_timeout);
    drain.async_wait(
        [this, state = server.shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                cut();
            }
        });
}

void Shard::cut() {
    server.log(LogLevel::info, "stopping: cutting " + std::to_string(live.size()) +
                                   " connections after " +
                                   server_request::describe(server.options.drain_timeout));
    for (Connection* c : std::vector<Connection*>(live)) {
        c->abort();
    }
}

void Shard::close_now() {
    stopping = true;
    stopped = true;
    listening.close();
    drain.cancel();
    for (Connection* c : std::vector<Connection*>(live)) {
        c->abort();
    }
    poller.stop();
}

std::error_code Server::State::listen(asio::io_context& first,
                                      std::vector<asio::io_context*> others) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) {
        return ec;
    }
    const bool several = !others.empty();
    shards.push_back(std::make_unique<Shard>(*this, first));
    for (asio::io_context* io : others) {
        shards.push_back(std::make_unique<Shard>(*this, *io));
    }
    // The first socket picks the port (perhaps an ephemeral one); the others join it.
    tcp::endpoint endpoint(address, options.port);
    for (auto& shard : shards) {
        if (const auto error = shard->listening.open(endpoint, several)) {
            for (auto& opened : shards) {
                opened->listening.close();
            }
            return error;
        }
        endpoint = shard->listening.local_endpoint();
    }
    bound = endpoint;
    log(LogLevel::info, "tcp-chat-server " + std::string(project_version) + " listening on " +
                            server_request::host_port(bound.address().to_string(), bound.port()));
    for (auto& shard : shards) {
        if (const auto error = shard->start_accepting()) {
            return error;
        }
    }
    return {};
}

void Server::State::stop(std::function<void()> callback) {
    bool done = false;
    {
        const std::scoped_lock lock(stop_mutex);
        if (callback) {
            on_stopped.push_back(std::move(callback));
        }
        if (stopping && !stopped) {
            return;
        }
        if (!stopping) {
            stopping = true;
            running = shards.size();
            listening = shards.size();
        }
        done = stopped || shards.empty();
    }
    if (done) {
        return shard_stopped();
    }
    for (auto& shard : shards) {
        asio::dispatch(shard->io, [shard = shard.get()] { shard->stop(); });
    }
}

// The last shard to stop accepting says so, with what is still open everywhere.
void Server::State::listener_closed() {
    {
        const std::scoped_lock lock(stop_mutex);
        if (listening == 0 || --listening > 0) {
            return;
        }
    }
    log(LogLevel::info, "stopping: " + std::to_string(open.load()) + " connections open");
}

// Runs once per shard after stop(), and again for a stop() after the server stopped.
void Server::State::shard_stopped() {
    std::vector<std::function<void()>> callbacks;
    {
        const std::scoped_lock lock(stop_mutex);
        if (!stopped) {
            if (running > 0 && --running > 0) {
                return;
            }
            stopped = true;
            log(LogLevel::info, "stopped");
        }
        callbacks.swap(on_stopped);
    }
    for (auto& callback : callbacks) {
        callback();
    }
}

void Server::State::close_now() {
    {
        const std::scoped_lock lock(stop_mutex);
        stopping = true;
        stopped = true;
        on_stopped.clear();
    }
    {
        const std::scoped_lock lock(log_mutex);
        sink = nullptr;
    }
    for (auto& shard : shards) {
        shard->close_now();
    }
}

Server::Server(asio::io_context& io, ServerOptions options, Registry& registry, LogSink log)
    : io_(io), state_(std::make_shared<State>(std::move(options), registry, std::move(log))) {}

Server::~Server() {
    shut_down();
}

// Every shard closes what it has, on its own thread; the other threads' io_contexts then run
// out of work (every cancelled handler has run) and their threads end. Only then may their
// shards go, before their io_contexts: a cancelled operation's memory lives in its shard.
void Server::shut_down() {
    auto& shards = state_->shards;
    for (std::size_t i = 1; i < shards.size(); ++i) {
        asio::post(*own_[i - 1], [shard = shards[i].get()] { shard->close_now(); });
    }
    if (threads_.empty()) {
        for (auto& io : own_) {
            io->run(); // listen() failed before the threads started
        }
    }
    for (auto& thread : threads_) {
        if (thread.joinable()) {
            thread.join();
        }
    }
    threads_.clear();
    state_->close_now();
    if (shards.size() > 1) {
        shards.resize(1);
    }
    own_.clear();
}

std::error_code Server::listen() {
    const unsigned threads = std::max(1U, state_->options.threads);
    std::vector<asio::io_context*> others;
    for (unsigned i = 1; i < threads; ++i) {
        own_.push_back(std::make_unique<asio::io_context>(1));
        others.push_back(own_.back().get());
    }
    if (const auto ec = state_->listen(io_, others)) {
        shut_down();
        return ec;
    }
    for (auto& io : own_) {
        threads_.emplace_back([io = io.get()] { io->run(); });
    }
    return {};
}

tcp::endpoint Server::local_endpoint() const {
    return state_->bound;
}

void Server::stop(std::function<void()> on_stopped) {
    state_->stop(std::move(on_stopped));
}

std::size_t Server::connections() const noexcept {
    return state_->open.load();
}

std::uint64_t Server::accepted() const noexcept {
    return state_->accepted.load(std::memory_order_relaxed);
}

} // namespace tcpchat
