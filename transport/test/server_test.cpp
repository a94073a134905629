// The server over real loopback sockets (spec §6): the server runs in-process on an ephemeral
// port; a raw POSIX client sends exactly the bytes each test gives and the test compares exactly
// the bytes that come back, the log lines and the registry.
#include "raw_client.hpp"
#include "tcpchat/decode.hpp"
#include "tcpchat/registry.hpp"
#include "tcpchat/server.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

using namespace tcpchat::test;

tcpchat::ServerOptions test_options() {
    tcpchat::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.read_timeout = 30s; // tests that need the timeout set it short themselves
    options.log_level = tcpchat::LogLevel::verbose;
    return options;
}

class ServerTest : public ::testing::Test {
  protected:
    void start(tcpchat::ServerOptions options = test_options(),
               tcpchat::RegistryPolicy policy = {}) {
        registry_ = std::make_unique<tcpchat::MemoryRegistry>(policy);
        tcpchat::Registry& registry = other_registry_ != nullptr ? *other_registry_ : *registry_;
        server_ = std::make_unique<tcpchat::Server>(
            io_, options, registry, [this](tcpchat::LogLevel, std::string_view line) {
                const std::scoped_lock lock(log_mutex_);
                lines_.emplace_back(line);
                log_changed_.notify_all();
            });
        ASSERT_FALSE(server_->listen());
        endpoint_ = server_->local_endpoint();
        thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override { stop(); }

    // Graceful stop; returns once the io_context ran out of the server's work.
    void stop() {
        if (thread_.joinable()) {
            server_->stop();
            thread_.join();
        }
    }

    std::string exchange(std::string_view request) {
        RawClient client(endpoint_);
        EXPECT_TRUE(client.connected());
        client.send(request);
        const Received r = client.receive();
        EXPECT_EQ(r.end, Received::End::eof) << "reply so far: " << r.bytes;
        return r.bytes;
    }

    // Waits until `line` was logged (exactly).
    bool logged(const std::string& line) {
        std::unique_lock lock(log_mutex_);
        return log_changed_.wait_for(lock, patience, [&] {
            return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
        });
    }
    // Waits until a line starting with `prefix` was logged and returns it.
    std::string logged_starting(const std::string& prefix) {
        std::unique_lock lock(log_mutex_);
        std::string found;
        log_changed_.wait_for(lock, patience, [&] {
            for (const auto& l : lines_) {
                if (l.rfind(prefix, 0) == 0) {
                    found = l;
                    return true;
                }
            }
            return false;
        });
        return found;
    }
    std::vector<std::string> lines() {
        const std::scoped_lock lock(log_mutex_);
        return lines_;
    }

    // Waits until the server has exactly `n` connections open.
    bool connections_become(std::size_t n) {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (server_->connections() != n) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }

    // user1, registered from 127.0.0.1, registered again from another address (spec §6.2).
    static Received take_over_user1(RawClient& intruder) {
        EXPECT_TRUE(intruder.connected());
        intruder.send(register_request("user1", 6666, "127.0.0.3"));
        return intruder.receive();
    }

    void expect_still_serving() {
        EXPECT_EQ(exchange(register_request("after", 4999)), regack("after", 4999));
    }

    boost::asio::io_context io_;
    std::unique_ptr<tcpchat::MemoryRegistry> registry_;
    tcpchat::Registry* other_registry_ = nullptr; // set before start() to serve from it
    std::unique_ptr<tcpchat::Server> server_;
    tcp::endpoint endpoint_;
    std::thread thread_;
    std::mutex log_mutex_;
    std::condition_variable log_changed_;
    std::vector<std::string> lines_;
};

// --- Every request type (spec §5.1-§5.4, §6.2, §6.3) ---

TEST_F(ServerTest, StartUpLineNamesTheBoundAddress) {
    start();
    ASSERT_NE(endpoint_.port(), 0);
    EXPECT_TRUE(
        logged("tcp-chat-server 1.0.0 listening on 127.0.0.1:" + std::to_string(endpoint_.port())));
}

TEST_F(ServerTest, RegisterIsAcknowledgedWithTheContact) {
    start();
    EXPECT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    EXPECT_TRUE(logged("REGISTER: user1 from 127.0.0.1:3000 received"));
    EXPECT_EQ(registry_->find("user1"), tcpchat::ContactRecord("user1", "127.0.0.1", 3000));
}

TEST_F(ServerTest, RegAckStatusOptionAddsTheStatusLine) {
    auto options = test_options();
    options.regack_status = true;
    start(options);
    EXPECT_EQ(exchange(register_request("user1", 3000)),
              "REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\nStatus: "
              "registered\r\n\r\n");
}

TEST_F(ServerTest, LenientRequestIsAnsweredCanonically) {
    start();
    EXPECT_EQ(exchange("REGISTER\r\nPort:03000\r\nclientID:user1\r\nIP:  127.0.0.1 \r\nX-Extra: "
                       "1\r\n\r\n"),
              regack("user1", 3000));
}

TEST_F(ServerTest, StrictProfileRefusesTheLeniencies) {
    auto options = test_options();
    options.decoding = tcpchat::strict_profile;
    start(options);
    RawClient client(endpoint_);
    client.send("REGISTER\r\nclientID:user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n");
    const Received r = client.receive();
    EXPECT_EQ(r.bytes.rfind("ERROR\r\nCode: 400\r\nReason: bad_separator at byte 19", 0), 0U)
        << r.bytes;
    EXPECT_EQ(registry_->state(), tcpchat::RegistryState{});
}

TEST_F(ServerTest, BridgeFromUnregisteredIs404) {
    start();
    EXPECT_EQ(exchange(bridge_request("user9")),
              error_reply(404, "clientID user9 is not registered"));
    EXPECT_EQ(registry_->state(), tcpchat::RegistryState{});
}

TEST_F(ServerTest, TwoClientsFirstRegisteredBridgesFirst) {
    start();
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    ASSERT_EQ(exchange(register_request("user2", 3001)), regack("user2", 3001));
    EXPECT_EQ(exchange(bridge_request("user1")), empty_bridgeack);
    EXPECT_TRUE(logged("BRIDGE: user1 waiting"));
    EXPECT_EQ(exchange(bridge_request("user2")), bridgeack("user1", 3000));
    EXPECT_TRUE(logged("BRIDGE: user1 127.0.0.1:3000 user2 127.0.0.1:3001"));
}

TEST_F(ServerTest, TwoClientsSecondRegisteredBridgesFirst) {
    start();
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    ASSERT_EQ(exchange(register_request("user2", 3001)), regack("user2", 3001));
    EXPECT_EQ(exchange(bridge_request("user2")), empty_bridgeack);
    EXPECT_EQ(exchange(bridge_request("user1")), bridgeack("user2", 3001));
    EXPECT_TRUE(logged("BRIDGE: user2 127.0.0.1:3001 user1 127.0.0.1:3000"));
    // Both stay registered and may bridge again.
    EXPECT_EQ(exchange(bridge_request("user1")), empty_bridgeack);
    EXPECT_EQ(exchange(bridge_request("user2")), bridgeack("user1", 3000));
}

TEST_F(ServerTest, ManyClientsPairInArrivalOrder) {
    start();
    constexpr int clients = 20;
    for (int i = 0; i < clients; ++i) {
        const std::string id = "c" + std::to_string(i);
        ASSERT_EQ(exchange(register_request(id, 4000 + i)), regack(id, 4000 + i));
    }
    for (int i = 0; i < clients; i += 2) {
        const std::string first = "c" + std::to_string(i);
        const std::string second = "c" + std::to_string(i + 1);
        EXPECT_EQ(exchange(bridge_request(first)), empty_bridgeack);
        EXPECT_EQ(exchange(bridge_request(first)), empty_bridgeack) << "never its own contact";
        EXPECT_EQ(exchange(bridge_request(second)), bridgeack(first, 4000 + i));
    }
    EXPECT_TRUE(registry_->state().waiting.empty());
    EXPECT_EQ(registry_->state().contacts.size(), std::size_t{clients});
}

TEST_F(ServerTest, ReRegisterFromTheSameAddressReplacesTheContact) {
    start();
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    EXPECT_EQ(exchange(register_request("user1", 3005)), regack("user1", 3005));
    EXPECT_TRUE(logged("REGISTER: user1 replaces 127.0.0.1:3000"));
    EXPECT_EQ(registry_->find("user1"), tcpchat::ContactRecord("user1", "127.0.0.1", 3005));
}

TEST_F(ServerTest, ReRegisterFromAnotherAddressIsRefused) {
    start();
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    const auto before = registry_->state();

    RawClient intruder(endpoint_, "127.0.0.3");
    const Received r = take_over_user1(intruder);
    EXPECT_EQ(r.bytes, error_reply(403, "clientID user1 is registered from another address"));
    EXPECT_TRUE(logged("rejected " + intruder.endpoint() +
                       ": clientID user1 is registered from another address"));
    EXPECT_EQ(registry_->state(), before);

    // The same contact from another address is a harmless refresh.
    RawClient again(endpoint_, "127.0.0.3");
    again.send(register_request("user1", 3000));
    EXPECT_EQ(again.receive().bytes, regack("user1", 3000));
}

TEST_F(ServerTest, TakeoverAllowedReplacesFromAnyAddress) {
    tcpchat::RegistryPolicy policy;
    policy.allow_takeover = true;
    start(test_options(), policy);
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    RawClient other(endpoint_, "127.0.0.3");
    other.send(register_request("user1", 6666, "127.0.0.3"));
    EXPECT_EQ(other.receive().bytes, regack("user1", 6666, "127.0.0.3"));
    EXPECT_EQ(registry_->find("user1"), tcpchat::ContactRecord("user1", "127.0.0.3", 6666));
}

TEST_F(ServerTest, IpHeaderOtherThanSourceIsLoggedVerbose) {
    start();
    EXPECT_EQ(exchange(register_request("user1", 3000, "10.1.2.3")),
              regack("user1", 3000, "10.1.2.3"));
    EXPECT_TRUE(logged("REGISTER: user1 IP 10.1.2.3 differs from source address 127.0.0.1"));
}

TEST_F(ServerTest, VerboseLogsEachConnection) {
    start();
    RawClient client(endpoint_);
    client.send(bridge_request("nobody"));
    client.receive();
    EXPECT_TRUE(logged("accepted " + client.endpoint()));
    EXPECT_TRUE(logged("closed " + client.endpoint()));
}

TEST_F(ServerTest, QuietLogsOnlyRejections) {
    auto options = test_options();
    options.log_level = tcpchat::LogLevel::error;
    start(options);
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    RawClient client(endpoint_);
    client.send(bridge_request("user9"));
    client.receive();
    EXPECT_TRUE(logged("rejected " + client.endpoint() + ": clientID user9 is not registered"));
    EXPECT_EQ(lines(), std::vector<std::string>{"rejected " + client.endpoint() +
                                                ": clientID user9 is not registered"});
}

// --- Segmentation (spec §4.1) ---

TEST_F(ServerTest, RequestDrippedOneByteAtATime) {
    start();
    RawClient client(endpoint_);
    client.no_delay();
    for (const char c : register_request("user1", 3000)) {
        ASSERT_TRUE(client.send(std::string_view(&c, 1)));
        std::this_thread::sleep_for(1ms); // let each byte travel as its own segment
    }
    EXPECT_EQ(client.receive().bytes, regack("user1", 3000));
}

// spec §6.1: the server closes after its reply. The client here neither closes nor half-closes,
// and the linger time is long, so only the server's own FIN can end the read promptly.
TEST_F(ServerTest, ServerClosesRightAfterTheReply) {
    auto options = test_options();
    options.linger_timeout = 30s;
    start(options);
    RawClient client(endpoint_);
    client.send(register_request("user1", 3000));
    const Received r = client.receive(10s);
    EXPECT_EQ(r.bytes, regack("user1", 3000));
    EXPECT_EQ(r.end, Received::End::eof);
}

// spec §4.1, §6.1: after its reply and FIN the server reads and drops what the client still
// sends until the client closes (or the linger time passes), so that its close cannot reset the
// connection while the reply is in flight.
TEST_F(ServerTest, ServerLingersUntilTheClientCloses) {
    auto options = test_options();
    options.linger_timeout = 30s;
    start(options);
    RawClient client(endpoint_);
    client.send(register_request("user1", 3000) + "bytes after the request");
    const Received r = client.receive(10s);
    EXPECT_EQ(r.bytes, regack("user1", 3000));
    EXPECT_EQ(r.end, Received::End::eof);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(server_->connections(), 1U) << "closed before the client did";
    client.close();
    EXPECT_TRUE(connections_become(0));
}

TEST_F(ServerTest, BytesAfterTheFirstRequestAreIgnored) {
    start();
    EXPECT_EQ(
        exchange(register_request("user1", 3000) + register_request("user2", 3001) + "garbage\n"),
        regack("user1", 3000));
    EXPECT_EQ(registry_->find("user2"), std::nullopt);
}

TEST_F(ServerTest, ClientMayHalfCloseAfterItsRequest) {
    start();
    RawClient client(endpoint_);
    client.send(register_request("user1", 3000));
    client.shutdown_send();
    EXPECT_EQ(client.receive().bytes, regack("user1", 3000));
}

// --- Bad input (spec §6.4): exact reply, one log line, registry unchanged, still serving ---

struct BadRequest {
    std::string name;
    std::string bytes;
    int code;           // the ERROR code the server replies with
    std::string reason; // the codec error as the Reason: `<name> at byte <offset>`
};

std::ostream& operator<<(std::ostream& os, const BadRequest& b) {
    return os << b.name;
}

std::string repeat(char c, std::size_t n) {
    return std::string(n, c);
}

std::string many_headers(int n) {
    std::string s = "REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n";
    for (int i = 0; i < n; ++i) {
        s += "X-" + std::to_string(i) + ": y\r\n";
    }
    return s + "\r\n";
}

const std::vector<BadRequest> bad_requests = {
    {"malformed_header", "REGISTER\r\nclientID user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n", 400,
     "malformed_header at byte 10"},
    {"unknown_method", "HELLO\r\n\r\n", 400, "unknown_method at byte 0"},
    {"lowercase_method", register_request("user1", 3000).replace(0, 8, "register"), 400,
     "unknown_method at byte 0"},
    {"http_request", "GET / HTTP/1.1\r\nHost: example\r\n\r\n", 400, "unknown_method at byte 0"},
    {"chat_to_server", "CHAT\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n", 405,
     "unexpected_method at byte 0"},
    {"quit_to_server", "QUIT\r\n\r\n", 405, "unexpected_method at byte 0"},
    {"regack_to_server", regack("user1", 3000), 405, "unexpected_method at byte 0"},
    {"missing_port", "REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\n\r\n", 400,
     "missing_header at byte 42"},
    {"bridge_missing_id", "BRIDGE\r\n\r\n", 400, "missing_header at byte 8"},
    {"duplicate_client_id",
     "REGISTER\r\nclientID: user1\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n", 400,
     "duplicate_header at byte 27"},
    {"port_out_of_range", register_request("user1", 65536), 400, "bad_port at byte 48"},
    {"port_zero", register_request("user1", 0), 400, "bad_port at byte 48"},
    {"bad_ip", register_request("user1", 3000, "localhost"), 400, "bad_ip at byte 31"},
    {"empty_client_id", "BRIDGE\r\nclientID: \r\n\r\n", 400, "empty_value at byte 18"},
    {"nul_byte", "REGISTER\r\nclientID: us" + std::string(1, '\0') + "er1\r\n", 400,
     "invalid_byte at byte 22"},
    {"bare_lf", "REGISTER\nclientID: user1\n\n", 400, "bare_lf at byte 8"},
    {"binary_noise", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x9a\x00\xff", 400,
     "invalid_byte at byte 0"},
    {"line_too_long", "REGISTER\r\nX-Long: " + repeat('x', 2000) + "\r\n\r\n", 413,
     "line_too_long at byte 1034"},
    {"id_too_long", bridge_request(repeat('x', 65)), 413, "id_too_long at byte 82"},
    {"too_many_headers", many_headers(14), 413, "too_many_headers at byte 161"},
};

TEST_F(ServerTest, RequestsJustUnderTheLimitsAreAccepted) {
    start();
    EXPECT_EQ(exchange(many_headers(13)), regack("user1", 3000)); // 16 header lines
    const std::string id(64, 'x');
    EXPECT_EQ(exchange(register_request(id, 3000)), regack(id, 3000));
    EXPECT_EQ(exchange("REGISTER\r\nX-Long: " + repeat('x', 1016) + "\r\n" +
                       register_request("user2", 3001).substr(10)),
              regack("user2", 3001)); // a 1024-byte line
}

// The codec words what it expected; the server's reply and log line quote it (spec §6.4).
std::string reason_of(const BadRequest& bad) {
    const auto decoded = tcpchat::decode(tcpchat::Context::request, bad.bytes);
    EXPECT_FALSE(decoded.ok()) << bad.name;
    return bad.reason + " (expected " +
           (decoded.ok() ? std::string() : std::string(decoded.error().expected)) + ")";
}

class BadRequestTest : public ServerTest, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(BadRequestTest, IsRefusedAndChangesNothing) {
    const BadRequest& bad = GetParam();
    start();
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    ASSERT_EQ(exchange(bridge_request("user1")), empty_bridgeack);
    const auto before = registry_->state();

