// RedisRegistry against a real redis-server (spec §6.2, §6.3, §6.7): the rules' table, expiry
// with real short TTLs, and the faults: Redis unreachable at start, killed and restarted, paused.
#include "redis_process.hpp"
#include "registry_scenarios.hpp"
#include "tcpchat/redis_registry.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tcpchat::BridgeOutcome;
using tcpchat::RegisterOutcome;
using tcpchat::RegistryErrc;
using tcpchat::test::bridge_now;
using tcpchat::test::find_now;
using tcpchat::test::RedisProcess;
using tcpchat::test::register_now;

// One redis-server for the tests that do not break it; each test uses its own key prefix.
RedisProcess& shared_redis() {
    static RedisProcess redis;
    return redis;
}

std::string unique_prefix() {
    static std::atomic<int> n{0};
    return "test" + std::to_string(::getpid()) + "-" + std::to_string(++n) + ":";
}

// Every key under `prefix` and its remaining time to live in ms (-1: none), by a plain client.
std::vector<std::pair<std::string, long long>> keys_with_ttl(std::uint16_t port,
                                                             const std::string& prefix) {
    std::vector<std::pair<std::string, long long>> keys;
    redisContext* c = redisConnect("127.0.0.1", port);
    if (c == nullptr || c->err != 0) {
        ADD_FAILURE() << "cannot connect to redis";
        redisFree(c);
        return keys;
    }
    auto* all = static_cast<redisReply*>(redisCommand(c, "KEYS %s*", prefix.c_str()));
    for (std::size_t i = 0; all != nullptr && i < all->elements; ++i) {
        const std::string key(all->element[i]->str, all->element[i]->len);
        auto* ttl = static_cast<redisReply*>(redisCommand(c, "PTTL %b", key.data(), key.size()));
        keys.emplace_back(key, ttl != nullptr ? ttl->integer : -3);
        freeReplyObject(ttl);
    }
    freeReplyObject(all);
    redisFree(c);
    return keys;
}

class RedisRegistryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        if (registry_) {
            registry_->stop();
        }
        work_.reset();
        thread_.join();
        registry_.reset();
    }

    tcpchat::RedisRegistry& start(std::uint16_t port, tcpchat::RegistryPolicy policy = {},
                                  std::string prefix = unique_prefix()) {
        tcpchat::RedisOptions options;
        options.address.port = port;
        options.prefix = std::move(prefix);
        options.command_timeout = 500ms;
        options.log = [this](std::string_view line) {
            const std::scoped_lock lock(mutex_);
            log_.emplace_back(line);
        };
        registry_ = std::make_unique<tcpchat::RedisRegistry>(io_, policy, options);
        registry_->start();
        return *registry_;
    }

    // Waits until a call succeeds; false after `patience`.
    bool answers(std::chrono::milliseconds patience = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (std::chrono::steady_clock::now() < deadline) {
            std::error_code ec;
            (void)bridge_now(*registry_, "nobody", &ec);
            if (!ec) {
                return true;
            }
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    std::size_t logged_containing(const std::string& text) {
        const std::scoped_lock lock(mutex_);
        return static_cast<std::size_t>(std::count_if(log_.begin(), log_.end(), [&](const auto& l) {
            return l.find(text) != std::string::npos;
        }));
    }

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        io_.get_executor()};
    std::thread thread_;
    std::unique_ptr<tcpchat::RedisRegistry> registry_;
    std::mutex mutex_;
    std::vector<std::string> log_;
};

// --- --registry redis://HOST:PORT/DB ---

TEST(RedisUrl, ParsesWhatTheOptionAccepts) {
    struct Row {
        std::string url;
        std::optional<tcpchat::RedisAddress> expect;
    };
    const std::vector<Row> rows = {
        {"redis://127.0.0.1:6379/0", tcpchat::RedisAddress{"127.0.0.1", 6379, 0}},
        {"redis://127.0.0.1", tcpchat::RedisAddress{"127.0.0.1", 6379, 0}},
        {"redis://10.0.0.5:7000/3", tcpchat::RedisAddress{"10.0.0.5", 7000, 3}},
        {"redis://[::1]:6380/1", tcpchat::RedisAddress{"::1", 6380, 1}},
        {"redis://[::1]", tcpchat::RedisAddress{"::1", 6379, 0}},
        {"redis://localhost:6379/0", std::nullopt}, // a name would be resolved blocking
        {"http://127.0.0.1:6379/0", std::nullopt},
        {"redis://127.0.0.1:0/0", std::nullopt},
        {"redis://127.0.0.1:65536/0", std::nullopt},
        {"redis://127.0.0.1:6379/", std::nullopt},
        {"redis://127.0.0.1:6379/x", std::nullopt},
        {"redis://127.0.0.1:/0", std::nullopt},
        {"redis://:6379/0", std::nullopt},
        {"redis://[::1/0", std::nullopt},
    };
    for (const auto& row : rows) {
        std::string error;
        const auto parsed = tcpchat::parse_redis_url(row.url, error);
        EXPECT_EQ(parsed, row.expect) << row.url;
        EXPECT_EQ(error.empty(), parsed.has_value()) << row.url << ": " << error;
        if (parsed) {
            std::string again;
            EXPECT_EQ(tcpchat::parse_redis_url(tcpchat::to_string(*parsed), again), parsed);
        }
    }
}

