// The peer connection (spec §5.5-§5.7, §10.3-§10.5). Every byte goes through the codec: the
// waiting side reads CHAT with StreamDecoder(Context::chat_open), both sides then read with the
// same decoder in Context::chat and write with encode().
#include "tcpchat/peer_link.hpp"

#include "listening_socket.hpp"
#include "opening.hpp"
#include "tcpchat/encode.hpp"
#include "tcpchat/request_client.hpp"
#include "timed_operation.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <iterator>
#include <list>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace tcpchat {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string remote_text(const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    return ec ? std::string("an unknown address") : address_text(endpoint);
}

void close_now(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.close(ignored);
}

// A peer that sent no CHAT (§9.2): named by the address it connected from.
ContactRecord address_only(const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (ec) {
        return {"unknown-peer", "", 0};
    }
    return {address_text(endpoint), endpoint.address().to_string(), endpoint.port()};
}

} // namespace

std::error_code check_text(std::string_view text, const Limits& limits) {
    // The client checks every line it sends: the scratch buffer keeps its capacity.
    thread_local std::string scratch;
    scratch.clear();
    return encode(Text{text}, scratch, limits);
}

// ---- PeerLink ------------------------------------------------------------------------------

PeerLink::PeerLink(tcp::socket socket, ContactRecord peer, StreamDecoder decoder,
                   std::string unread, PeerOptions options, std::optional<std::string> first_turn,
                   Framing first_framing)
    : socket_(std::move(socket)), linger_(socket_.get_executor()), pause_(socket_.get_executor()),
      hold_(socket_.get_executor()), peer_(std::move(peer)), remote_(remote_text(socket_)),
      decoder_(std::move(decoder)), unread_(std::move(unread)), first_turn_(std::move(first_turn)),
      options_(std::move(options)),
      framing_(options_.framing.value_or(first_turn_ ? first_framing : Framing::crlf)),
      heard_(!unread_.empty() || first_turn_) {
    // Non-blocking for the writes tried at once; the asynchronous operations work either way.
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    write_at_once_ = !ec;
}

PeerLink::~PeerLink() {
    close_now(socket_);
}

void PeerLink::start(Events events) {
    events_ = std::move(events);
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
        if (self->first_turn_ && self->events_.on_text) {
            self->events_.on_text(*self->first_turn_);
        }
        const std::string unread = std::move(self->unread_);
        self->consume(unread);
        if (self->state_ != State::ended) {
            self->arm_pause();
            self->read();
        }
    });
}

std::error_code PeerLink::send_text(std::string_view text) {
    if (state_ != State::open) {
        return std::make_error_code(std::errc::not_connected);
    }
    // encode_turn() appends, or leaves out_ as it was when it refuses the text.
    if (const auto error = encode_turn(Text{text}, framing_, out_, options_.decoding.limits)) {
        return error;
    }
    write_next();
    return {};
}

void PeerLink::quit() {
    leave({ChatEnd::quit_sent, {}, "you left the chat"});
}

void PeerLink::leave(ChatEnded report) {
    if (state_ != State::open) {
        return;
    }
    state_ = State::quitting;
    report_ = std::move(report);
    (void)encode_turn(Quit{}, framing_, out_); // the QUIT this peer understands (§5.7)
    quit_queued_ = true;
    write_next();
}

void PeerLink::close() {
    if (state_ == State::ended) {
        return;
    }
    state_ = State::ended;
    linger_.cancel();
    pause_.cancel();
    hold_.cancel();
    out_.clear();
    close_now(socket_);
}

std::string PeerLink::who() const {
    return peer_.id + " (" + remote_ + ")";
}