    const std::string reason = reason_of(bad);

    RawClient client(endpoint_);
    client.send(bad.bytes);
    const Received r = client.receive();
    EXPECT_EQ(r.bytes, error_reply(bad.code, reason));
    EXPECT_TRUE(logged("rejected " + client.endpoint() + ": " + reason));
    EXPECT_EQ(registry_->state(), before);
    expect_still_serving();
}

INSTANTIATE_TEST_SUITE_P(Requests, BadRequestTest, ::testing::ValuesIn(bad_requests),
                         [](const auto& info) { return info.param.name; });

TEST_F(ServerTest, HalfARequestThenCloseIsLogged) {
    start();
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    const auto before = registry_->state();
    RawClient client(endpoint_);
    const std::string endpoint = client.endpoint();
    // The new contact is complete, the request is not (its empty line is missing).
    client.send("REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3999\r\n");
    client.close();
    const std::string line = logged_starting("rejected " + endpoint + ": ");
    EXPECT_EQ(line.rfind("rejected " + endpoint + ": closed mid-request, truncated at byte 54", 0),
              0U)
        << line;
    EXPECT_EQ(registry_->state(), before);
    expect_still_serving();
}

TEST_F(ServerTest, HalfARequestThenHalfCloseGetsNoReply) {
    start();
    RawClient client(endpoint_);
    client.send("BRIDGE\r\nclientID: user1\r\n");
    client.shutdown_send();
    const Received r = client.receive();
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_EQ(r.bytes, "");
    expect_still_serving();
}

TEST_F(ServerTest, ResetMidRequestIsLogged) {
    start();
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    const auto before = registry_->state();
    RawClient client(endpoint_);
    const std::string endpoint = client.endpoint();
    client.send("REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3999\r\n");
    EXPECT_TRUE(logged("accepted " + endpoint));
    client.reset();
    const std::string line = logged_starting("rejected " + endpoint + ": ");
    EXPECT_NE(line.find("reset"), std::string::npos) << line;
    EXPECT_EQ(registry_->state(), before);
    expect_still_serving();
}

TEST_F(ServerTest, ConnectAndCloseWithoutARequestIsNotAnError) {
    start();
    RawClient client(endpoint_);
    const std::string endpoint = client.endpoint();
    client.close();
    EXPECT_TRUE(logged(endpoint + " closed without a request"));
    expect_still_serving();
}

// --- Timeouts, cap, many connections (spec §6.5) ---

TEST_F(ServerTest, SilentClientGets408AfterTheReadTimeout) {
    auto options = test_options();
    options.read_timeout = 200ms;
    start(options);
    RawClient silent(endpoint_);
    EXPECT_EQ(silent.receive().bytes, error_reply(408, "no complete request within 0.2 s"));
    EXPECT_TRUE(logged("rejected " + silent.endpoint() + ": no complete request within 0.2 s"));

    RawClient slow(endpoint_);
    slow.send("REGISTER\r\nclientID: user1\r\n");
    EXPECT_EQ(slow.receive().bytes, error_reply(408, "no complete request within 0.2 s"));
    EXPECT_EQ(registry_->state(), tcpchat::RegistryState{});
    expect_still_serving();
}

// The deadline runs from the accept, not from the last byte: a client dripping a byte every
// 100 ms (the whole request would take about 6 s) gets ERROR 408 at the read timeout.
TEST_F(ServerTest, DripPastTheDeadlineGets408FromTheAccept) {
    auto options = test_options();
    options.read_timeout = 500ms;
    start(options);
    RawClient client(endpoint_);
    client.no_delay();
    const auto started = std::chrono::steady_clock::now();
    const std::string request = register_request("user1", 3000);
    for (const char c : request) {
        if (!client.send(std::string_view(&c, 1)) || !client.quiet()) {
            break; // the server answered (or closed) before the drip ended
        }
        std::this_thread::sleep_for(100ms);
    }
    const Received r = client.receive();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.bytes, error_reply(408, "no complete request within 0.5 s"));
    // Re-arming after each byte would answer after the whole drip (about 6 s), with REGACK.
    EXPECT_LT(elapsed, 4s);
    EXPECT_EQ(registry_->find("user1"), std::nullopt);
}

