// The peer link against fake peers on loopback (spec §5.5-§5.7, §10.3-§10.5). The fake side uses
// plain blocking sockets with poll() deadlines; the link's io_context runs on the test thread in
// between, so every interleaving below is the one written, not a race.
#include "tcpchat/error.hpp"
#include "tcpchat/peer_link.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it
#include <vector>

namespace tcpchat {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

constexpr int deadline_ms = 10000; // generous: the tests also run under ASan on a busy machine

// ---- The fake peer: blocking POSIX sockets with deadlines -----------------------------------

class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        reset();
        fd_ = std::exchange(other.fd_, -1);
        return *this;
    }
    ~Fd() { reset(); }
    void reset() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = -1;
    }
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_ = -1;
};

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

std::uint16_t port_of(const Fd& fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

Fd fake_listener() {
    Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    auto address = loopback(0);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd.get(), 8), 0);
    return fd;
}

bool readable(const Fd& fd, int timeout_ms = deadline_ms) {
    pollfd p{fd.get(), POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

Fd fake_accept(const Fd& listener) {
    if (!readable(listener)) {
        ADD_FAILURE() << "nobody connected";
        return {};
    }
    return Fd(::accept(listener.get(), nullptr, nullptr));
}

Fd fake_connect(std::uint16_t port) {
    Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    auto address = loopback(port);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void fake_send(const Fd& fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        ASSERT_GT(n, 0);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads exactly `n` bytes (fewer if the connection ends or the deadline passes).
std::string fake_read(const Fd& fd, std::size_t n) {
    std::string out;
    char buffer[4096];
    while (out.size() < n && readable(fd)) {
        const auto got = ::recv(fd.get(), buffer, std::min(sizeof buffer, n - out.size()), 0);
        if (got <= 0) {
            break;
        }
        out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
}

// Reads until the peer closes; nullopt if it has not closed by the deadline.
std::optional<std::string> fake_read_to_end(const Fd& fd) {
    std::string out;
    char buffer[4096];
    while (readable(fd)) {
        const auto got = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (got <= 0) {
            return out; // EOF or reset: closed either way
        }
        out.append(buffer, static_cast<std::size_t>(got));
    }
    return std::nullopt;
}

void fake_reset(Fd& fd) {
    linger hard{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    fd.reset();
}

// ---- The link's side -------------------------------------------------------------------------

template <class Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        if (io.run_one_for(10ms) == 0 && io.stopped()) {
            io.restart();
            std::this_thread::sleep_for(1ms);
        }
    }
    return done();
}

// Drives the io_context for a moment, so that whatever is ready gets done.
void settle(asio::io_context& io, std::chrono::milliseconds how_long = 50ms) {
    io.restart();
    io.run_for(how_long);
}

struct Recorder {
    std::vector<std::string> texts;
    std::optional<ChatEnded> ended;

    PeerLink::Events events() {
        return {[this](std::string_view text) { texts.emplace_back(text); },
                [this](const ChatEnded& e) { ended = e; }};
    }
};

PeerOptions quick() {
    PeerOptions options;
    options.connect_timeout = 10s;
    options.handshake_timeout = 10s;
    options.linger_timeout = 10s;
    options.chat_gap = 0ms; // the tests that need it set it
    return options;
}

const ContactRecord user1{"user1", "127.0.0.1", 3000};
const std::string chat_from_user2 =
    "CHAT\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n";

class PeerLinkTest : public ::testing::Test {
  protected:
    // The initiator's side: a link to a fake waiting peer, which has read our CHAT.
    std::shared_ptr<PeerLink> open_to_fake(PeerOptions options = quick()) {
        Initiator initiator(io.get_executor(), options);
        std::optional<PeerResult> result;
        const ContactRecord fake{"user2", "127.0.0.1", port_of(listener)};
        initiator.async_open(fake, user1, [&](PeerResult r) { result = std::move(r); });
        EXPECT_TRUE(run_until(io, [&] { return result.has_value(); }));
        EXPECT_TRUE(result && result->link) << (result ? result->message : "no result");
        peer = fake_accept(listener);
        EXPECT_EQ(fake_read(peer, user1_chat.size()), user1_chat);
        if (result && result->link) {
            result->link->start(recorder.events());
        }
        return result ? result->link : nullptr;
    }

    // The waiting side: WaitMode on an ephemeral port.
    std::uint16_t wait(PeerOptions options = quick()) {
        wait_mode.emplace(io.get_executor(), options,
                          [this](std::string_view line) { log.emplace_back(line); });
        EXPECT_FALSE(wait_mode->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
        wait_mode->async_wait(take_link());
        return wait_mode->local_endpoint().port();
    }

    WaitMode::Handler take_link() {
        return [this](std::shared_ptr<PeerLink> l) {
            link = std::move(l);
            link->start(recorder.events());
        };
    }

    bool log_says(std::string_view what) const {
        for (const auto& line : log) {
            if (line.find(what) != std::string::npos) {
                return true;
            }
        }
        return false;
    }

    const std::string user1_chat = "CHAT\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n";
    asio::io_context io{chat_concurrency_hint}; // as tcp-chat-client's
    Fd listener = fake_listener();
    Fd peer;
    Recorder recorder;
    std::optional<WaitMode> wait_mode;
    std::shared_ptr<PeerLink> link;
    std::vector<std::string> log;
};

// ---- Initiator -------------------------------------------------------------------------------

TEST_F(PeerLinkTest, InitiatorSendsChatThenLinesBothWays) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    EXPECT_EQ(link->peer().id, "user2");

    EXPECT_FALSE(link->send_text("hello"));
    settle(io);
    EXPECT_EQ(fake_read(peer, 7), "hello\r\n");

    fake_send(peer, "hi there\r\n");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 1; }));
    EXPECT_EQ(recorder.texts[0], "hi there");

    // A typed line that looks like QUIT is stuffed on the way out and unstuffed on the way in.
    EXPECT_FALSE(link->send_text("QUIT"));
    settle(io);
    EXPECT_EQ(fake_read(peer, 7), "\\QUIT\r\n");
    fake_send(peer, "\\QUIT\r\n\\\\QUIT\r\n");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 3; }));
    EXPECT_EQ(recorder.texts[1], "QUIT");
    EXPECT_EQ(recorder.texts[2], "\\QUIT");

    fake_send(peer, "QUIT\r\n\r\n");
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.ended->how, ChatEnd::quit_received);
    EXPECT_EQ(recorder.ended->message, "user2 left the chat");
    EXPECT_FALSE(link->open());
    EXPECT_EQ(fake_read_to_end(peer), "");
}