void PeerLink::read() {
    // Asio 1.74 tries every read at once before it waits (a recvfrom that fails with EAGAIN in a
    // ping-pong); async_wait(wait_read) would cost an epoll_ctl instead, no fewer calls.
    socket_.async_read_some(
        asio::buffer(chunk_),
        with_memory(read_memory_,
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                        if (self->state_ == State::ended) {
                            return;
                        }
                        self->heard_ = self->heard_ || n > 0;
                        self->consume(std::string_view(self->chunk_.data(), n));
                        if (self->state_ == State::ended) {
                            return;
                        }
                        self->arm_pause();
                        if (ec == asio::error::eof) {
                            self->end_of_stream();
                        } else if (ec && self->state_ == State::quitting) {
                            self->end_quitting();
                        } else if (ec) {
                            self->end(ChatEnd::broken, ec,
                                      "connection to " + self->who() + " lost: " + ec.message());
                        } else {
                            self->read();
                        }
                    }));
}

void PeerLink::consume(std::string_view data) {
    while (!data.empty() && state_ != State::ended) {
        const Step step = decoder_.feed(data);
        data.remove_prefix(step.consumed);
        handle(step);
        if (step.status == Status::error) {
            return;
        }
    }
}

void PeerLink::handle(const Step& step) {
    if (step.status == Status::error) {
        // Malformed input: report it, send QUIT, close (spec §10.5). Once we are leaving,
        // whatever the peer sends is dropped.
        leave({ChatEnd::broken, decoder_.error().error_code(),
               who() + " sent malformed data: " + to_string(decoder_.error())});
        return;
    }
    if (step.status != Status::message || state_ != State::open) {
        return;
    }
    if (const auto* text = std::get_if<Text>(&decoder_.message())) {
        turn_text(text->text, decoder_.framing());
    } else if (std::holds_alternative<Quit>(decoder_.message())) {
        end(ChatEnd::quit_received, {}, peer_.id + " left the chat");
    } else {
        leave(
            {ChatEnd::broken, make_error_code(Errc::unexpected_method),
             who() + " sent " + std::string(method_name(decoder_.message())) + " during the chat"});
    }
}

void PeerLink::turn_text(std::string_view text, Framing framing) {
    if (!options_.framing) {
        framing_ = framing; // answer in kind (spec §10.4)
    }
    if (events_.on_text) {
        events_.on_text(text);
    }
}

// Bytes of an unfinished turn wait for more, or for a pause to end the turn (spec §5.6). Whole
// lines leave the decoder idle: then the timer is not touched, unless it was armed.
void PeerLink::arm_pause() {
    if (decoder_.idle() || state_ != State::open) {
        if (pause_armed_) {
            pause_armed_ = false;
            pause_.cancel();
        }
        return;
    }
    pause_armed_ = true;
    pause_.expires_after(options_.turn_pause);
    pause_.async_wait(
        with_memory(pause_memory_, [self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                self->pause_armed_ = false;
                self->paused();
            }
        }));
}

void PeerLink::paused() {
    while (state_ == State::open) {
        const Step step = decoder_.pause();
        handle(step);
        if (step.status != Status::message) {
            return;
        }
    }
}

void PeerLink::end_of_stream() {
    if (state_ == State::quitting) {
        end_quitting();
        return;
    }
    // The close ends the peer's last turn too: an unterminated line is shown first (§10.5).
    for (;;) {
        const Step step = decoder_.finish();
        if (step.status == Status::message) {
            handle(step);
            if (state_ != State::open) {
                return;
            }
            continue;
        }
        if (step.status == Status::error) {
            end(ChatEnd::broken, decoder_.error().error_code(),
                "connection to " + who() + " lost in the middle of a line");
            return;
        }
        end(ChatEnd::closed, {}, peer_.id + " closed the connection");
        return;
    }
}

void PeerLink::hold_writes(std::chrono::milliseconds gap) {
    held_ = true;
    hold_.expires_after(gap);
    hold_.async_wait([self = shared_from_this()](boost::system::error_code) {
        self->held_ = false;
        self->write_next();
    });
}