TEST_F(ServerTest, IdleConnectionsDoNotBlockService) {
    start();
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 200; ++i) {
        idle.push_back(std::make_unique<RawClient>(endpoint_));
        ASSERT_TRUE(idle.back()->connected());
    }
    ASSERT_TRUE(connections_become(200));
    for (int i = 0; i < 10; ++i) {
        const std::string id = "busy" + std::to_string(i);
        EXPECT_EQ(exchange(register_request(id, 5000 + i)), regack(id, 5000 + i));
    }
    // Served while the idle ones were still waiting, not because they were closed.
    for (const auto& c : idle) {
        EXPECT_TRUE(c->quiet());
    }
}

TEST_F(ServerTest, ThousandConcurrentRequestsAreAllAnswered) {
    // 1000 client sockets and 1000 server sockets in this one process.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < 2100 && files.rlim_max >= 2100) {
        files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    ::getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < 2100) {
        GTEST_SKIP() << "needs 2100 file descriptors, the limit is " << files.rlim_cur;
    }
    start();
    constexpr int n = 1000;
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < n; ++i) {
        clients.push_back(std::make_unique<RawClient>(endpoint_));
        ASSERT_TRUE(clients.back()->connected()) << i;
    }
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(clients[i]->send(register_request("u" + std::to_string(i), 10000 + i)));
    }
    for (int i = 0; i < n; ++i) {
        const std::string id = "u" + std::to_string(i);
        EXPECT_EQ(clients[i]->receive().bytes, regack(id, 10000 + i)) << id;
        clients[i]->close();
    }
    EXPECT_EQ(registry_->state().contacts.size(), std::size_t{n});
}

