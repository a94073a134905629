// The request client against fake servers on loopback (spec §6.1, §9.2, §10.6): each fake accepts
// one connection, reads the request, and plays back reply bytes as a server of the installed base
// would send them (with or without Status, without the space after the colon, a byte at a time,
// coalesced with more bytes), or misbehaves (silence, close, garbage).
#include "tcpchat/request_client.hpp"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <thread>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it
#include <vector>

namespace tcpchat {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// What a fake server does with its one connection.
struct Script {
    std::vector<std::string> chunks;  // written in order, each with its own write
    std::chrono::milliseconds gap{0}; // pause between chunks (a slow or dripping server)
    bool read_request = true;         // false: reply at once, like a server over its cap
    bool hang = false;                // after the chunks, read until the client closes
    bool reset = false;               // close with a reset instead of a FIN
};

class FakeServer {
  public:
    explicit FakeServer(Script script, const std::string& host = "127.0.0.1")
        : acceptor_(io_, tcp::endpoint(asio::ip::make_address(host), 0)),
          script_(std::move(script)) {
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeServer() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    [[nodiscard]] ServerAddress address() const {
        const auto endpoint = acceptor_.local_endpoint();
        return {endpoint.address().to_string(), endpoint.port()};
    }

    // The request bytes as received; valid once the client has its result.
    [[nodiscard]] std::string request() {
        if (thread_.joinable()) {
            thread_.join();
        }
        return request_;
    }

  private:
    void serve() {
        boost::system::error_code ec;
        tcp::socket socket(io_);
        acceptor_.accept(socket, ec);
        if (ec) {
            return;
        }
        socket.set_option(tcp::no_delay(true), ec);
        if (script_.read_request) {
            asio::streambuf buffer;
            asio::read_until(socket, buffer, "\r\n\r\n", ec);
            request_.assign(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
        }
        for (const auto& chunk : script_.chunks) {
            asio::write(socket, asio::buffer(chunk), ec);
            if (script_.gap.count() > 0) {
                std::this_thread::sleep_for(script_.gap);
            }
        }
        if (script_.reset) {
            socket.set_option(asio::socket_base::linger(true, 0), ec);
        } else if (script_.hang) {
            // Drain until the client gives up and closes.
            std::array<char, 256> sink{};
            while (!ec) {
                socket.read_some(asio::buffer(sink), ec);
            }
        }
        socket.close(ec);
    }

    asio::io_context io_;
    tcp::acceptor acceptor_;
    Script script_;
    std::string request_;
    std::thread thread_;
};

std::vector<std::string> drip(const std::string& bytes) {
    std::vector<std::string> out;
    for (char c : bytes) {
        out.emplace_back(1, c);
    }
    return out;
}

RequestOptions quick(std::chrono::milliseconds reply_timeout = 10s) {
    RequestOptions options;
    options.connect_timeout = 10s;
    options.reply_timeout = reply_timeout;
    return options;
}

const RegisterRequest user1{"user1", 3000, std::nullopt};
const BridgeRequest bridge1{"user1"};

const std::string regack = "REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n";
const std::string regack_status =
    "REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\nStatus: registered\r\n\r\n";
const std::string bridgeack_peer =
    "BRIDGEACK\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n";
const std::string bridgeack_empty = "BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n";

// ---- Replies the client must accept --------------------------------------------------------

struct ReplyCase {
    const char* name;
    Request request;
    Script script;
    Reply expected;
};

const ContactRecord contact1{"user1", "127.0.0.1", 3000};
const ContactRecord contact2{"user2", "127.0.0.1", 3001};

const ReplyCase reply_cases[] = {
    {"RegAckAsTheOriginal", user1, {{regack}}, RegAckRecord{contact1, false}},
    {"RegAckWithStatus", user1, {{regack_status}}, RegAckRecord{contact1, true}},
    {"RegAckWithoutSpaceAfterColon",
     user1,
     {{"REGACK\r\nclientID:user1\r\nIP:127.0.0.1\r\nPort:3000\r\n\r\n"}},
     RegAckRecord{contact1, false}},
    {"RegAckDrippedAByteAtATime", user1, {drip(regack_status), 1ms}, RegAckRecord{contact1, true}},
    {"RegAckSplitInsideTheFinalCrlf",
     user1,
     {{regack.substr(0, regack.size() - 1), "\n"}, 50ms},
     RegAckRecord{contact1, false}},
    {"RegAckCoalescedWithMoreBytes",
     user1,
     {{regack + regack_status + "garbage\n"}},
     RegAckRecord{contact1, false}},
    {"RegAckThenTheServerKeepsTheConnectionOpen",
     user1,
     {{regack}, 0ms, true, true},
     RegAckRecord{contact1, false}},
    {"BridgeAckWithPeer", bridge1, {{bridgeack_peer}}, BridgeAckRecord{contact2}},
    {"BridgeAckEmpty", bridge1, {{bridgeack_empty}}, BridgeAckRecord{std::nullopt}},
    {"BridgeAckEmptyWithoutSpaces",
     bridge1,
     {{"BRIDGEACK\r\nclientID:\r\nIP:\r\nPort:\r\n\r\n"}},
     BridgeAckRecord{std::nullopt}},
    {"BridgeAckDrippedAByteAtATime",
     bridge1,
     {drip(bridgeack_peer), 1ms},
     BridgeAckRecord{contact2}},
    {"ErrorForRegister",
     user1,
     {{"ERROR\r\nCode: 403\r\nReason: clientID user1 is registered from another address\r\n\r\n"}},
     ErrorRecord{403, "clientID user1 is registered from another address"}},
    {"ErrorForBridge",
     bridge1,
     {{"ERROR\r\nCode: 404\r\nReason: clientID user1 is not registered\r\n\r\n"}},
     ErrorRecord{404, "clientID user1 is not registered"}},
    {"ErrorBeforeTheRequestWasRead",
     user1,
     {{"ERROR\r\nCode: 503\r\nReason: too many connections\r\n\r\n"}, 0ms, false, true},
     ErrorRecord{503, "too many connections"}},
};

void PrintTo(const ReplyCase& c, std::ostream* os) {
    *os << c.name;
}

class RequestClientReply : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(RequestClientReply, DecodesTheReplyIntoOwningValues) {
    const ReplyCase& c = GetParam();
    FakeServer server(c.script);
    const RequestResult result = send_request(server.address(), c.request, quick());
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result.value().reply, c.expected);
}

INSTANTIATE_TEST_SUITE_P(InstalledBase, RequestClientReply, ::testing::ValuesIn(reply_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- What goes on the wire -----------------------------------------------------------------

TEST(RequestClient, RegistersTheLocalAddressOfItsConnection) {
    // The server is on 127.0.0.2; Linux picks 127.0.0.1 as our end, and that is what we register
    // (getsockname), whatever the hostname resolves to (spec §10).
    FakeServer server({{regack}}, "127.0.0.2");
    const RequestResult result = send_request(server.address(), user1, quick());
    ASSERT_TRUE(result.ok()) << result.error().message;
    const std::string local = result.value().local.address().to_string();
    EXPECT_EQ(server.request(),
              "REGISTER\r\nclientID: user1\r\nIP: " + local + "\r\nPort: 3000\r\n\r\n");
    EXPECT_EQ(result.value().sent, server.request());
    EXPECT_EQ(result.value().remote.address().to_string(), "127.0.0.2");
    EXPECT_EQ(result.value().registering, ContactRecord("user1", local, 3000)); // §5.2's check
}

TEST(RequestClient, RegistersAnAdvertisedAddressAsGiven) {
    FakeServer server({{"REGACK\r\nclientID: user1\r\nIP: 192.0.2.7\r\nPort: 3000\r\n\r\n"}});
    const RequestResult result =
        send_request(server.address(), RegisterRequest{"user1", 3000, "192.0.2.7"}, quick());
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(server.request(),
              "REGISTER\r\nclientID: user1\r\nIP: 192.0.2.7\r\nPort: 3000\r\n\r\n");
    EXPECT_EQ(result.value().registering, ContactRecord("user1", "192.0.2.7", 3000));
}

TEST(RequestClient, ABridgeRegistersNoContact) {
    FakeServer server({{bridgeack_empty}});
    const RequestResult result = send_request(server.address(), bridge1, quick());
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result.value().registering, std::nullopt);
}

TEST(RequestClient, SendsBridgeCanonically) {
    FakeServer server({{bridgeack_empty}});
    ASSERT_TRUE(send_request(server.address(), bridge1, quick()).ok());
    EXPECT_EQ(server.request(), "BRIDGE\r\nclientID: user1\r\n\r\n");
}

TEST(RequestClient, WorksOverIpv6) {
    boost::system::error_code ec;
    {
        asio::io_context io;
        tcp::acceptor probe(io);
        probe.open(tcp::v6(), ec);
        if (!ec) {
            probe.bind(tcp::endpoint(asio::ip::make_address("::1"), 0), ec);
        }
    }
    if (ec) {
        GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
    }
    FakeServer server({{"REGACK\r\nclientID: user1\r\nIP: ::1\r\nPort: 3000\r\n\r\n"}}, "::1");
    const auto address = parse_server_address("[::1]:" + std::to_string(server.address().port));
    ASSERT_TRUE(address);
    const RequestResult result = send_request(*address, user1, quick());
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(server.request(), "REGISTER\r\nclientID: user1\r\nIP: ::1\r\nPort: 3000\r\n\r\n");
    EXPECT_EQ(std::get<RegAckRecord>(result.value().reply).self.host, "::1");
}

// ---- Failures: a clear message naming the server -------------------------------------------

std::uint16_t closed_port() {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port(); // closed again when `acceptor` goes
}

TEST(RequestClient, UnreachableServerIsNamed) {
    const ServerAddress server{"127.0.0.1", closed_port()};
    const RequestResult result = send_request(server, user1, quick());
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(result.error().code == std::errc::connection_refused) << result.error().message;
    EXPECT_EQ(result.error().message, "cannot connect to server 127.0.0.1:" +
                                          std::to_string(server.port) + ": Connection refused");
}

TEST(RequestClient, SilentServerTimesOut) {
    FakeServer server({{}, 0ms, true, true});
    const auto name = address_text(server.address());
    const RequestResult result = send_request(server.address(), user1, quick(300ms));
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(result.error().code == std::errc::timed_out) << result.error().message;
    EXPECT_EQ(result.error().message, "no reply from server " + name + " within 0.3 s");
}

TEST(RequestClient, HalfAReplyThenSilenceTimesOut) {
    FakeServer server({{regack.substr(0, 20)}, 0ms, true, true});
    const RequestResult result = send_request(server.address(), user1, quick(300ms));
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(result.error().code == std::errc::timed_out) << result.error().message;
}

TEST(RequestClient, CloseWithoutReplyIsNamed) {
    FakeServer server({});
    const auto name = address_text(server.address());
    const RequestResult result = send_request(server.address(), user1, quick());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().message, "server " + name + " closed the connection without a reply");
}

TEST(RequestClient, TruncatedReplyIsMalformed) {
    FakeServer server({{regack.substr(0, regack.size() - 2)}});
    const RequestResult result = send_request(server.address(), user1, quick());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, make_error_code(Errc::truncated));
    EXPECT_TRUE(result.error().message.starts_with("malformed reply from server " +
                                                   address_text(server.address()) + ": truncated"))
        << result.error().message;
}

TEST(RequestClient, ResetWithoutReplyIsNamed) {
    Script script;
    script.reset = true;
    FakeServer server(script);
    const RequestResult result = send_request(server.address(), user1, quick());
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find(address_text(server.address())), std::string::npos)
        << result.error().message;
}