// Writes what is queued, in order, so the bytes of two turns never interleave: at once while the
// socket takes it all, otherwise the rest in one asynchronous write, behind which later turns wait
// in out_. A failed write is reported by the asynchronous write, never from inside send_text() or
// quit(), whose caller may be in on_text.
void PeerLink::write_next() {
    if (writing_ || held_ || state_ == State::ended) {
        return;
    }
    if (!out_.empty()) {
        std::size_t written = 0;
        if (write_at_once_) {
            boost::system::error_code ec;
            written = socket_.write_some(asio::buffer(out_), ec);
        }
        if (written < out_.size()) {
            std::swap(sending_, out_); // out_ is now empty, with sending_'s old capacity
            sending_.erase(0, written);
            write_rest();
            return;
        }
        out_.clear();
    }
    if (quit_queued_) {
        after_quit_written();
    }
}

void PeerLink::write_rest() {
    writing_ = true;
    asio::async_write(socket_, asio::buffer(sending_),
                      with_memory(write_memory_, [self = shared_from_this()](
                                                     boost::system::error_code ec, std::size_t) {
                          self->writing_ = false;
                          self->sending_.clear();
                          if (self->state_ == State::ended) {
                              return;
                          }
                          if (ec && self->state_ == State::quitting) {
                              self->end_quitting();
                              return;
                          }
                          if (ec) {
                              self->end(ChatEnd::broken, ec,
                                        "connection to " + self->who() + " lost: " + ec.message());
                              return;
                          }
                          self->write_next();
                      }));
}

void PeerLink::after_quit_written() {
    quit_queued_ = false;
    // Half-close, then read and drop until the peer closes: closing with its bytes unread could
    // reset the connection and destroy our QUIT before the peer reads it (spec §4.1 "Closing").
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    linger_.expires_after(options_.linger_timeout);
    linger_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && self->state_ == State::quitting) {
            self->end_quitting();
        }
    });
}

void PeerLink::end_quitting() {
    auto report = std::move(report_);
    end(report.how, report.code, std::move(report.message));
}

void PeerLink::end(ChatEnd how, std::error_code code, std::string message) {
    if (state_ == State::ended) {
        return;
    }
    state_ = State::ended;
    linger_.cancel();
    pause_.cancel();
    hold_.cancel();
    out_.clear();
    close_now(socket_);
    auto on_end = std::move(events_.on_end);
    events_.on_end = nullptr;
    if (on_end) {
        on_end(ChatEnded{how, code, std::move(message), heard_});
    }
}

// ---- Initiator -----------------------------------------------------------------------------

class Initiator::Attempt : public detail::TimedOperation<Attempt, PeerResult> {
  public:
    Attempt(const asio::any_io_executor& executor, ContactRecord peer, ContactRecord self,
            PeerOptions options, Handler handler)
        : TimedOperation(executor, std::move(handler)), peer_(std::move(peer)),
          self_(std::move(self)),
          name_("peer " + peer_.id + " at " + address_text(peer_.host, peer_.port)),
          options_(std::move(options)) {}

    void start() {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(peer_.host, ec);
        if (ec) {
            fail(ec, "cannot connect to " + name_ + ": not an IP address");
            return;
        }
        if (const auto error = encode(Chat{self_.view()}, out_, options_.decoding.limits)) {
            fail(error, "cannot send CHAT to " + name_ + ": " + error.message());
            return;
        }
        arm(options_.connect_timeout, [](Attempt& self) {
            self.fail(asio::error::timed_out, "cannot connect to " + self.name_ +
                                                  ": no answer within " +
                                                  duration_text(self.options_.connect_timeout));
        });
        socket_.async_connect(tcp::endpoint(address, peer_.port),
                              guarded([](Attempt& self, boost::system::error_code error) {
                                  if (error) {
                                      self.fail(error, "cannot connect to " + self.name_ + ": " +
                                                           error.message());
                                      return;
                                  }
                                  // A message-framed first turn is the opening (spec §5.5).
                                  if (self.options_.framing == Framing::message) {
                                      self.opened(false);
                                  } else {
                                      self.send_chat();
                                  }
                              }));
    }

  private:
    friend TimedOperation;

    static PeerResult failure(std::error_code code, std::string message) {
        return PeerResult{nullptr, code, std::move(message)};
    }

