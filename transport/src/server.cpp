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
#include "tcpchat/stream_decoder.hpp"
#include "tcpchat/version.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <charconv>
#include <mutex>
#include <optional>
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

// Into `peer`, reusing its strings' capacity (no formatting library: this runs per connection).
void describe_peer(const tcp::endpoint& endpoint, Peer& peer) {
    auto address = endpoint.address();
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; they registered as a.b.c.d.
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    std::array<char, 64> text{};
    char* const end = text.data() + text.size();
    if (address.is_v4()) {
        const auto bytes = address.to_v4().to_bytes();
        char* out = text.data();
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (i > 0) {
                *out++ = '.';
            }
            out = std::to_chars(out, end, unsigned{bytes[i]}).ptr;
        }
        peer.address.assign(text.data(), out);
        peer.endpoint.assign(text.data(), out);
    } else {
        peer.address = address.to_string();
        peer.endpoint.assign(1, '[');
        peer.endpoint += peer.address;
        peer.endpoint += ']';
    }
    peer.endpoint += ':';
    peer.endpoint.append(text.data(), std::to_chars(text.data(), end, endpoint.port()).ptr);
}

} // namespace

class Connection;
class Shard;

class Server::State : public std::enable_shared_from_this<Server::State> {
  public:
    State(asio::io_context& io_, ServerOptions options_, Registry& registry_, LogSink sink_)
        : io(io_), options(std::move(options_)), registry(registry_), sink(std::move(sink_)) {}

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

    std::error_code listen();
    void stop(std::function<void()> on_stopped);
    void listener_closed();
    void shard_stopped();
    void report_stopped();
    void abandon();
    void close_now();

    asio::io_context& io; // the caller's: on_stopped runs there, and it runs until the stop
    ServerOptions options;
    Registry& registry;
    LogSink sink;
    mutable std::mutex log_mutex;
    std::vector<std::unique_ptr<Shard>> shards;
    tcp::endpoint bound;
    std::atomic<std::size_t> open{0}; // connections reading, writing or lingering, all shards
    std::atomic<std::uint64_t> accepted{0};

    std::mutex stop_mutex; // guards what follows
    // Keeps the caller's io_context running from listen() until the server has stopped.
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::function<void()>> on_stopped;
    std::size_t running = 0;   // shards with connections still open after stop()
    std::size_t listening = 0; // shards still accepting after stop()
    bool stopping = false;
    bool stopped = false;
};

// One thread's share of the server: a listening socket, its connections, their free list, and
// the loop that watches them all, with their deadlines. Other threads reach it only through its
// mailbox.
class Shard {
  public:
    explicit Shard(Server::State& server);
    ~Shard();

    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    std::error_code open(const tcp::endpoint& endpoint, bool several);
    std::error_code start_accepting();
    void run();
    static void on_ready(void* shard, std::uint64_t token, std::uint32_t events);
    void accept();
    void turn_away(int fd, const tcp::endpoint& remote);
    void recycle(Connection* c) noexcept;
    void stop();
    void cut();
    void close_now();
    void close_listening();
    void attach(Connection* c);
    void detach(Connection* c);
    void finished();

    // From any thread: a registry answer for `c`, the stop, or the destructor's last call.
    void post_answer(Connection* c);
    void post_stop();
    void post_close();
    void post(bool& asked); // sets a flag of the mailbox, under its mutex
    void take_mail();

    [[nodiscard]] bool on_own_thread() const noexcept { return current == this; }

    // Poller tokens: 0 is the listening socket; a connection's is its index in `all` plus one in
    // the high half and its accept count in the low half, so that an event still queued for a
    // closed connection never reaches the next one to use the same object.
    static constexpr std::uint64_t listening_token = 0;

    Server::State& server;
    int listening = -1;
    detail::Poller poller;
    detail::Timeouts read_timeouts;   // a request from its accept (spec §6.5), a blocked write
    detail::Timeouts linger_timeouts; // the client's FIN after the reply (spec §6.1)
    detail::Timeouts drain_timeouts;  // stop(): how long connections in flight may take
    detail::Timeouts retry_timeouts;  // the pause after a failed accept
    detail::Timeout drain;
    detail::Timeout retry;
    std::vector<std::unique_ptr<Connection>> all; // every connection object ever made here
    Connection* free = nullptr;                   // recycled, ready for the next accept
    std::vector<Connection*> live;                // reading, writing or lingering
    bool stopping = false;
    bool stopped = false;