struct BadReply {
    const char* name;
    Request request;
    std::string bytes;
    Errc code;
};

const BadReply bad_replies[] = {
    {"BareLf", user1, "REGACK\nclientID: user1\n\n", Errc::bare_lf},
    {"NotAProtocolMethod", user1, "HTTP/1.1 400 Bad Request\r\n\r\n", Errc::unknown_method},
    {"OriginalClientFraming", bridge1, "user2> hello\n\n", Errc::unknown_method},
    {"BadPort", user1, "REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 70000\r\n\r\n",
     Errc::bad_port},
    {"RegAckToBridge", bridge1, regack, Errc::unexpected_method},
    {"BridgeAckToRegister", user1, bridgeack_peer, Errc::unexpected_method},
};

void PrintTo(const BadReply& c, std::ostream* os) {
    *os << c.name;
}

class RequestClientBadReply : public ::testing::TestWithParam<BadReply> {};

TEST_P(RequestClientBadReply, IsReportedWithTheServerAddress) {
    const BadReply& c = GetParam();
    FakeServer server({{c.bytes}});
    const RequestResult result = send_request(server.address(), c.request, quick());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, make_error_code(c.code)) << result.error().message;
    EXPECT_NE(result.error().message.find("server " + address_text(server.address())),
              std::string::npos)
        << result.error().message;
}