TEST_F(PeerLinkTest, InitiatorNamesAnUnreachablePeer) {
    const std::uint16_t port = port_of(listener);
    listener.reset();
    Initiator initiator(io.get_executor(), quick());
    std::optional<PeerResult> result;
    initiator.async_open({"user2", "127.0.0.1", port}, user1,
                         [&](PeerResult r) { result = std::move(r); });
    ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
    EXPECT_FALSE(result->link);
    EXPECT_TRUE(result->code == std::errc::connection_refused) << result->message;
    EXPECT_EQ(result->message, "cannot connect to peer user2 at 127.0.0.1:" + std::to_string(port) +
                                   ": Connection refused");
}

TEST_F(PeerLinkTest, CancelledInitiatorNeverCallsItsHandler) {
    bool called = false;
    {
        Initiator initiator(io.get_executor(), quick());
        initiator.async_open({"user2", "127.0.0.1", port_of(listener)}, user1,
                             [&](PeerResult) { called = true; });
    }
    settle(io);
    EXPECT_FALSE(called);
}

// ---- Reading: how a chat ends ---------------------------------------------------------------

TEST_F(PeerLinkTest, TextAndQuitCoalescedInOneSegment) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    fake_send(peer, "bye\r\nQUIT\r\n\r\n");
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.texts, std::vector<std::string>{"bye"});
    EXPECT_EQ(recorder.ended->how, ChatEnd::quit_received);
}

TEST_F(PeerLinkTest, TextDrippedAByteAtATime) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    for (char c : std::string("one line\r\n")) {
        fake_send(peer, std::string(1, c));
        settle(io, 5ms);
    }
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 1; }));
    EXPECT_EQ(recorder.texts[0], "one line");
}

TEST_F(PeerLinkTest, CloseWithoutQuitEndsTheChat) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    fake_send(peer, "last words\r\n");
    peer.reset();
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.texts, std::vector<std::string>{"last words"});
    EXPECT_EQ(recorder.ended->how, ChatEnd::closed);
    EXPECT_EQ(recorder.ended->message, "user2 closed the connection");
}