TEST_F(ServerTest, OverTheConnectionCapGets503) {
    auto options = test_options();
    options.max_connections = 4;
    start(options);
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 4; ++i) {
        idle.push_back(std::make_unique<RawClient>(endpoint_));
    }
    ASSERT_TRUE(connections_become(4));

    RawClient extra(endpoint_);
    extra.send(register_request("user1", 3000));
    EXPECT_EQ(extra.receive().bytes, error_reply(503, "too many connections (limit 4)"));
    EXPECT_TRUE(logged("rejected " + extra.endpoint() + ": too many connections (limit 4)"));
    EXPECT_EQ(registry_->state(), tcpchat::RegistryState{});

    idle.pop_back();
    ASSERT_TRUE(connections_become(3));
    expect_still_serving();
}

// --- --error-replies=close: for clients that know no ERROR (spec §9.3) ---

tcpchat::ServerOptions without_errors() {
    auto options = test_options();
    options.error_replies = tcpchat::ErrorReplies::close;
    return options;
}

class BadRequestWithoutErrorTest : public ServerTest,
                                   public ::testing::WithParamInterface<BadRequest> {};

// 400, 405 and 413: not a byte, then FIN (never a reset, even with the request unread).
TEST_P(BadRequestWithoutErrorTest, IsClosedWithoutAReply) {
    const BadRequest& bad = GetParam();
    start(without_errors());
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    const auto before = registry_->state();
    const std::string reason = reason_of(bad);

    RawClient client(endpoint_);
    client.send(bad.bytes);
    const Received r = client.receive();
    EXPECT_EQ(r.bytes, "");
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_TRUE(
        logged("rejected " + client.endpoint() + ": " + reason + "; closed without a reply"));
    EXPECT_EQ(registry_->state(), before);
    expect_still_serving();
}

