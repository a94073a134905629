// The registry in Redis (spec §6.7): several server processes share one registry and behave as
// one server. Each REGISTER and BRIDGE is one Lua script, run atomically by Redis, holding the
// same rules as MemoryRegistry (spec §6.2, §6.3). The connection is hiredis's asynchronous API
// driven by the server's own io_context: no thread per request, no blocking call.
//
// When Redis is unreachable or slow, calls fail with a RegistryErrc (the server answers ERROR
// 503); the registry reconnects with backoff and logs each change of state once.
#pragma once

#include "tcpchat/registry.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tcpchat {

// `redis://host:port/db`, as given to --registry. The host is a numeric IPv4 or IPv6 address
// (hiredis would resolve a name with a blocking call).
struct RedisAddress {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    unsigned db = 0;

    friend bool operator==(const RedisAddress&, const RedisAddress&) = default;
};

// nullopt, with `error` set, when `url` is not of that form.
[[nodiscard]] std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error);
// `redis://127.0.0.1:6379/0`
[[nodiscard]] std::string to_string(const RedisAddress& address);

struct RedisOptions {
    RedisAddress address;
    // Every key starts with it, so several deployments can share one Redis.
    std::string prefix = "tcpchat:";
    // A command unanswered this long means Redis is stuck: the connection is dropped and
    // re-opened, and the requests waiting on it fail.
    std::chrono::milliseconds command_timeout{1000};
    // Reconnection waits 50 ms, then twice as long each time, up to this.
    std::chrono::milliseconds max_backoff{400};
    // Receives each line about the connection (`registry: ...`); called on the io_context.
    std::function<void(std::string_view line)> log;
};

class RedisRegistry final : public Registry {
  public:
    RedisRegistry(boost::asio::io_context& io, RegistryPolicy policy, RedisOptions options);
    // Drops the connection at once. Call it where no other thread runs the io_context: from the
    // thread that runs it, or once run() has returned (stop() alone does not make it safe: it
    // only posts the stop).
    ~RedisRegistry() override;
    RedisRegistry(const RedisRegistry&) = delete;
    RedisRegistry& operator=(const RedisRegistry&) = delete;

    // Connects in the background; calls made before the connection is up wait for it, or fail
    // if it cannot be made.
    void start();
    // Closes the connection and stops reconnecting; the io_context then runs out of the
    // registry's work. Callable from any thread.
    void stop();

    void async_register(const Contact& contact, std::string_view source,
                        RegisterHandler done) override;
    void async_bridge(std::string_view id, BridgeHandler done) override;
    void async_find(std::string_view id, FindHandler done) override;

    class State; // defined in redis_registry.cpp

  private:
    std::shared_ptr<State> state_;
};

} // namespace tcpchat