TEST_F(PeerLinkTest, ResetIsABrokenConnection) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    fake_reset(peer);
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.ended->how, ChatEnd::broken);
    EXPECT_TRUE(recorder.ended->code == std::errc::connection_reset) << recorder.ended->message;
    EXPECT_TRUE(recorder.ended->message.starts_with("connection to user2 (127.0.0.1:"))
        << recorder.ended->message;
}

// A line goes out from inside send_text() while the socket takes it, without waiting for the
// io_context: nothing runs it here, yet the peer reads the line.
TEST_F(PeerLinkTest, SendTextWritesAtOnce) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    settle(io); // the gap after CHAT (0 ms here) is over
    ASSERT_FALSE(link->send_text("now"));
    EXPECT_EQ(fake_read(peer, 5), "now\r\n");
    link->quit();
    EXPECT_EQ(fake_read(peer, 8), "QUIT\r\n\r\n");
}

// A write that fails at once is reported from the executor, never from inside send_text(): its
// caller may be in on_text, in the middle of its own bookkeeping.
TEST_F(PeerLinkTest, WriteToAResetPeerIsReportedLater) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    settle(io); // the gap after CHAT (0 ms here) is over
    fake_reset(peer);
    // The reset is in before the write: loopback delivers it in the peer's close.
    ASSERT_FALSE(link->send_text("into the void"));
    ASSERT_FALSE(link->send_text("and more"));
    EXPECT_FALSE(recorder.ended.has_value());
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.ended->how, ChatEnd::broken);
    EXPECT_FALSE(link->open());
}

struct BrokenCase {
    const char* name;
    std::string bytes;
    bool close;
    Errc code;
};

const BrokenCase broken_cases[] = {
    {"BareLf", "hello\n", false, Errc::bare_lf},
    {"OriginalClientFraming", "user2> hello\n\n", false, Errc::bare_lf},
    {"ControlByte", "a\x01z\r\n", false, Errc::invalid_byte},
    {"LineOverMaxLine", std::string(1025, 'x') + "\r\n", false, Errc::line_too_long},
    {"CloseBetweenCrAndLf", "half a line\r", true, Errc::truncated},
};

void PrintTo(const BrokenCase& c, std::ostream* os) {
    *os << c.name;
}

class PeerLinkBroken : public PeerLinkTest, public ::testing::WithParamInterface<BrokenCase> {};

TEST_P(PeerLinkBroken, BytesTheCodecRejectsBreakTheChat) {
    const BrokenCase& c = GetParam();
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    fake_send(peer, c.bytes);
    if (c.close) {
        peer.reset();
    } else {
        // Malformed input: the link sends QUIT and closes its side (spec §10.5).
        ASSERT_TRUE(run_until(io, [&] { return !link->open(); }));
        settle(io);
        EXPECT_EQ(fake_read_to_end(peer), "QUIT\r\n\r\n");
        peer.reset();
    }
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.ended->how, ChatEnd::broken);
    EXPECT_EQ(recorder.ended->code, make_error_code(c.code)) << recorder.ended->message;
    EXPECT_TRUE(recorder.texts.empty());
}

INSTANTIATE_TEST_SUITE_P(Stream, PeerLinkBroken, ::testing::ValuesIn(broken_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- The installed base's turns (spec §5.6, §9.2) -------------------------------------------

TEST_F(PeerLinkTest, UnterminatedTurnIsShownAfterAPauseAndAnsweredInKind) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    EXPECT_FALSE(link->send_text("hello"));
    settle(io);
    EXPECT_EQ(fake_read(peer, 7), "hello\r\n"); // auto: CRLF until the peer shows its framing
    fake_send(peer, "hello there");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 1; }));
    EXPECT_EQ(recorder.texts[0], "hello there");
    EXPECT_EQ(link->framing(), Framing::bare);
    EXPECT_FALSE(link->send_text("QUIT"));
    settle(io);
    EXPECT_EQ(fake_read(peer, 5), "\\QUIT"); // stuffed, no line end
    link->quit();
    settle(io);
    EXPECT_EQ(fake_read_to_end(peer), "QUIT");
}

// TURN-PAUSE counts from the last byte: a turn that arrives slowly, each gap shorter than the
// pause, is one line however long it takes in all.
TEST_F(PeerLinkTest, SlowTurnIsOneLine) {
    PeerOptions options = quick();
    options.turn_pause = 1000ms;
    auto link = open_to_fake(options);
    ASSERT_TRUE(link);
    for (const char c : std::string("hello there")) {
        fake_send(peer, std::string(1, c));
        settle(io, 100ms);
    }
    ASSERT_TRUE(run_until(io, [&] { return !recorder.texts.empty(); }));
    settle(io, 500ms);
    EXPECT_EQ(recorder.texts, std::vector<std::string>{"hello there"});
}