// --- The rules, as for MemoryRegistry; scenarios that move a clock are tested with real TTLs ---

class RedisRulesTest : public RedisRegistryTest,
                       public ::testing::WithParamInterface<tcpchat::test::Scenario> {};

TEST_P(RedisRulesTest, Steps) {
    const auto& s = GetParam();
    if (std::any_of(s.steps.begin(), s.steps.end(), [](const auto& step) {
            return std::holds_alternative<tcpchat::test::Advance>(step);
        })) {
        GTEST_SKIP() << "moves the clock: see the expiry tests";
    }
    ASSERT_TRUE(shared_redis().ready());
    tcpchat::RegistryPolicy policy;
    policy.allow_takeover = s.allow_takeover;
    start(shared_redis().port(), policy);
    ASSERT_TRUE(answers());
    tcpchat::test::play(*registry_, s, [](std::chrono::seconds) {});
}

INSTANTIATE_TEST_SUITE_P(Rules, RedisRulesTest, ::testing::ValuesIn(tcpchat::test::scenarios),
                         [](const auto& info) { return info.param.name; });

TEST_F(RedisRegistryTest, ClientIdsAreBinarySafe) {
    ASSERT_TRUE(shared_redis().ready());
    start(shared_redis().port());
    for (const std::string id : {"a b", "x:y*", "\xc3\xa9t\xc3\xa9", "{tag}", "c:other"}) {
        EXPECT_EQ(register_now(*registry_, {id, "::1", 3000}, "::1").outcome,
                  RegisterOutcome::registered);
        EXPECT_EQ(find_now(*registry_, id), tcpchat::ContactRecord(id, "::1", 3000));
    }
}

// --- Expiry (spec §6.2, §6.3): every key has a TTL ---

TEST_F(RedisRegistryTest, RegistrationExpiresAndRefreshRenews) {
    ASSERT_TRUE(shared_redis().ready());
    tcpchat::RegistryPolicy policy;
    policy.registration_ttl = 2s;
    const std::string prefix = unique_prefix();
    start(shared_redis().port(), policy, prefix);
    const auto t0 = std::chrono::steady_clock::now();
    register_now(*registry_, {"kept", "127.0.0.1", 3000}, "127.0.0.1");
    register_now(*registry_, {"dropped", "127.0.0.1", 3001}, "127.0.0.1");
    std::this_thread::sleep_until(t0 + 1200ms);
    EXPECT_EQ(register_now(*registry_, {"kept", "127.0.0.1", 3000}, "127.0.0.1").outcome,
              RegisterOutcome::refreshed);
    std::this_thread::sleep_until(t0 + 2600ms);
    EXPECT_TRUE(find_now(*registry_, "kept"));
    EXPECT_EQ(find_now(*registry_, "dropped"), std::nullopt);
    EXPECT_EQ(bridge_now(*registry_, "dropped").outcome, BridgeOutcome::not_registered);
    std::this_thread::sleep_until(t0 + 4500ms);
    EXPECT_EQ(find_now(*registry_, "kept"), std::nullopt);
}

TEST_F(RedisRegistryTest, EveryKeyHasATtl) {
    ASSERT_TRUE(shared_redis().ready());
    const std::string prefix = unique_prefix();
    start(shared_redis().port(), {}, prefix);
    register_now(*registry_, {"user1", "127.0.0.1", 3000}, "127.0.0.1");
    register_now(*registry_, {"user2", "127.0.0.1", 3001}, "127.0.0.1");
    EXPECT_EQ(bridge_now(*registry_, "user1").outcome, BridgeOutcome::waiting);
    const auto keys = keys_with_ttl(shared_redis().port(), prefix);
    EXPECT_GE(keys.size(), 4U); // two contacts, the queue, the deadlines (and the counter)
    for (const auto& [key, ttl] : keys) {
        EXPECT_GT(ttl, 0) << key;
    }
}