INSTANTIATE_TEST_SUITE_P(Requests, BadRequestWithoutErrorTest, ::testing::ValuesIn(bad_requests),
                         [](const auto& info) { return info.param.name; });

// 413 stops reading at the limit: the tens of kilobytes behind it must not turn the close into a
// reset, which the client would see instead of the end of the stream.
TEST_F(ServerTest, WithoutErrorsAnOversizedRequestEndsWithFinNotReset) {
    start(without_errors());
    RawClient client(endpoint_);
    ASSERT_TRUE(client.send("REGISTER\r\nX-Long: " + repeat('x', 60000) + "\r\n\r\n"));
    const Received r = client.receive();
    EXPECT_EQ(r.bytes, "");
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_TRUE(logged_starting("rejected " + client.endpoint() + ": line_too_long at byte 1034")
                    .ends_with("; closed without a reply"));
}

TEST_F(ServerTest, WithoutErrorsARefusedReRegisterIsClosedWithoutAReply) {
    start(without_errors());
    ASSERT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    const auto before = registry_->state();
    RawClient intruder(endpoint_, "127.0.0.3");
    const Received r = take_over_user1(intruder);
    EXPECT_EQ(r.bytes, "");
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_TRUE(logged("rejected " + intruder.endpoint() +
                       ": clientID user1 is registered from another address; closed without a "
                       "reply"));
    EXPECT_EQ(registry_->state(), before);
}