TEST_F(PeerLinkTest, EveryQuitFormEndsTheChat) {
    for (const std::string form :
         {"QUIT", "QUIT\r\n", "QUIT\r\n\r\n\r\n", "QUIT\r\nGoodbye!\r\n\r\n"}) {
        recorder = {};
        auto link = open_to_fake();
        ASSERT_TRUE(link);
        fake_send(peer, form);
        ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); })) << form;
        EXPECT_EQ(recorder.ended->how, ChatEnd::quit_received) << form;
        EXPECT_TRUE(recorder.texts.empty()) << form;
        peer.reset();
    }
}

TEST_F(PeerLinkTest, CloseRightAfterAnUnterminatedLineShowsItThenEnds) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    fake_send(peer, "half a li");
    peer.reset();
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.texts, std::vector<std::string>{"half a li"});
    EXPECT_EQ(recorder.ended->how, ChatEnd::closed) << recorder.ended->message;
}

TEST_F(PeerLinkTest, InitiatorWritesNoLineInCHATsSegment) {
    PeerOptions options = quick();
    options.chat_gap = 300ms;
    Initiator initiator(io.get_executor(), options);
    std::optional<PeerResult> result;
    // The user's first line is ready at once (a script on a pipe): sent as soon as the link is.
    initiator.async_open({"user2", "127.0.0.1", port_of(listener)}, user1, [&](PeerResult r) {
        result = std::move(r);
        if (result->link) {
            result->link->start(recorder.events());
            EXPECT_FALSE(result->link->send_text("at once"));
        }
    });
    peer = fake_accept(listener);
    // A waiter that reads CHAT with one recv() as soon as it arrives gets CHAT alone.
    ASSERT_TRUE(run_until(io, [&] { return readable(peer, 0); }));
    settle(io, 20ms);
    char buffer[4096];
    const auto got = ::recv(peer.get(), buffer, sizeof buffer, 0);
    EXPECT_EQ(std::string(buffer, got > 0 ? std::size_t(got) : 0), user1_chat);
    ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
    ASSERT_TRUE(result->link);
    ASSERT_TRUE(run_until(io, [&] { return readable(peer, 0); }));
    EXPECT_EQ(fake_read(peer, 9), "at once\r\n");
}

TEST_F(PeerLinkTest, FixedFramingIsKept) {
    PeerOptions options = quick();
    options.framing = Framing::bare;
    auto link = open_to_fake(options);
    ASSERT_TRUE(link);
    EXPECT_FALSE(link->send_text("hi"));
    settle(io);
    EXPECT_EQ(fake_read(peer, 2), "hi");
    fake_send(peer, "a line\r\n");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 1; }));
    EXPECT_EQ(link->framing(), Framing::bare);
}

TEST_F(PeerLinkTest, MessageFramedInitiatorSendsNoChat) {
    PeerOptions options = quick();
    options.framing = Framing::message;
    Initiator initiator(io.get_executor(), options);
    std::optional<PeerResult> result;
    initiator.async_open({"user2", "127.0.0.1", port_of(listener)}, user1,
                         [&](PeerResult r) { result = std::move(r); });
    peer = fake_accept(listener);
    ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
    ASSERT_TRUE(result->link);
    result->link->start(recorder.events());
    EXPECT_FALSE(result->link->send_text("first"));
    settle(io);
    EXPECT_EQ(fake_read(peer, 23), "CHAT\r\nMESSAGE:first\r\n\r\n"); // its first turn opens
}

TEST_F(PeerLinkTest, WaitTakesAFirstTurnWithoutHandshakeAfterAPause) {
    const auto port = wait();
    Fd stranger = fake_connect(port);
    fake_send(stranger, "hi, anyone?");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 1; }));
    EXPECT_EQ(recorder.texts[0], "hi, anyone?");
    EXPECT_EQ(link->peer().host, "127.0.0.1");
    EXPECT_EQ(link->peer().id, link->remote_address()); // known by its address only
    EXPECT_FALSE(link->send_text("hello"));
    settle(io);
    EXPECT_EQ(fake_read(stranger, 5), "hello");
    // The read WAIT mode had pending when the pause decided gives its bytes to the link.
    fake_send(stranger, "second turn");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 2; }));
    EXPECT_EQ(recorder.texts[1], "second turn");
}

