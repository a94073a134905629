// Several servers on one Redis (spec §6.7): in-process servers, each with its own io_context and
// RedisRegistry as separate processes would have, against a real redis-server. Requests alternate
// between the instances; the pairing invariant holds over thousands of concurrent BRIDGEs; a
// restart forgets nothing; Redis killed under load costs 503s, never a crash, a hang or an
// acknowledged registration.
#include "pairing_check.hpp"
#include "raw_client.hpp"
#include "redis_process.hpp"
#include "tcpchat/redis_registry.hpp"
#include "tcpchat/server.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace tcpchat::test;
using Clock = std::chrono::steady_clock;

// One tcp-chat-server as its own process would run it.
class Instance {
  public:
    Instance(std::uint16_t redis_port, const std::string& prefix,
             std::chrono::milliseconds read_timeout = 5000ms) {
        tcpchat::ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.read_timeout = read_timeout;
        options.log_level = tcpchat::LogLevel::error;
        tcpchat::RedisOptions redis;
        redis.address.port = redis_port;
        redis.prefix = prefix;
        // The default 1 s: shorter, an ASan build on a busy machine can look like a stuck Redis.
        redis.command_timeout = 1000ms;
        redis.log = [this](std::string_view line) { note(line); };
        registry_ = std::make_unique<tcpchat::RedisRegistry>(io_, tcpchat::RegistryPolicy{}, redis);
        server_ = std::make_unique<tcpchat::Server>(
            io_, options, *registry_,
            [this](tcpchat::LogLevel, std::string_view line) { note(line); });
        EXPECT_FALSE(server_->listen());
        endpoint = server_->local_endpoint();
        registry_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Instance() { stop(); }
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    void stop() {
        if (thread_.joinable()) {
            server_->stop([registry = registry_.get()] { registry->stop(); });
            thread_.join();
        }
    }

    std::size_t logged_containing(const std::string& text) {
        const std::scoped_lock lock(mutex_);
        std::size_t n = 0;
        for (const auto& l : log_) {
            n += l.find(text) != std::string::npos ? 1 : 0;
        }
        return n;
    }

    tcp::endpoint endpoint;

  private:
    void note(std::string_view line) {
        const std::scoped_lock lock(mutex_);
        log_.emplace_back(line);
    }

    boost::asio::io_context io_;
    std::unique_ptr<tcpchat::RedisRegistry> registry_;
    std::unique_ptr<tcpchat::Server> server_;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> log_;
};

std::string ask(const Instance& to, const std::string& request, const char* source = nullptr) {
    RawClient client(to.endpoint, source);
    EXPECT_TRUE(client.connected());
    client.send(request);
    const Received r = client.receive();
    EXPECT_EQ(r.end, Received::End::eof) << "reply so far: " << r.bytes;
    return r.bytes;
}

// Sends until the registry answers (the instance connects to Redis in the background).
bool serving(const Instance& instance) {
    const auto deadline = Clock::now() + patience;
    while (Clock::now() < deadline) {
        if (ask(instance, bridge_request("nobody")).starts_with("ERROR\r\nCode: 404")) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

std::string unique_prefix() {
    static std::atomic<int> n{0};
    return "srv" + std::to_string(::getpid()) + "-" + std::to_string(++n) + ":";
}

bool registered_in(std::uint16_t port, const std::string& prefix, const std::string& id) {
    redisContext* c = redisConnect("127.0.0.1", port);
    if (c == nullptr || c->err != 0) {
        redisFree(c);
        return false;
    }
    const std::string key = prefix + "c:" + id;
    auto* reply = static_cast<redisReply*>(redisCommand(c, "EXISTS %b", key.data(), key.size()));
    const bool exists = reply != nullptr && reply->integer == 1;
    freeReplyObject(reply);
    redisFree(c);
    return exists;
}

TEST(RedisServers, AlternatingInstancesBehaveAsOne) {
    RedisProcess redis;
    ASSERT_TRUE(redis.ready());
    const std::string prefix = unique_prefix();
    Instance a(redis.port(), prefix);
    Instance b(redis.port(), prefix);
    ASSERT_TRUE(serving(a));
    ASSERT_TRUE(serving(b));
    EXPECT_EQ(ask(a, register_request("user1", 3000)), regack("user1", 3000));
    EXPECT_EQ(ask(b, register_request("user2", 3001)), regack("user2", 3001));
    EXPECT_EQ(ask(b, bridge_request("user1")), empty_bridgeack);
    EXPECT_EQ(ask(a, bridge_request("user2")), bridgeack("user1", 3000));
    EXPECT_EQ(ask(a, bridge_request("user2")), empty_bridgeack);
    EXPECT_EQ(ask(b, bridge_request("user2")), empty_bridgeack); // never its own contact
    EXPECT_EQ(ask(b, bridge_request("user1")), bridgeack("user2", 3001));
    // What one instance registered, the other refuses to hand to another address (spec §6.2).
    EXPECT_EQ(ask(b, register_request("user1", 4000, "127.0.0.3"), "127.0.0.3"),
              error_reply(403, "clientID user1 is registered from another address"));
    EXPECT_EQ(ask(a, bridge_request("user9")),
              error_reply(404, "clientID user9 is not registered"));
}

// Every client bridges once, through either instance, many at a time (spec §6.3).
TEST(RedisServers, PairingInvariantHoldsOverThousandsOfConcurrentBridges) {
    RedisProcess redis;
    ASSERT_TRUE(redis.ready());
    const std::string prefix = unique_prefix();
    Instance a(redis.port(), prefix);
    Instance b(redis.port(), prefix);
    ASSERT_TRUE(serving(a));
    ASSERT_TRUE(serving(b));
    constexpr int clients = 2000;
    constexpr int threads = 16;
    const Instance* instances[] = {&a, &b};
    auto id_of = [](int i) { return "c" + std::to_string(i); };
    auto port_of = [](int i) { return 10000 + i; };
    for (int i = 0; i < clients; ++i) {
        ASSERT_EQ(ask(*instances[i % 2], register_request(id_of(i), port_of(i))),
                  regack(id_of(i), port_of(i)));
    }
    std::vector<std::string> replies(clients);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = t; i < clients; i += threads) {
                replies[i] = ask(*instances[(i / threads) % 2], bridge_request(id_of(i)));
            }
        });
    }
    for (auto& thread : pool) {
        thread.join();
    }
    expect_pairing_invariant(replies);
}