TEST_F(ServerTest, WithoutErrorsABridgeFromAnUnknownClientGetsTheEmptyBridgeAck) {
    start(without_errors());
    RawClient client(endpoint_);
    client.send(bridge_request("user9"));
    const Received r = client.receive();
    EXPECT_EQ(r.bytes, empty_bridgeack);
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_TRUE(logged("rejected " + client.endpoint() +
                       ": clientID user9 is not registered; sent the empty BRIDGEACK"));
    EXPECT_EQ(registry_->state(), tcpchat::RegistryState{}); // not registered, not waiting
}

TEST_F(ServerTest, WithoutErrorsASilentClientIsClosedAfterTheReadTimeout) {
    auto options = without_errors();
    options.read_timeout = 200ms;
    start(options);
    RawClient slow(endpoint_);
    slow.send("REGISTER\r\nclientID: user1\r\n");
    const Received r = slow.receive();
    EXPECT_EQ(r.bytes, "");
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_TRUE(logged("rejected " + slow.endpoint() +
                       ": no complete request within 0.2 s; closed without a reply"));
}

TEST_F(ServerTest, WithoutErrorsOverTheCapIsClosedWithoutAReply) {
    auto options = without_errors();
    options.max_connections = 2;
    start(options);
    RawClient idle1(endpoint_);
    RawClient idle2(endpoint_);
    ASSERT_TRUE(connections_become(2));
    RawClient extra(endpoint_);
    extra.send(register_request("user1", 3000));
    const Received r = extra.receive();
    EXPECT_EQ(r.bytes, "");
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_TRUE(logged("rejected " + extra.endpoint() +
                       ": too many connections (limit 2); closed without a reply"));
    EXPECT_EQ(registry_->state(), tcpchat::RegistryState{});
}

// --- Graceful stop (spec §6.5) ---

TEST_F(ServerTest, StopLetsARequestInFlightFinish) {
    start();
    RawClient client(endpoint_);
    client.send("REGISTER\r\nclientID: user1\r\n");
    ASSERT_TRUE(connections_become(1));
    server_->stop();
    EXPECT_TRUE(logged("stopping: 1 connections open"));

    RawClient late(endpoint_);
    EXPECT_FALSE(late.connected()) << "no longer accepting";

    client.send("IP: 127.0.0.1\r\nPort: 3000\r\n\r\n");
    EXPECT_EQ(client.receive().bytes, regack("user1", 3000));
    thread_.join(); // the io_context runs out of work once the last connection is gone
    EXPECT_TRUE(logged("stopped"));
}