TEST_F(PeerLinkTest, WaitTakesAMessageFramedFirstTurn) {
    const auto port = wait();
    Fd peer_without_chat = fake_connect(port);
    fake_send(peer_without_chat, "CHAT\r\nMESSAGE:hello\r\n\r\n");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 1; }));
    EXPECT_EQ(recorder.texts[0], "hello");
    EXPECT_EQ(link->framing(), Framing::message);
    EXPECT_FALSE(link->send_text("hi"));
    settle(io);
    EXPECT_EQ(fake_read(peer_without_chat, 20), "CHAT\r\nMESSAGE:hi\r\n\r\n");
}

// ---- Writing ---------------------------------------------------------------------------------

TEST_F(PeerLinkTest, QuitGoesAfterQueuedLinesThenTheLinkCloses) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    EXPECT_FALSE(link->send_text("a"));
    EXPECT_FALSE(link->send_text("b"));
    link->quit();
    EXPECT_FALSE(link->open());
    EXPECT_TRUE(link->send_text("too late")); // refused once quitting
    settle(io);
    EXPECT_EQ(fake_read(peer, 14), "a\r\nb\r\nQUIT\r\n\r\n");
    // Our side is half-closed: the fake sees the end of the stream, then closes in turn.
    EXPECT_EQ(fake_read_to_end(peer), "");
    peer.reset();
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.ended->how, ChatEnd::quit_sent);
}

TEST_F(PeerLinkTest, QuitDoesNotWaitForeverForThePeersClose) {
    PeerOptions options = quick();
    options.linger_timeout = 200ms;
    auto link = open_to_fake(options);
    ASSERT_TRUE(link);
    link->quit();
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.ended->how, ChatEnd::quit_sent);
    EXPECT_EQ(fake_read_to_end(peer), "QUIT\r\n\r\n");
}

TEST_F(PeerLinkTest, TextArrivingAfterOurQuitIsDropped) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    link->quit();
    fake_send(peer, "crossed in flight\r\n");
    peer.reset();
    ASSERT_TRUE(run_until(io, [&] { return recorder.ended.has_value(); }));
    EXPECT_EQ(recorder.ended->how, ChatEnd::quit_sent);
    EXPECT_TRUE(recorder.texts.empty());
}

TEST_F(PeerLinkTest, TextTheCodecCannotSendIsRefusedAndNothingIsSent) {
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    EXPECT_EQ(link->send_text("bell\x07"), make_error_code(Errc::invalid_byte));
    EXPECT_TRUE(link->send_text(std::string(1025, 'x')));
    EXPECT_FALSE(link->send_text("fine"));
    settle(io);
    EXPECT_EQ(fake_read(peer, 6), "fine\r\n");
    EXPECT_TRUE(link->open());
}