TEST(RedisServers, RestartKeepsEveryRegistration) {
    RedisProcess redis;
    ASSERT_TRUE(redis.ready());
    const std::string prefix = unique_prefix();
    {
        Instance before(redis.port(), prefix);
        ASSERT_TRUE(serving(before));
        for (int i = 0; i < 20; ++i) {
            const std::string id = "user" + std::to_string(i);
            EXPECT_EQ(ask(before, register_request(id, 3000 + i)), regack(id, 3000 + i));
        }
    }
    Instance after(redis.port(), prefix);
    ASSERT_TRUE(serving(after));
    for (int i = 0; i < 20; i += 2) {
        const std::string id = "user" + std::to_string(i);
        const std::string next = "user" + std::to_string(i + 1);
        EXPECT_EQ(ask(after, bridge_request(id)), empty_bridgeack);
        EXPECT_EQ(ask(after, bridge_request(next)), bridgeack(id, 3000 + i));
    }
}

TEST(RedisServers, UnreachableRegistryGets503WithinTheReadTimeout) {
    RedisProcess redis(false, RedisProcess::Start::later);
    Instance a(redis.port(), unique_prefix(), 1000ms);
    for (int i = 0; i < 5; ++i) {
        const auto started = Clock::now();
        EXPECT_EQ(ask(a, register_request("user1", 3000)),
                  error_reply(503, "registry unavailable"));
        EXPECT_LT(Clock::now() - started, 3s);
    }
    EXPECT_EQ(a.logged_containing("registry: cannot reach"), 1U);
    ASSERT_TRUE(redis.start());
    ASSERT_TRUE(serving(a));
    EXPECT_EQ(ask(a, register_request("user1", 3000)), regack("user1", 3000));
}