// An answered connection that only waits for the client's close is not counted as open, and the
// stop closes it at once (spec Appendix B, the "stopping" line).
TEST_F(ServerTest, StopCountsNoAnsweredConnectionAndClosesIt) {
    auto options = test_options();
    options.linger_timeout = 30s;
    options.drain_timeout = 30s;
    start(options);
    RawClient answered(endpoint_);
    answered.send(register_request("user1", 3000));
    const Received r = answered.receive(10s);
    EXPECT_EQ(r.bytes, regack("user1", 3000));
    EXPECT_EQ(r.end, Received::End::eof);
    ASSERT_TRUE(connections_become(1)) << "the server lingers until the client closes";
    server_->stop();
    thread_.join(); // well before the 30 s drain: nothing was left to serve
    // Both lines were logged before the io_context ran out of work, in this order.
    const auto all = lines();
    const auto stopping = std::find(all.begin(), all.end(), "stopping: 0 connections open");
    const auto stopped = std::find(all.begin(), all.end(), "stopped");
    ASSERT_NE(stopping, all.end());
    ASSERT_NE(stopped, all.end());
    EXPECT_LT(stopping, stopped);
}

TEST_F(ServerTest, StopCutsConnectionsAfterTheDrainTimeout) {
    auto options = test_options();
    options.drain_timeout = 200ms;
    start(options);
    RawClient idle(endpoint_);
    ASSERT_TRUE(connections_become(1));
    server_->stop();
    const Received r = idle.receive();
    EXPECT_EQ(r.bytes, "");
    EXPECT_NE(r.end, Received::End::timeout);
    thread_.join();
    EXPECT_TRUE(logged("stopping: cutting 1 connections after 0.2 s"));
    EXPECT_TRUE(logged("stopped"));
}

TEST_F(ServerTest, StopCallbackRunsOnceStopped) {
    start();
    std::promise<void> stopped;
    server_->stop([&stopped] { stopped.set_value(); });
    EXPECT_EQ(stopped.get_future().wait_for(patience), std::future_status::ready);
    thread_.join();
}

// The server serves on threads of its own; the caller's io_context runs until the server has
// stopped, and the stop callback runs there, where the caller's other work (a Redis registry,
// signals) lives.
TEST_F(ServerTest, TheCallersIoContextRunsUntilTheStopAndRunsItsCallback) {
    start();
    const std::thread::id io_thread = thread_.get_id();
    EXPECT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    EXPECT_FALSE(io_.stopped()); // still running: the server keeps it busy until stopped
    std::promise<std::thread::id> ran_on;
    server_->stop([&ran_on] { ran_on.set_value(std::this_thread::get_id()); });
    auto where = ran_on.get_future();
    ASSERT_EQ(where.wait_for(patience), std::future_status::ready);
    EXPECT_EQ(where.get(), io_thread);
    thread_.join(); // io_.run() returned: the server left no work behind
    // A stop after the server stopped runs its callback at once, on the caller's thread.
    bool again = false;
    server_->stop([&again] { again = true; });
    EXPECT_TRUE(again);
}

// --- Listening (spec §6.1) ---

TEST_F(ServerTest, ListenReportsAnAddressInUse) {
    start();
    boost::asio::io_context io;
    tcpchat::MemoryRegistry registry;
    auto options = test_options();
    options.port = endpoint_.port();
    tcpchat::Server second(io, options, registry, {});
    EXPECT_EQ(second.listen(), std::errc::address_in_use);
}

TEST_F(ServerTest, ListenReportsAnAddressNotAvailable) {
    boost::asio::io_context io;
    tcpchat::MemoryRegistry registry;
    auto options = test_options();
    options.host = "192.0.2.1"; // TEST-NET-1: not an address of this machine
    tcpchat::Server server(io, options, registry, {});
    const std::error_code ec = server.listen();
    if (!ec) {
        GTEST_SKIP() << "this machine lets a socket bind an address it does not have";
    }
    EXPECT_EQ(ec, std::errc::address_not_available);
}