// Far more than the socket buffers hold (a loopback send buffer grows to 4 MiB), queued at once:
// the socket takes the lines in pieces, what a write leaves over goes first, before the lines
// behind it, and the bytes arrive line by line, whole.
TEST_F(PeerLinkTest, WritesNeverInterleave) {
    const int small = 2048; // the fake's receive window, inherited by the accepted connection
    ASSERT_EQ(::setsockopt(listener.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    auto link = open_to_fake();
    ASSERT_TRUE(link);
    settle(io); // the gap after CHAT (0 ms here) is over
    std::string expected;
    for (int i = 0; i < 5000; ++i) {
        const std::string line = std::to_string(i) + ":" + std::string(1000, char('a' + i % 26));
        ASSERT_FALSE(link->send_text(line));
        expected += line + "\r\n";
    }
    std::string received;
    std::atomic<bool> done{false};
    std::thread reader([&] {
        received = fake_read(peer, expected.size());
        done = true;
    });
    run_until(
        io, [&] { return done.load(); }, 30s);
    reader.join();
    EXPECT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
}

// ---- WAIT mode -------------------------------------------------------------------------------

TEST_F(PeerLinkTest, WaitTakesChatCoalescedWithTheFirstLine) {
    const auto port = wait();
    Fd initiator = fake_connect(port);
    fake_send(initiator, chat_from_user2 + "hello\r\n");
    ASSERT_TRUE(run_until(io, [&] { return recorder.texts.size() == 1; }));
    EXPECT_EQ(link->peer(), (ContactRecord{"user2", "127.0.0.1", 3001}));
    EXPECT_EQ(recorder.texts[0], "hello");
    EXPECT_FALSE(link->send_text("hi back"));
    settle(io);
    EXPECT_EQ(fake_read(initiator, 9), "hi back\r\n");
}

TEST_F(PeerLinkTest, WaitTakesChatDrippedAByteAtATime) {
    const auto port = wait();
    Fd initiator = fake_connect(port);
    for (char c : chat_from_user2) {
        fake_send(initiator, std::string(1, c));
        settle(io, 5ms);
    }
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    EXPECT_EQ(link->peer().id, "user2");
}

TEST_F(PeerLinkTest, WaitAcceptsTheInstalledBasesSeparator) {
    const auto port = wait();
    Fd initiator = fake_connect(port);
    fake_send(initiator, "CHAT\r\nclientID:user2\r\nIP:127.0.0.1\r\nPort:3001\r\n\r\n");
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    EXPECT_EQ(link->peer(), (ContactRecord{"user2", "127.0.0.1", 3001}));
}

TEST_F(PeerLinkTest, WaitClosesGarbageAndKeepsWaiting) {
    const auto port = wait();
    Fd stranger = fake_connect(port);
    fake_send(stranger, "GET / HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(run_until(io, [&] { return !log.empty(); }));
    EXPECT_TRUE(log[0].starts_with("closed 127.0.0.1:")) << log[0];
    EXPECT_TRUE(log_says(": expected CHAT: unknown_method at byte 0")) << log[0];
    EXPECT_EQ(fake_read_to_end(stranger), "");
    EXPECT_EQ(link, nullptr);

    Fd initiator = fake_connect(port);
    fake_send(initiator, chat_from_user2);
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    EXPECT_EQ(link->peer().id, "user2");
}

TEST_F(PeerLinkTest, WaitClosesAConnectionThatNeverSendsChat) {
    PeerOptions options = quick();
    options.handshake_timeout = 200ms;
    const auto port = wait(options);
    Fd silent = fake_connect(port);
    ASSERT_TRUE(run_until(io, [&] { return !log.empty(); }));
    EXPECT_TRUE(log_says(": no CHAT within 0.2 s")) << log[0];
    EXPECT_EQ(fake_read_to_end(silent), "");
}

TEST_F(PeerLinkTest, WaitTakesTheFirstChatAndClosesSlowerConnections) {
    const auto port = wait();
    Fd slow = fake_connect(port);
    settle(io);
    Fd initiator = fake_connect(port);
    fake_send(initiator, chat_from_user2);
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    EXPECT_TRUE(log_says(": user2 started a chat first"));
    EXPECT_EQ(fake_read_to_end(slow), "");
}

TEST_F(PeerLinkTest, SecondConnectionDuringAChatIsClosedWithoutAByte) {
    const auto port = wait();
    Fd initiator = fake_connect(port);
    fake_send(initiator, chat_from_user2);
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));

    Fd second = fake_connect(port);
    fake_send(second, "CHAT\r\nclientID: user3\r\nIP: 127.0.0.1\r\nPort: 3002\r\n\r\n");
    ASSERT_TRUE(run_until(io, [&] { return log_says("a chat is already active"); }));
    EXPECT_EQ(fake_read_to_end(second), "");

    // The chat in progress is untouched.
    EXPECT_TRUE(link->open());
    EXPECT_FALSE(link->send_text("still here"));
    settle(io);
    EXPECT_EQ(fake_read(initiator, 12), "still here\r\n");
}

TEST_F(PeerLinkTest, WaitListensAgainAfterItWasClosed) {
    // What a client does when a renewed BRIDGE fails and it bridges again (spec §10.3).
    const auto port = wait();
    wait_mode->close();
    ASSERT_FALSE(wait_mode->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)));
    wait_mode->async_wait(take_link());
    Fd initiator = fake_connect(port);
    fake_send(initiator, chat_from_user2);
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    EXPECT_TRUE(log.empty()) << log[0]; // the old accept loop ended quietly
}

TEST_F(PeerLinkTest, ListenReportsABusyPort) {
    wait();
    WaitMode other(io.get_executor(), quick(), {});
    const auto error = other.listen(wait_mode->local_endpoint());
    EXPECT_TRUE(error == std::errc::address_in_use) << error.message();
    EXPECT_FALSE(other.listening());
}

TEST_F(PeerLinkTest, ClosedWaitModeStopsListening) {
    const auto port = wait();
    wait_mode->close();
    settle(io);
    Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    auto address = loopback(port);
    EXPECT_NE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
}

} // namespace
} // namespace tcpchat
