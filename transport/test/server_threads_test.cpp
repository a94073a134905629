// The server on several threads (transport/README.md, "Threads"): each thread accepts on its own
// socket of the shared port and serves its own connections, all of them on one registry. Many
// concurrent REGISTERs and BRIDGEs from many client threads against --threads 4 must each get
// the one right reply, the pairing rule must hold across threads (spec §6.3), and more than one
// server thread must have served. Run under ThreadSanitizer by the tsan preset.
#include "pairing_check.hpp"
#include "raw_client.hpp"
#include "redis_process.hpp"
#include "tcpchat/redis_registry.hpp"
#include "tcpchat/registry.hpp"
#include "tcpchat/server.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace tcpchat::test;

constexpr unsigned server_threads = 4;
constexpr int clients = 400;
constexpr int client_threads = 16;

// A server with `server_threads` threads on `registry`; the caller's thread is the io_context's.
class Threaded {
  public:
    explicit Threaded(
        tcpchat::Registry& registry, std::function<void()> on_stopped = [] {})
        : on_stopped_(std::move(on_stopped)) {
        tcpchat::ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.threads = server_threads;
        options.max_connections = 4096;
        server_ = std::make_unique<tcpchat::Server>(
            io, options, registry, [this](tcpchat::LogLevel, std::string_view line) {
                const std::scoped_lock lock(mutex_);
                if (line.starts_with("REGISTER: ") || line.starts_with("BRIDGE: ")) {
                    threads_.insert(std::this_thread::get_id());
                }
            });
        EXPECT_FALSE(server_->listen());
        endpoint = server_->local_endpoint();
    }
    ~Threaded() { stop(); }
    Threaded(const Threaded&) = delete;
    Threaded& operator=(const Threaded&) = delete;

    void run() {
        thread_ = std::thread([this] { io.run(); });
    }

    void stop() {
        if (thread_.joinable()) {
            server_->stop(on_stopped_);
            thread_.join();
        }
    }

    // Threads that logged a request line ("REGISTER: ..." or "BRIDGE: ...").
    std::size_t serving_threads() {
        const std::scoped_lock lock(mutex_);
        return threads_.size();
    }

    std::size_t connections() const { return server_->connections(); }

    boost::asio::io_context io;
    tcp::endpoint endpoint;

  private:
    std::function<void()> on_stopped_;
    std::unique_ptr<tcpchat::Server> server_;
    std::thread thread_;
    std::mutex mutex_;
    std::set<std::thread::id> threads_;
};

std::string ask(const tcp::endpoint& to, const std::string& request) {
    RawClient client(to);
    if (!client.connected()) {
        return "not connected";
    }
    client.send(request);
    const Received r = client.receive();
    return r.end == Received::End::eof ? r.bytes : "no FIN after: " + r.bytes;
}

std::string id_of(int i) {
    return "c" + std::to_string(i);
}

// Every client registers, then bridges, `client_threads` at a time.
void play(const tcp::endpoint& server) {
    std::vector<std::string> regacks(clients);
    std::vector<std::string> replies(clients);
    auto in_parallel = [](const std::function<void(int)>& one) {
        std::vector<std::thread> pool;
        for (int t = 0; t < client_threads; ++t) {
            pool.emplace_back([&one, t] {
                for (int i = t; i < clients; i += client_threads) {
                    one(i);
                }
            });
        }
        for (auto& thread : pool) {
            thread.join();
        }
    };
    in_parallel([&](int i) { regacks[i] = ask(server, register_request(id_of(i), 10000 + i)); });
    for (int i = 0; i < clients; ++i) {
        ASSERT_EQ(regacks[i], regack(id_of(i), 10000 + i));
    }
    in_parallel([&](int i) { replies[i] = ask(server, bridge_request(id_of(i))); });
    expect_pairing_invariant(replies);
}

TEST(ServerThreads, ManyConcurrentRequestsOnTheMemoryRegistry) {
    tcpchat::MemoryRegistry registry;
    Threaded server(registry);
    server.run();
    play(server.endpoint);
    EXPECT_GT(server.serving_threads(), 1U) << "one thread served every connection";
    server.stop();
    EXPECT_EQ(server.connections(), 0U);
    EXPECT_EQ(registry.state().contacts.size(), static_cast<std::size_t>(clients));
}

// The Redis link is single-threaded: it runs on the caller's io_context, and answers for the
// other threads' connections travel back to them.
TEST(ServerThreads, ManyConcurrentRequestsOnTheRedisRegistry) {
    RedisProcess redis;
    ASSERT_TRUE(redis.ready());
    tcpchat::RedisOptions options;
    options.address.port = redis.port();
    options.prefix = "threads" + std::to_string(::getpid()) + ":";
    options.command_timeout = 2000ms;
    tcpchat::RedisRegistry* link = nullptr;
    // Built in two steps: the registry needs the server's io_context, the server a registry.
    class Forward final : public tcpchat::Registry {
      public:
        tcpchat::Registry* to = nullptr;
        void async_register(const tcpchat::Contact& c, std::string_view source,
                            tcpchat::RegisterHandler done) override {
            to->async_register(c, source, std::move(done));
        }
        void async_bridge(std::string_view id, tcpchat::BridgeHandler done) override {
            to->async_bridge(id, std::move(done));
        }
        void async_find(std::string_view id, tcpchat::FindHandler done) override {
            to->async_find(id, std::move(done));
        }
    } forward;
    Threaded server(forward, [&link] { link->stop(); });
    // Destroyed before the server and its io_context, after run() returned.
    auto registry =
        std::make_unique<tcpchat::RedisRegistry>(server.io, tcpchat::RegistryPolicy{}, options);
    link = registry.get();
    forward.to = link;
    link->start();
    server.run();
    // The registry connects in the background: wait until it answers.
    bool up = false;
    for (int i = 0; i < 500 && !up; ++i) {
        up = ask(server.endpoint, bridge_request("nobody")).starts_with("ERROR\r\nCode: 404");
        if (!up) {
            std::this_thread::sleep_for(20ms);
        }
    }
    ASSERT_TRUE(up) << "Redis registry never answered";
    play(server.endpoint);
    EXPECT_GT(server.serving_threads(), 1U) << "one thread served every connection";
    server.stop();
    EXPECT_EQ(server.connections(), 0U);
}

} // namespace