TEST_F(RedisRegistryTest, WaitExpires) {
    ASSERT_TRUE(shared_redis().ready());
    tcpchat::RegistryPolicy policy;
    policy.wait_timeout = 500ms;
    start(shared_redis().port(), policy);
    register_now(*registry_, {"user1", "127.0.0.1", 3000}, "127.0.0.1");
    register_now(*registry_, {"user2", "127.0.0.1", 3001}, "127.0.0.1");
    register_now(*registry_, {"user3", "127.0.0.1", 3002}, "127.0.0.1");
    EXPECT_EQ(bridge_now(*registry_, "user1").outcome, BridgeOutcome::waiting);
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(bridge_now(*registry_, "user2").outcome, BridgeOutcome::waiting);
    const auto paired = bridge_now(*registry_, "user3");
    EXPECT_EQ(paired.outcome, BridgeOutcome::paired);
    ASSERT_TRUE(paired.peer);
    EXPECT_EQ(paired.peer->id, "user2");
}

TEST_F(RedisRegistryTest, ExpiredWaiterIsNobodysPeer) {
    ASSERT_TRUE(shared_redis().ready());
    tcpchat::RegistryPolicy policy;
    policy.registration_ttl = 500ms;
    start(shared_redis().port(), policy);
    register_now(*registry_, {"user1", "127.0.0.1", 3000}, "127.0.0.1");
    EXPECT_EQ(bridge_now(*registry_, "user1").outcome, BridgeOutcome::waiting);
    std::this_thread::sleep_for(1500ms);
    register_now(*registry_, {"user2", "127.0.0.1", 3001}, "127.0.0.1");
    EXPECT_EQ(bridge_now(*registry_, "user2").outcome, BridgeOutcome::waiting);
}

TEST_F(RedisRegistryTest, PrefixesKeepDeploymentsApart) {
    ASSERT_TRUE(shared_redis().ready());
    start(shared_redis().port());
    register_now(*registry_, {"user1", "127.0.0.1", 3000}, "127.0.0.1");
    // Destroyed on the thread that runs the io_context, as the registry requires.
    std::promise<void> gone;
    boost::asio::post(io_, [&] {
        registry_.reset();
        gone.set_value();
    });
    gone.get_future().wait();
    start(shared_redis().port());
    ASSERT_TRUE(answers());
    EXPECT_EQ(find_now(*registry_, "user1"), std::nullopt);
}

// --- Faults (spec §6.7) ---

TEST_F(RedisRegistryTest, UnreachableAtStartThenServesOnceRedisComesUp) {
    RedisProcess redis(false, RedisProcess::Start::later);
    start(redis.port());
    for (int i = 0; i < 20; ++i) {
        std::error_code ec;
        const auto started = std::chrono::steady_clock::now();
        (void)register_now(*registry_, {"user1", "127.0.0.1", 3000}, "127.0.0.1", &ec);
        EXPECT_EQ(ec, RegistryErrc::unavailable);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    }
    // Several reconnection attempts fail meanwhile; the log says so once.
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(logged_containing("cannot reach"), 1U);
    EXPECT_EQ(logged_containing("registry: "), 1U);
    ASSERT_TRUE(redis.start());
    const auto up = std::chrono::steady_clock::now();
    ASSERT_TRUE(answers());
    // Backoff is capped at 400 ms; a second is the promise, three the margin for a loaded machine.
    EXPECT_LT(std::chrono::steady_clock::now() - up, 3s);
    EXPECT_EQ(logged_containing("connected to"), 1U);
}

TEST_F(RedisRegistryTest, KilledAndRestartedKeepsAcknowledgedRegistrations) {
    RedisProcess redis(true);
    ASSERT_TRUE(redis.ready());
    start(redis.port());
    ASSERT_TRUE(answers());
    for (int i = 0; i < 50; ++i) {
        const std::string id = "user" + std::to_string(i);
        EXPECT_EQ(register_now(*registry_, {id, "127.0.0.1", 3000}, "127.0.0.1").outcome,
                  RegisterOutcome::registered);
    }
    redis.kill();
    for (int i = 0; i < 5; ++i) {
        std::error_code ec;
        (void)bridge_now(*registry_, "user1", &ec);
        EXPECT_EQ(ec, RegistryErrc::unavailable);
    }
    EXPECT_EQ(logged_containing("lost"), 1U);
    ASSERT_TRUE(redis.start());
    ASSERT_TRUE(answers(3s));
    for (int i = 0; i < 50; ++i) {
        const std::string id = "user" + std::to_string(i);
        EXPECT_EQ(find_now(*registry_, id), tcpchat::ContactRecord(id, "127.0.0.1", 3000));
    }
}

TEST_F(RedisRegistryTest, PausedRedisFailsRequestsWithinTheCommandTimeout) {
    RedisProcess redis;
    ASSERT_TRUE(redis.ready());
    start(redis.port());
    ASSERT_TRUE(answers());
    redis.pause();
    const auto started = std::chrono::steady_clock::now();
    std::error_code ec;
    (void)register_now(*registry_, {"user1", "127.0.0.1", 3000}, "127.0.0.1", &ec);
    EXPECT_EQ(ec, RegistryErrc::unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(logged_containing("did not answer within 500 ms"), 1U);
    redis.resume();
    ASSERT_TRUE(answers(3s));
}

} // namespace