INSTANTIATE_TEST_SUITE_P(Replies, RequestClientBadReply, ::testing::ValuesIn(bad_replies),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(RequestClient, RefusesAnIdTheCodecCannotSend) {
    FakeServer server({});
    const RequestResult result =
        send_request(server.address(), RegisterRequest{"user 1", 3000, std::nullopt}, quick());
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(result.error().message.starts_with("cannot send REGISTER to server"))
        << result.error().message;
}

TEST(RequestClient, CancelledRequestNeverCallsItsHandler) {
    FakeServer server({{}, 0ms, true, true});
    asio::io_context io;
    bool called = false;
    {
        RequestClient client(io.get_executor(), quick());
        client.async_send(server.address(), user1, [&](RequestResult) { called = true; });
        EXPECT_TRUE(client.busy());
        io.run_for(100ms);
        client.cancel();
        EXPECT_FALSE(client.busy());
    }
    io.run();
    EXPECT_FALSE(called);
}

TEST(RequestClient, IsReusableAfterAFailure) {
    asio::io_context io;
    RequestClient client(io.get_executor(), quick());
    std::vector<bool> outcomes;
    client.async_send({"127.0.0.1", closed_port()}, user1,
                      [&](RequestResult r) { outcomes.push_back(r.ok()); });
    io.run();
    io.restart();
    FakeServer server({{regack}});
    client.async_send(server.address(), user1,
                      [&](RequestResult r) { outcomes.push_back(r.ok()); });
    io.run();
    EXPECT_EQ(outcomes, (std::vector<bool>{false, true}));
}

// ---- Addresses -----------------------------------------------------------------------------

struct AddressCase {
    const char* text;
    std::optional<ServerAddress> expected;
};

const AddressCase address_cases[] = {
    {"127.0.0.2:5555", ServerAddress{"127.0.0.2", 5555}},
    {"[::1]:5555", ServerAddress{"::1", 5555}},
    {"[2001:db8::7]:1", ServerAddress{"2001:db8::7", 1}},
    {"localhost:65535", ServerAddress{"localhost", 65535}},
    {"::1:5555", std::nullopt},
    {"[::1]5555", std::nullopt},
    {"[::1]", std::nullopt},
    {"[nonsense]:5555", std::nullopt},
    {"127.0.0.2", std::nullopt},
    {":5555", std::nullopt},
    {"127.0.0.2:", std::nullopt},
    {"127.0.0.2:0", std::nullopt},
    {"127.0.0.2:65536", std::nullopt},
    {"127.0.0.2:55x", std::nullopt},
    {"127.0.0.2:-1", std::nullopt},
    {"", std::nullopt},
};

void PrintTo(const AddressCase& c, std::ostream* os) {
    *os << '"' << c.text << '"';
}

class ServerAddressParse : public ::testing::TestWithParam<AddressCase> {};

TEST_P(ServerAddressParse, AcceptsHostPortAndBracketedIpv6) {
    EXPECT_EQ(parse_server_address(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(CommandLine, ServerAddressParse, ::testing::ValuesIn(address_cases));

TEST(AddressText, BracketsIpv6) {
    EXPECT_EQ(address_text("127.0.0.1", 3000), "127.0.0.1:3000");
    EXPECT_EQ(address_text("::1", 3000), "[::1]:3000");
    EXPECT_EQ(host_text(asio::ip::make_address("::ffff:127.0.0.1")), "127.0.0.1");
    EXPECT_EQ(duration_text(5000ms), "5 s");
    EXPECT_EQ(duration_text(250ms), "0.25 s");
}

} // namespace
} // namespace tcpchat