    void send_chat() {
        asio::async_write(socket_, asio::buffer(out_),
                          guarded([](Attempt& self, boost::system::error_code error, std::size_t) {
                              if (error) {
                                  self.fail(error, "cannot send CHAT to " + self.name_ + ": " +
                                                       error.message());
                                  return;
                              }
                              self.opened(true);
                          }));
    }

    void opened(bool chat_sent) {
        auto link = std::make_shared<PeerLink>(std::move(socket_), peer_,
                                               StreamDecoder(Context::chat, options_.decoding),
                                               std::string(), options_);
        if (chat_sent) {
            // The first line never shares a segment with CHAT: some installed-base waiters
            // match their whole first read against CHAT, or drop what came with it (§5.5).
            link->hold_writes(options_.chat_gap);
        }
        deliver(PeerResult{std::move(link), {}, {}});
    }

    ContactRecord peer_;
    ContactRecord self_;
    std::string name_;
    PeerOptions options_;
    std::string out_;
};

Initiator::Initiator(asio::any_io_executor executor, PeerOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

Initiator::~Initiator() {
    cancel();
}

void Initiator::async_open(const ContactRecord& peer, const ContactRecord& self, Handler handler) {
    cancel();
    pending_ = std::make_shared<Attempt>(executor_, peer, self, options_, std::move(handler));
    pending_->start();
}

void Initiator::cancel() {
    if (pending_) {
        pending_->abandon();
        pending_.reset();
    }
}

// ---- WaitMode ------------------------------------------------------------------------------

namespace {

// An incoming connection that has not sent CHAT yet.
struct Handshake {
    Handshake(tcp::socket s, const PeerOptions& options)
        : socket(std::move(s)), timer(socket.get_executor()), pause(socket.get_executor()),
          decoder(Context::chat_open, options.decoding), address(remote_text(socket)) {}

    tcp::socket socket;
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
    asio::steady_timer pause; // a first turn without CHAT is whole after a pause (§9.2)
    StreamDecoder decoder;
    std::string address;
    std::array<char, 1024> chunk{};
};

} // namespace

class WaitMode::Listener : public std::enable_shared_from_this<Listener> {
  public:
    Listener(asio::any_io_executor executor, PeerOptions options, Log log)
        : socket_(executor), pause_(executor), options_(std::move(options)), log_(std::move(log)) {}

    std::error_code listen(const tcp::endpoint& endpoint) { return socket_.open(endpoint); }

    void wait(Handler handler) {
        handler_ = std::move(handler);
        accept();
    }

    void close() {
        handler_ = nullptr;
        sum_up_closed(); // what the flood cost is said, even when nothing came after it
        socket_.close();
        paused_ = false;
        pause_.cancel();
        for (auto& handshake : handshakes_) {
            handshake->timer.cancel();
            handshake->pause.cancel();
            close_now(handshake->socket);
        }
        handshakes_.clear();
    }

    [[nodiscard]] tcp::endpoint local_endpoint() const { return socket_.local_endpoint(); }

    [[nodiscard]] bool listening() const noexcept { return socket_.is_open(); }

    [[nodiscard]] std::size_t pending() const noexcept { return handshakes_.size(); }

  private:
    using Entry = std::list<std::shared_ptr<Handshake>>::iterator;

    void accept() {
        if (const auto wait = until_evictable(); wait.count() > 0) {
            // Every pending connection is younger than the grace: none may be evicted yet, so
            // newcomers wait in the listen backlog (spec §10.3).
            paused_ = true;
            pause_.expires_after(wait);
            pause_.async_wait([self = shared_from_this()](boost::system::error_code) {
                if (self->paused_ && self->socket_.is_open()) {
                    self->paused_ = false;
                    self->accept();
                }
            });
            return;
        }
        socket_.acceptor().async_accept(
            [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
                if (ec == asio::error::operation_aborted || !self->socket_.is_open()) {
                    return; // closed, and perhaps listening again since: a new accept loop
                }
                if (ec) {
                    // Out of descriptors and the like: say so and try again shortly, not in a loop.
                    self->log("cannot accept a connection: " + ec.message());
                    self->socket_.retry_later([self] { self->accept(); });
                    return;
                }
                self->admit(std::move(socket));
                self->accept();
            });
    }

    // How long until the oldest pending connection may be evicted, when all slots are taken: a
    // connection always has eviction_grace to send CHAT, however fast strangers reconnect.
    [[nodiscard]] std::chrono::steady_clock::duration until_evictable() const {
        if (chat_started_ || handshakes_.size() < options_.max_pending) {
            return {};
        }
        const auto ripe = handshakes_.back()->since + options_.eviction_grace;
        return std::max(ripe - std::chrono::steady_clock::now(),
                        std::chrono::steady_clock::duration::zero());
    }

    // A slot was freed, or the chat began: accept again at once if accepting was paused.
    void resume_accepting() {
        if (paused_) {
            paused_ = false;
            pause_.cancel();
            accept();
        }
    }

    void admit(tcp::socket socket) {
        if (chat_started_) {
            // One chat per client (spec §10.3): accepted and closed at once, without a byte.
            log_closed(remote_text(socket), "a chat is already active");
            close_now(socket);
            return;
        }
        if (handshakes_.size() >= options_.max_pending) {
            // Evict the oldest: a real initiator sends CHAT right after connecting (§10.4), so
            // the connection that has waited longest is the least likely to be one. Refusing the
            // newcomer instead would let a few reconnecting strangers keep every peer out.
            reject(std::prev(handshakes_.end()), "evicted, the oldest of " +
                                                     std::to_string(handshakes_.size()) +
                                                     " connections without CHAT");
        }
        handshakes_.push_front(std::make_shared<Handshake>(std::move(socket), options_));
        const Entry entry = handshakes_.begin();
        auto handshake = *entry;
        handshake->timer.expires_after(options_.handshake_timeout);
        handshake->timer.async_wait([self = shared_from_this(), handshake,
                                     entry](boost::system::error_code ec) {
            if (!ec && handshake->socket.is_open()) {
                self->reject(entry,
                             "no CHAT within " + duration_text(self->options_.handshake_timeout));
            }
        });
        read(entry);
    }

    void read(Entry entry) {
        auto handshake = *entry;
        handshake->socket.async_read_some(
            asio::buffer(handshake->chunk), [self = shared_from_this(), handshake,
                                             entry](boost::system::error_code ec, std::size_t n) {
                if (!handshake->socket.is_open()) {
                    return; // rejected, closed or handed over meanwhile
                }
                std::string_view data(handshake->chunk.data(), n);
                if (self->decide(entry, detail::classify_opening(handshake->decoder, data), data)) {
                    return;
                }
                self->await_pause(entry);
                if (ec == asio::error::eof) {
                    self->reject(entry, "connection closed before CHAT");
                } else if (ec) {
                    self->reject(entry, "connection failed before CHAT: " + ec.message());
                } else {
                    self->read(entry);
                }
            });
    }

    // Acts on what the first bytes are; false while they are undecided.
    bool decide(Entry entry, detail::Opening opening, std::string_view unread) {
        using Kind = detail::Opening::Kind;
        switch (opening.kind) {
        case Kind::need_more: return false;
        case Kind::reject: reject(entry, opening.why); return true;
        case Kind::chat:
        case Kind::unframed_text:
        case Kind::message_framed: take(entry, std::move(opening), unread); return true;
        }
        return false;
    }

    // Bytes without a line end may be a whole first turn: a pause decides (§9.2).
    void await_pause(Entry entry) {
        auto handshake = *entry;
        if (handshake->decoder.idle()) {
            return;
        }
        handshake->pause.expires_after(options_.turn_pause);
        handshake->pause.async_wait(
            [self = shared_from_this(), handshake, entry](boost::system::error_code ec) {
                if (!ec && handshake->socket.is_open()) {
                    (void)self->decide(entry, detail::classify_opening_at_pause(handshake->decoder),
                                       {});
                }
            });
    }

    void reject(Entry entry, const std::string& why) {
        auto handshake = *entry;
        log_closed(handshake->address, why);
        handshake->timer.cancel();
        handshake->pause.cancel();
        close_now(handshake->socket);
        handshakes_.erase(entry);
        resume_accepting();
    }

    // The first CHAT (or first turn, §9.2) wins: the connection becomes the chat, the others
    // are closed. A peer that sent no CHAT is known by its address only.
    void take(Entry entry, detail::Opening opening, std::string_view unread) {
        auto handshake = *entry;
        ContactRecord peer = opening.kind == detail::Opening::Kind::chat
                                 ? std::move(opening.peer)
                                 : address_only(handshake->socket);
        handshake->timer.cancel();
        handshake->pause.cancel();
        // Taken at a pause, a read is still pending: its bytes belong to the link.
        boost::system::error_code ignored;
        handshake->socket.cancel(ignored);
        handshakes_.erase(entry);
        chat_started_ = true;
        for (auto& other : handshakes_) {
            log_closed(other->address, peer.id + " started a chat first");
            other->timer.cancel();
            other->pause.cancel();
            close_now(other->socket);
        }
        handshakes_.clear();
        sum_up_closed();
        resume_accepting();
        std::optional<std::string> first_turn;
        if (opening.kind != detail::Opening::Kind::chat) {
            first_turn = std::move(opening.text);
        }
        auto link = std::make_shared<PeerLink>(std::move(handshake->socket), std::move(peer),
                                               std::move(handshake->decoder), std::string(unread),
                                               options_, std::move(first_turn), opening.framing);
        auto handler = std::move(handler_);
        handler_ = nullptr;
        if (handler) {
            handler(std::move(link));
        }
    }

    void log(const std::string& line) const {
        if (log_) {
            log_(line);
        }
    }

    // One line per closed connection, but at most closed_lines_per_interval lines in each
    // interval; the rest are counted and summed up in one line when the next interval starts.
    void log_closed(const std::string& address, const std::string& why) {
        const auto now = std::chrono::steady_clock::now();
        if (now - interval_start_ >= closed_log_interval) {
            sum_up_closed();
            interval_start_ = now;
            lines_in_interval_ = 0;
        }
        if (lines_in_interval_ < closed_lines_per_interval) {
            ++lines_in_interval_;
            log("closed " + address + ": " + why);
        } else {
            ++unlogged_closes_;
        }
    }

    void sum_up_closed() {
        if (unlogged_closes_ > 0) {
            log("closed " + std::to_string(unlogged_closes_) +
                " more connections that did not send CHAT, not logged one by one");
            unlogged_closes_ = 0;
        }
    }

    static constexpr std::chrono::seconds closed_log_interval{10};
    static constexpr std::size_t closed_lines_per_interval = 8;

    detail::ListeningSocket socket_;
    asio::steady_timer pause_; // accepting waits for the oldest pending connection's grace
    PeerOptions options_;
    Log log_;
    Handler handler_;
    std::list<std::shared_ptr<Handshake>> handshakes_; // newest first
    bool chat_started_ = false;
    bool paused_ = false;
    std::chrono::steady_clock::time_point interval_start_{};
    std::size_t lines_in_interval_ = 0;
    std::size_t unlogged_closes_ = 0;
};

WaitMode::WaitMode(asio::any_io_executor executor, PeerOptions options, Log log)
    : listener_(
          std::make_shared<Listener>(std::move(executor), std::move(options), std::move(log))) {}

WaitMode::~WaitMode() {
    close();
}

std::error_code WaitMode::listen(const tcp::endpoint& endpoint) {
    return listener_->listen(endpoint);
}

tcp::endpoint WaitMode::local_endpoint() const {
    return listener_->local_endpoint();
}

bool WaitMode::listening() const noexcept {
    return listener_->listening();
}

void WaitMode::async_wait(Handler handler) {
    listener_->wait(std::move(handler));
}

void WaitMode::close() {
    listener_->close();
}

std::size_t WaitMode::pending_connections() const noexcept {
    return listener_->pending();
}

} // namespace tcpchat