TEST(RedisServers, PausedRedisGets503WithinTheReadTimeout) {
    RedisProcess redis;
    ASSERT_TRUE(redis.ready());
    Instance a(redis.port(), unique_prefix(), 1000ms);
    ASSERT_TRUE(serving(a));
    redis.pause();
    const auto started = Clock::now();
    const std::string reply = ask(a, register_request("user1", 3000));
    EXPECT_TRUE(reply.starts_with("ERROR\r\nCode: 503\r\nReason: registry ")) << reply;
    EXPECT_LT(Clock::now() - started, 3s);
    redis.resume();
    ASSERT_TRUE(serving(a));
}

// Redis killed (SIGKILL) under load and restarted, with appendfsync always: requests get 503
// while it is down and none waits past the read timeout; service is back within a second; every
// REGACK given before the kill is still a registration after it.
TEST(RedisServers, KilledUnderLoadAndRestarted) {
    RedisProcess redis(true);
    ASSERT_TRUE(redis.ready());
    const std::string prefix = unique_prefix();
    constexpr auto read_timeout = 2000ms;
    Instance a(redis.port(), prefix, read_timeout);
    Instance b(redis.port(), prefix, read_timeout);
    ASSERT_TRUE(serving(a));
    ASSERT_TRUE(serving(b));

    struct Outcome {
        std::string id;
        Clock::time_point sent, answered;
        std::string reply;
    };
    std::mutex mutex;
    std::vector<Outcome> outcomes;
    std::atomic<bool> running{true};
    std::vector<std::thread> load;
    const Instance* instances[] = {&a, &b};
    for (int t = 0; t < 4; ++t) {
        load.emplace_back([&, t] {
            for (int n = 0; running; ++n) {
                Outcome o{"t" + std::to_string(t) + "-" + std::to_string(n), Clock::now(), {}, {}};
                o.reply = ask(*instances[n % 2], register_request(o.id, 3000));
                o.answered = Clock::now();
                const std::scoped_lock lock(mutex);
                outcomes.push_back(std::move(o));
            }
        });
    }
    std::this_thread::sleep_for(1s);
    const auto killed = Clock::now();
    redis.kill();
    std::this_thread::sleep_for(1500ms);
    const bool back = redis.start(); // the load runs on: no ASSERT before it is joined
    const auto restarted = Clock::now();
    std::this_thread::sleep_for(2500ms);
    running = false;
    for (auto& thread : load) {
        thread.join();
    }
    ASSERT_TRUE(back);

    std::size_t before = 0, unavailable = 0, after = 0;
    for (const auto& o : outcomes) {
        const bool acked = o.reply == regack(o.id, 3000);
        EXPECT_TRUE(acked || o.reply.starts_with("ERROR\r\nCode: 503\r\nReason: registry "))
            << o.reply;
        EXPECT_LT(o.answered - o.sent, read_timeout + 1s) << o.id;
        if (acked && o.answered < killed) {
            ++before;
            EXPECT_TRUE(registered_in(redis.port(), prefix, o.id)) << o.id << " lost";
        }
        unavailable += acked ? 0 : 1;
        // "Within a second" of Redis accepting again, with a second more for a loaded machine.
        if (o.sent > restarted + 2s) {
            ++after;
            EXPECT_TRUE(acked) << o.id << " sent after recovery: " << o.reply;
        }
    }
    EXPECT_GT(before, 0U);
    EXPECT_GT(after, 0U);
    // Said once per instance, not once per request (many failed): the loss, or first the
    // watchdog's verdict when a command was in flight; then the reconnection.
    for (Instance* instance : {&a, &b}) {
        const auto lost = instance->logged_containing("registry: lost");
        const auto stuck = instance->logged_containing("did not answer within");
        EXPECT_LE(lost, 1U);
        EXPECT_GE(lost + stuck, 1U);
        EXPECT_LE(instance->logged_containing("registry: "), 4U);
    }
    EXPECT_GT(unavailable, 10U);
}

} // namespace