TEST_F(ServerTest, ServesOverIpv6) {
    auto options = test_options();
    options.host = "::1";
    registry_ = std::make_unique<tcpchat::MemoryRegistry>();
    server_ = std::make_unique<tcpchat::Server>(io_, options, *registry_, nullptr);
    if (server_->listen()) {
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    endpoint_ = server_->local_endpoint();
    thread_ = std::thread([this] { io_.run(); });
    EXPECT_EQ(exchange(register_request("v6", 3000, "::1")), regack("v6", 3000, "::1"));
}

// --- A registry that answers later, or never (spec §6.7) ---

// Holds every call until release(), which answers them from the calling (test) thread, as a
// networked registry answers from another handler.
class DeferredRegistry final : public tcpchat::Registry {
  public:
    void async_register(const tcpchat::Contact& contact, std::string_view source,
                        tcpchat::RegisterHandler done) override {
        hold([this, c = tcpchat::ContactRecord(contact), source = std::string(source),
              done = std::move(done)] { done({}, memory.register_contact(c.view(), source)); });
    }
    void async_bridge(std::string_view id, tcpchat::BridgeHandler done) override {
        hold([this, id = std::string(id), done = std::move(done)] { done({}, memory.bridge(id)); });
    }
    void async_find(std::string_view id, tcpchat::FindHandler done) override {
        done({}, memory.find(id));
    }
    // Waits until `n` calls are held, then answers them.
    bool release(std::size_t n) {
        std::vector<std::function<void()>> calls;
        {
            std::unique_lock lock(mutex_);
            if (!held_.wait_for(lock, patience, [&] { return calls_.size() >= n; })) {
                return false;
            }
            calls.swap(calls_);
        }
        for (auto& call : calls) {
            call();
        }
        return true;
    }

    tcpchat::MemoryRegistry memory;

  private:
    void hold(std::function<void()> call) {
        const std::scoped_lock lock(mutex_);
        calls_.push_back(std::move(call));
        held_.notify_all();
    }
    std::mutex mutex_;
    std::condition_variable held_;
    std::vector<std::function<void()>> calls_;
};

TEST_F(ServerTest, AnswerFromALaterRegistryIsSent) {
    DeferredRegistry deferred;
    other_registry_ = &deferred;
    start();
    RawClient first(endpoint_);
    first.send(register_request("user1", 3000));
    RawClient second(endpoint_);
    second.send(register_request("user2", 3001));
    ASSERT_TRUE(deferred.release(2));
    EXPECT_EQ(first.receive().bytes, regack("user1", 3000));
    EXPECT_EQ(second.receive().bytes, regack("user2", 3001));
    RawClient bridge(endpoint_);
    bridge.send(bridge_request("user1"));
    ASSERT_TRUE(deferred.release(1));
    EXPECT_EQ(bridge.receive().bytes, empty_bridgeack);
    stop(); // before `deferred` goes
}

TEST_F(ServerTest, RegistryThatDoesNotAnswerGets503AtTheReadTimeout) {
    DeferredRegistry deferred;
    other_registry_ = &deferred;
    auto options = test_options();
    options.read_timeout = 300ms;
    start(options);
    RawClient client(endpoint_);
    client.send(register_request("user1", 3000));
    const Received r = client.receive();
    EXPECT_EQ(r.bytes, error_reply(503, "registry did not answer within 0.3 s"));
    EXPECT_EQ(r.end, Received::End::eof);
    EXPECT_TRUE(logged("rejected " + client.endpoint() + ": registry did not answer within 0.3 s"));
    // The answer that comes too late changes nothing for the client and breaks nothing.
    ASSERT_TRUE(deferred.release(1));
    RawClient next(endpoint_);
    next.send(bridge_request("user1"));
    ASSERT_TRUE(deferred.release(1));
    EXPECT_EQ(next.receive().bytes, empty_bridgeack);
    stop();
}

TEST_F(ServerTest, RegistryErrorGets503) {
    class Unavailable final : public tcpchat::Registry {
      public:
        void async_register(const tcpchat::Contact&, std::string_view,
                            tcpchat::RegisterHandler done) override {
            done(tcpchat::RegistryErrc::unavailable, {});
        }
        void async_bridge(std::string_view, tcpchat::BridgeHandler done) override {
            done(tcpchat::RegistryErrc::timed_out, {});
        }
        void async_find(std::string_view, tcpchat::FindHandler done) override {
            done(tcpchat::RegistryErrc::unavailable, std::nullopt);
        }
    } unavailable;
    other_registry_ = &unavailable;
    start();
    EXPECT_EQ(exchange(register_request("user1", 3000)), error_reply(503, "registry unavailable"));
    EXPECT_EQ(exchange(bridge_request("user1")),
              error_reply(503, "registry did not answer in time"));
    stop();
}

TEST_F(ServerTest, FullRegistryGets503ForNewClientIds) {
    tcpchat::RegistryPolicy policy;
    policy.max_registrations = 2;
    start(test_options(), policy);
    EXPECT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
    EXPECT_EQ(exchange(register_request("user2", 3001)), regack("user2", 3001));
    EXPECT_EQ(exchange(register_request("user3", 3002)),
              error_reply(503, "registry full: no new clientID until registrations expire"));
    EXPECT_EQ(exchange(register_request("user1", 3000)), regack("user1", 3000));
}

} // namespace