    std::mutex mail_mutex; // guards the mailbox
    Connection* answered = nullptr;
    Connection* answered_last = nullptr;
    bool stop_asked = false;
    bool close_asked = false;
    bool mail_waiting = false; // a wake() is on its way

    static thread_local const Shard* current; // the shard whose loop runs on this thread
};

thread_local const Shard* Shard::current = nullptr;

// One request connection (spec §6.1). Everything it does happens on its shard's thread: the
// loop hands it its socket's events and its deadline's expiry; a registry answer from another
// thread comes through the shard's mailbox. `pending_` counts the registry questions not yet
// answered; once it is closed and nothing is pending, it goes back to its shard's free list.
class Connection {
  public:
    Connection(Shard& shard, std::uint32_t index)
        : shard_(shard), server_(shard.server), index_(index),
          deadline_(&Connection::on_deadline, this),
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
    void start(int fd, const tcp::endpoint& remote) {
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
        recycled_ = false;
        phase_ = Phase::reading;
        shard_.attach(this);
        if (server_.logs(LogLevel::verbose)) {
            server_.log(LogLevel::verbose, "accepted " + peer_.endpoint);
        }
        // The read timeout covers the whole request, so a slow drip cannot hold a slot forever.
        arm(shard_.read_timeouts);
        // Not EPOLLOUT: a fresh socket is writable, and saying so would cost a round of the
        // loop per connection; write() asks for it if a reply does not fit.
        if (const auto ec = shard_.poller.add(fd_, EPOLLIN | EPOLLRDHUP | EPOLLET, token())) {
            server_.log(LogLevel::error, "cannot watch " + peer_.endpoint + ": " + ec.message());
            close();
            settle();
        }
    }

    // The loop's events for this socket (edge-triggered: each says something new happened).
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

    // The registry's answer, on this connection's thread.
    void take_answer() {
        --pending_;
        if (phase_ == Phase::asking) {
            answer(asking_.answer);
        }
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
    Connection* next_answered = nullptr; // in the shard's mailbox

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
                    return ask(decoder_.message());
                }
                if (step.status == Status::error) {
                    return answer(server_request::refuse(decoder_.error(), peer_, server_.options));
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
            return ask(decoder_.message());
        }
        if (step.status == Status::error) {
            // Half a request, then the client closed: nothing to send (spec §6.4).
            server_.log(LogLevel::error, "rejected " + peer_.endpoint + ": closed mid-request, " +
                                             to_string(decoder_.error()));
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
        if (pending_ > 0 && !keep_) {
            // Answered later, perhaps after the server is gone: the answer needs this object.
            keep_ = server_.shared_from_this();
        }
    }

    // Inline when the registry answered on this thread (no allocation, no system call), through
    // the mailbox otherwise.
    void on_answered() {
        if (shard_.on_own_thread()) {
            take_answer();
        } else {
            shard_.post_answer(this);
        }
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
                arm(shard_.read_timeouts); // a client that never reads must not hold on
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
        arm(shard_.linger_timeouts);
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
        deadline_.cancel();
        ::close(fd_); // which also takes it out of the loop's set
        fd_ = -1;
        shard_.detach(this);
        if (server_.logs(LogLevel::verbose)) { // composed only when wanted: no allocation
            server_.log(LogLevel::verbose, "closed " + peer_.endpoint);
        }
    }

    // Back to the free list once closed and nothing is left to call this connection back.
    void settle() {
        if (phase_ == Phase::closed && pending_ == 0 && !recycled_) {
            recycled_ = true;
            auto keep = std::move(keep_); // may be the last hold on the server: released last
            shard_.recycle(this);
        }
    }

    // One deadline per phase, replacing the previous one.
    void arm(detail::Timeouts& queue) { queue.arm(deadline_, shard_.poller.now()); }

    static void on_deadline(void* connection) {
        auto& c = *static_cast<Connection*>(connection);
        c.expired();
        c.settle();
    }

