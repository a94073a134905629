// The peer connection (spec §5.5-§5.7, §10.3-§10.5): one TCP connection between two clients for
// the whole chat. The initiator connects and sends CHAT; the waiting client listens (WAIT mode)
// and takes the first connection whose first message is CHAT. Then both read text lines and QUIT
// through the codec's StreamDecoder(Context::chat) and write them with encode().
//
// Turn-taking is the client's business (spec §10.4): PeerLink only guarantees that writes never
// interleave and that QUIT can be sent at any time. Everything runs on the caller's executor and
// is not thread-safe: use it from the executor's thread.
//
// A chat line costs no heap allocation once the link is warm: lines are encoded into one reused
// buffer and written at once while the socket takes them (an asynchronous write only when it
// does not), and the read and timer operations live in recycled handler memory.
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/framing.hpp"
#include "tcpchat/handler_memory.hpp"
#include "tcpchat/message.hpp"
#include "tcpchat/stream_decoder.hpp"

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace tcpchat {

// The concurrency hint for the io_context a chat runs on (tcp-chat-client's, each tcp-chat-load
// thread's): one thread runs it and alone touches its sockets and timers, so the reactor takes no
// lock per socket operation. The scheduler keeps its lock: the resolver's own thread and signal
// delivery hand completions to it (an io_context without any lock refuses async_resolve).
inline constexpr int chat_concurrency_hint = BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO;

struct PeerOptions {
    std::chrono::milliseconds connect_timeout{5000};   // initiator: connecting to the peer
    std::chrono::milliseconds handshake_timeout{5000}; // WAIT: an incoming connection's CHAT
    std::chrono::milliseconds linger_timeout{1000};    // after our QUIT: the peer's close
    // WAIT: connections read at once before one sent CHAT. When all are taken, the oldest is
    // closed to make room, so strangers cannot keep a real peer out (spec §10.3); but not before
    // it had eviction_grace to send CHAT: until then, newcomers wait in the listen backlog.
    std::size_t max_pending = 128;
    std::chrono::milliseconds eviction_grace{50};
    DecodeOptions decoding{}; // lenient profile by default (spec §9.2)
    // No byte from the peer for this long ends its turn (spec §5.6 TURN-PAUSE): what it sent
    // without a line end is then a line, when the leniencies allow.
    std::chrono::milliseconds turn_pause{500};
    // Initiator: between CHAT and the first line, so that they never share a segment (§5.5).
    std::chrono::milliseconds chat_gap{250};
    // How our turns are framed (spec §10.4): a fixed form, or none to learn it from the peer's
    // turns (`auto`: CRLF lines until the peer's first turn shows another form).
    std::optional<Framing> framing;
};

// How a chat ended (spec §10.5).
enum class ChatEnd : std::uint8_t {
    quit_received, // the peer sent QUIT
    quit_sent,     // we sent QUIT (PeerLink::quit)
    closed,        // the peer closed the connection between messages, without QUIT
    broken,        // lost (reset, cut mid-line, failed write), or malformed input sent QUIT
};

struct ChatEnded {
    ChatEnd how = ChatEnd::closed;
    std::error_code code;
    std::string message; // one line for the user, e.g. `user2 left the chat`
    // Whether any byte came from the peer: an initiator that heard nothing was turned away
    // (spec §10.7).
    bool heard = false;
};

// An established chat connection.
class PeerLink : public std::enable_shared_from_this<PeerLink> {
  public:
    struct Events {
        std::function<void(std::string_view text)> on_text; // one chat turn, unstuffed (§5.6)
        std::function<void(const ChatEnded&)> on_end;       // exactly once, unless close()d
    };

    // Made by Initiator and WaitMode: `decoder` is in Context::chat and `unread` holds bytes
    // that arrived after CHAT in the same read.
    // `first_turn` is a turn that came in place of CHAT (§9.2), framed as `first_framing`.
    PeerLink(boost::asio::ip::tcp::socket socket, ContactRecord peer, StreamDecoder decoder,
             std::string unread, PeerOptions options,
             std::optional<std::string> first_turn = std::nullopt,
             Framing first_framing = Framing::crlf);
    ~PeerLink();
    PeerLink(const PeerLink&) = delete;
    PeerLink& operator=(const PeerLink&) = delete;

    // Starts reading; the first events arrive from the executor, never from inside start().
    void start(Events events);

    // Queues one chat line (encode() stuffs a line that looks like QUIT, §5.6). Refused, with
    // nothing sent, when the text cannot go on the wire (a control byte, over MAX-LINE) or the
    // link is no longer open.
    [[nodiscard]] std::error_code send_text(std::string_view text);

    // Sends QUIT after whatever is queued, closes our side, waits at most linger_timeout for the
    // peer's close, then reports ChatEnd::quit_sent (spec §5.7). Incoming text is dropped.
    void quit();

    // Writes nothing for `gap` (the initiator, after CHAT, §5.5); what is sent meanwhile waits.
    void hold_writes(std::chrono::milliseconds gap);

    // Closes at once without QUIT; on_end is not called.
    void close();

    [[nodiscard]] bool open() const noexcept { return state_ == State::open; }
    // The peer's contact: from its CHAT (waiting side) or from BRIDGEACK (initiator).
    [[nodiscard]] const ContactRecord& peer() const noexcept { return peer_; }
    // The peer's address as observed on the connection, `127.0.0.1:3001`.
    [[nodiscard]] const std::string& remote_address() const noexcept { return remote_; }
    // How our turns are framed now: fixed by PeerOptions::framing, or learnt from the peer.
    [[nodiscard]] Framing framing() const noexcept { return framing_; }

  private:
    enum class State : std::uint8_t { open, quitting, ended };

    void read();
    void consume(std::string_view data);
    void handle(const Step& step);
    void turn_text(std::string_view text, Framing framing);
    void arm_pause();
    void paused();
    void end_of_stream();
    void write_next();
    void write_rest();
    void after_quit_written();
    void leave(ChatEnded report);
    void end_quitting();
    void end(ChatEnd how, std::error_code code, std::string message);
    [[nodiscard]] std::string who() const;

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer linger_;
    boost::asio::steady_timer pause_;
    boost::asio::steady_timer hold_;
    ContactRecord peer_;
    std::string remote_;
    StreamDecoder decoder_;
    std::string unread_;
    std::optional<std::string> first_turn_;
    PeerOptions options_;
    Framing framing_;
    Events events_;
    ChatEnded report_; // what on_end says once a QUIT we sent is through
    State state_ = State::open;
    std::string out_;     // encoded turns not yet written, in order
    std::string sending_; // the bytes of the asynchronous write in flight
    bool writing_ = false;
    bool held_ = false;
    bool quit_queued_ = false;   // QUIT is in out_ or sending_, not yet through
    bool write_at_once_ = false; // the socket is non-blocking: try each write before waiting
    bool pause_armed_ = false;
    HandlerMemory read_memory_;
    HandlerMemory write_memory_;
    HandlerMemory pause_memory_;
    bool heard_ = false; // a byte came from the peer
    std::array<char, 4096> chunk_{};
};

// Whether `text` can go on the wire as one chat line: the error send_text() would refuse it with
// (a control byte, longer than MAX-LINE once stuffed), or none. Lets a client keep the turn.
[[nodiscard]] std::error_code check_text(std::string_view text, const Limits& limits = {});

// What opening or waiting yields: a link, or why not (a message naming the address).
struct PeerResult {
    std::shared_ptr<PeerLink> link;
    std::error_code code;
    std::string message;
};

// The initiator's side (spec §10.4): connect to the peer from BRIDGEACK and send CHAT with our
// own contact. The link starts with our turn.
class Initiator {
  public:
    using Handler = std::function<void(PeerResult)>;

    explicit Initiator(boost::asio::any_io_executor executor, PeerOptions options = {});
    ~Initiator(); // cancels
    Initiator(const Initiator&) = delete;
    Initiator& operator=(const Initiator&) = delete;

    // The handler runs once on the executor, unless cancel() comes first.
    void async_open(const ContactRecord& peer, const ContactRecord& self, Handler handler);
    void cancel();

    class Attempt; // defined in peer_link.cpp

  private:
    boost::asio::any_io_executor executor_;
    PeerOptions options_;
    std::shared_ptr<Attempt> pending_;
};

// WAIT mode (spec §10.3): listen on our port and take the first incoming connection whose first
// message is CHAT. A connection that sends anything else, or nothing within handshake_timeout, is
// closed with a log line and waiting goes on. At most max_pending connections are read at once; a
// newcomer beyond that evicts the oldest. Once a chat has started, every further connection is
// accepted and closed at once, without a byte. Log lines about closed connections are limited to
// a few per interval, then summed up, so a flood of connections cannot flood the log.
class WaitMode {
  public:
    using Log = std::function<void(std::string_view line)>;
    using Handler = std::function<void(std::shared_ptr<PeerLink>)>;

    WaitMode(boost::asio::any_io_executor executor, PeerOptions options, Log log);
    ~WaitMode(); // closes the listening socket and any connection not yet handed over
    WaitMode(const WaitMode&) = delete;
    WaitMode& operator=(const WaitMode&) = delete;

    // Binds and listens at once (so the port is ready before BRIDGE goes out); accepting starts
    // with async_wait(). Returns the bind or listen error instead of throwing.
    [[nodiscard]] std::error_code listen(const boost::asio::ip::tcp::endpoint& endpoint);
    [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;
    [[nodiscard]] bool listening() const noexcept;

    // Starts accepting; `handler` runs once, with the first peer that sent CHAT.
    void async_wait(Handler handler);

    // Stops listening and drops connections that have not sent CHAT yet.
    void close();

    // Incoming connections that have not sent CHAT yet, each holding a descriptor.
    [[nodiscard]] std::size_t pending_connections() const noexcept;

    class Listener; // defined in peer_link.cpp

  private:
    std::shared_ptr<Listener> listener_;
};

} // namespace tcpchat