    void expired() {
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
    std::shared_ptr<Server::State> keep_; // while a registry answer may come from elsewhere
    int fd_ = -1;
    detail::Timeout deadline_;
    StreamDecoder decoder_;
    Peer peer_;
    server_request::Asking asking_;
    std::string reply_;
    std::array<char, 1024> buffer_{};
    std::uint64_t received_ = 0;
    std::size_t drained_ = 0;
    std::size_t written_ = 0;
    int pending_ = 0;
    Phase phase_ = Phase::closed;
    bool readable_ = false;        // the socket may have input (an edge came since the last EAGAIN)
    bool writable_ = false;        // the socket may take output
    bool peer_done_ = false;       // the client's FIN has arrived
    bool all_read_ = false;        // the last read took all input up to the client's FIN
    bool watching_writes_ = false; // EPOLLOUT asked for (a reply did not fit at once)
    bool recycled_ = true;         // on the free list (or never started)
};

Shard::Shard(Server::State& server_)
    : server(server_), poller(&Shard::on_ready, this), read_timeouts(server.options.read_timeout),
      linger_timeouts(server.options.linger_timeout), drain_timeouts(server.options.drain_timeout),
      retry_timeouts(detail::ListeningSocket::retry_pause),
      drain([](void* shard) { static_cast<Shard*>(shard)->cut(); }, this),
      retry([](void* shard) { (void)static_cast<Shard*>(shard)->start_accepting(); }, this) {
    poller.watch(read_timeouts);
    poller.watch(linger_timeouts);
    poller.watch(drain_timeouts);
    poller.watch(retry_timeouts);
}

Shard::~Shard() {
    close_listening();
}

std::error_code Shard::open(const tcp::endpoint& endpoint, bool several) {
    std::error_code ec;
    listening = detail::open_listening(endpoint, several, true, ec);
    return ec;
}

std::error_code Shard::start_accepting() {
    if (listening < 0) {
        return {};
    }
    return poller.add(listening, EPOLLIN, listening_token);
}

// The shard's thread.
void Shard::run() {
    current = this;
    poller.run();
    current = nullptr;
}

void Shard::on_ready(void* context, std::uint64_t token, std::uint32_t events) {
    auto& shard = *static_cast<Shard*>(context);
    if (token == detail::Poller::woken_token) {
        return shard.take_mail();
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
// default: a failed accept4 costs a system call, another round of the loop costs none more than
// the round already makes for the other sockets.
void Shard::accept() {
    if (stopping) {
        return;
    }
    tcp::endpoint remote;
    socklen_t length = static_cast<socklen_t>(remote.capacity());
    const int fd = ::accept4(listening, remote.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
            return;
        }
        // Typically out of file descriptors: pause instead of spinning on the same error.
        server.log(LogLevel::error, "accept failed: " + std::system_category().message(errno));
        poller.remove(listening);
        retry_timeouts.arm(retry, poller.now());
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
    c->start(fd, remote);
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
        // Finished in a round of its own, once whatever closed the last connection has returned:
        // the stop's end lets the caller go on, and this thread must be done with its log by then.
        poller.wake();
    }
}

void Shard::post_answer(Connection* c) {
    bool wake = false;
    {
        const std::scoped_lock lock(mail_mutex);
        c->next_answered = nullptr;
        (answered_last != nullptr ? answered_last->next_answered : answered) = c;
        answered_last = c;
        wake = !std::exchange(mail_waiting, true);
    }
    if (wake) {
        poller.wake();
    }
}

void Shard::post_stop() {
    post(stop_asked);
}

void Shard::post_close() {
    post(close_asked);
}

void Shard::post(bool& asked) {
    bool wake = false;
    {
        const std::scoped_lock lock(mail_mutex);
        asked = true;
        wake = !std::exchange(mail_waiting, true);
    }
    if (wake) {
        poller.wake();
    }
}

// On the shard's thread (or, once its loop has ended, on the thread that joined it).
void Shard::take_mail() {
    Connection* first = nullptr;
    bool stop_now = false;
    bool close = false;
    {
        const std::scoped_lock lock(mail_mutex);
        first = std::exchange(answered, nullptr);
        answered_last = nullptr;
        stop_now = std::exchange(stop_asked, false);
        close = std::exchange(close_asked, false);
        mail_waiting = false;
    }
    while (first != nullptr) {
        Connection* c = std::exchange(first, first->next_answered);
        c->take_answer();
    }
    if (close) {
        close_now();
    } else if (stop_now) {
        stop();
    } else if (stopping && live.empty()) {
        finished();
    }
}

// No connection left after stop(): the loop ends, and the server hears of it.
void Shard::finished() {
    if (stopped) {
        return;
    }
    stopped = true;
    drain.cancel();
    poller.quit();
    server.shard_stopped();
}

void Shard::close_listening() {
    if (listening >= 0) {
        ::close(listening);
        listening = -1;
    }
    retry.cancel();
}

void Shard::stop() {
    if (stopping || stopped) {
        return;
    }
    close_listening();
    for (Connection* c : std::vector<Connection*>(live)) {
        c->on_stop();
    }
    // Only now: closing those did not finish the shard before its stopping line was logged.
    stopping = true;
    // After on_stop(): the line counts the connections still being served, not those that were
    // answered and only wait for the client's close.
    server.listener_closed();
    if (live.empty()) {
        return finished();
    }
    drain_timeouts.arm(drain, poller.now());
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
    close_listening();
    drain.cancel();
    for (Connection* c : std::vector<Connection*>(live)) {
        c->abort();
    }
    poller.quit();
}

std::error_code Server::State::listen() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) {
        return ec;
    }
    const unsigned count = std::max(1U, options.threads);
    for (unsigned i = 0; i < count; ++i) {
        shards.push_back(std::make_unique<Shard>(*this));
    }
    // The first socket picks the port (perhaps an ephemeral one); the others join it.
    tcp::endpoint endpoint(address, options.port);
    for (auto& shard : shards) {
        if (const auto error = shard->open(endpoint, count > 1)) {
            for (auto& opened : shards) {
                opened->close_listening();
            }
            return error;
        }
        endpoint = detail::bound_endpoint(shard->listening);
    }
    bound = endpoint;
    for (auto& shard : shards) {
        if (const auto error = shard->start_accepting()) {
            return error;
        }
    }
    {
        const std::scoped_lock lock(stop_mutex);
        work.emplace(io.get_executor());
    }
    log(LogLevel::info, "tcp-chat-server " + std::string(project_version) + " listening on " +
                            server_request::host_port(bound.address().to_string(), bound.port()));
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
        return report_stopped();
    }
    for (auto& shard : shards) {
        shard->post_stop();
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

// Once per shard after stop(), on its thread; the last one hands the end to the caller's
// io_context.
void Server::State::shard_stopped() {
    {
        const std::scoped_lock lock(stop_mutex);
        if (stopped || (running > 0 && --running > 0)) {
            return;
        }
        stopped = true;
    }
    log(LogLevel::info, "stopped");
    asio::post(io, [state = shared_from_this()] { state->report_stopped(); });
}

// On the caller's io_context (or the caller's thread, for a stop() after the server stopped):
// the callbacks, then the io_context may run out of work.
void Server::State::report_stopped() {
    std::vector<std::function<void()>> callbacks;
    {
        const std::scoped_lock lock(stop_mutex);
        callbacks.swap(on_stopped);
    }
    for (auto& callback : callbacks) {
        callback();
    }
    const std::scoped_lock lock(stop_mutex);
    work.reset();
}

// The destructor's first step: whatever the shards still do, no stop callback runs any more.
void Server::State::abandon() {
    const std::scoped_lock lock(stop_mutex);
    stopping = true;
    stopped = true;
    on_stopped.clear();
}

// Its last, once the shards' threads are joined: no more log lines, and the caller's io_context
// is free to run out of work.
void Server::State::close_now() {
    {
        const std::scoped_lock lock(stop_mutex);
        work.reset();
    }
    const std::scoped_lock lock(log_mutex);
    sink = nullptr;
}

Server::Server(asio::io_context& io, ServerOptions options, Registry& registry, LogSink log)
    : state_(std::make_shared<State>(io, std::move(options), registry, std::move(log))) {}

Server::~Server() {
    shut_down();
}

// Every shard closes what it has, on its own thread, and its loop ends; what reached a mailbox
// after that is taken here, once the threads are joined.
void Server::shut_down() {
    state_->abandon();
    for (auto& shard : state_->shards) {
        shard->post_close();
    }
    for (auto& thread : threads_) {
        if (thread.joinable()) {
            thread.join();
        }
    }
    threads_.clear();
    for (auto& shard : state_->shards) {
        shard->take_mail();
        shard->close_now();
    }
    state_->close_now();
}

std::error_code Server::listen() {
    if (const auto ec = state_->listen()) {
        shut_down();
        return ec;
    }
    for (auto& shard : state_->shards) {
        threads_.emplace_back([shard = shard.get()] { shard->run(); });
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
