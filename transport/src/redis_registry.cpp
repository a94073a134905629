#include "tcpchat/redis_registry.hpp"

#include "redis_link.hpp"
#include "redis_scripts.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/uuid/detail/sha1.hpp>
#include <charconv>
#include <cstdio>
#include <deque>
#include <hiredis/hiredis.h>
#include <utility>
#include <vector>

namespace tcpchat {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

std::string sha1_hex(std::string_view text) {
    boost::uuids::detail::sha1 sha;
    sha.process_bytes(text.data(), text.size());
    boost::uuids::detail::sha1::digest_type digest;
    sha.get_digest(digest);
    std::string hex;
    for (const unsigned word : digest) {
        char part[9];
        std::snprintf(part, sizeof part, "%08x", word);
        hex += part;
    }
    return hex;
}

// A script with its SHA1, which EVALSHA names it by.
struct Script {
    std::string source;
    std::string sha;
    explicit Script(const char* text) : source(text), sha(sha1_hex(source)) {}
};

std::string_view text_of(const redisReply* reply) {
    return {reply->str, reply->len};
}

// Element `i` of an array reply, as text; empty when it is not a string.
std::string element(const redisReply* reply, std::size_t i) {
    if (i >= reply->elements || reply->element[i]->type != REDIS_REPLY_STRING) {
        return {};
    }
    return std::string(text_of(reply->element[i]));
}

std::optional<std::uint16_t> port_of(std::string_view text) {
    std::uint16_t port = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return port;
}

// The contact in elements i (host) and i + 1 (port) of a script's reply.
std::optional<ContactRecord> contact_at(const redisReply* reply, std::size_t i, std::string id) {
    const auto port = port_of(element(reply, i + 1));
    if (!port) {
        return std::nullopt;
    }
    return ContactRecord(std::move(id), element(reply, i), *port);
}

std::string milliseconds(steady_clock::duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

using Done = std::function<void(std::error_code, const redisReply*)>;

} // namespace

std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error) {
    constexpr std::string_view scheme = "redis://";
    if (url.substr(0, scheme.size()) != scheme) {
        error = "expected redis://HOST:PORT/DB";
        return std::nullopt;
    }
    url.remove_prefix(scheme.size());
    RedisAddress address;
    const auto slash = url.find('/');
    if (slash != std::string_view::npos) {
        const auto db = url.substr(slash + 1);
        const auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), address.db);
        if (db.empty() || ec != std::errc{} || end != db.data() + db.size()) {
            error = "not a database number: " + std::string(db);
            return std::nullopt;
        }
        url = url.substr(0, slash);
    }
    std::string_view host = url;
    std::string_view port;
    if (url.starts_with('[')) {
        const auto close = url.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated [IPv6 address]";
            return std::nullopt;
        }
        host = url.substr(1, close - 1);
        if (url.size() > close + 1) {
            if (url[close + 1] != ':') {
                error = "expected :PORT after ]";
                return std::nullopt;
            }
            port = url.substr(close + 2);
        }
    } else if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
        host = url.substr(0, colon);
        port = url.substr(colon + 1);
    }
    if (host.empty()) {
        error = "no host";
        return std::nullopt;
    }
    boost::system::error_code ec;
    (void)asio::ip::make_address(std::string(host), ec);
    if (ec) {
        error = "not a numeric IP address: " + std::string(host);
        return std::nullopt;
    }
    address.host = std::string(host);
    if (!port.empty() || url.ends_with(':')) {
        const auto number = port_of(port);
        if (!number || *number == 0) {
            error = "not a port: " + std::string(port);
            return std::nullopt;
        }
        address.port = *number;
    }
    return address;
}

std::string to_string(const RedisAddress& address) {
    const bool v6 = address.host.find(':') != std::string::npos;
    return "redis://" + (v6 ? "[" + address.host + "]" : address.host) + ":" +
           std::to_string(address.port) + "/" + std::to_string(address.db);
}

class RedisRegistry::State : public std::enable_shared_from_this<RedisRegistry::State> {
  public:
    State(asio::io_context& io, RegistryPolicy policy_, RedisOptions options_)
        : strand(asio::make_strand(io)), retry(strand), watchdog(strand), policy(policy_),
          options(std::move(options_)), url(to_string(options.address)) {}

    void start();
    void stop();
    void connect();
    void on_connected(const std::shared_ptr<redis::Link>& from);
    void on_closed(const std::shared_ptr<redis::Link>& from, const std::string& reason);
    void watch();
    void eval(const Script& script, std::vector<std::string> keys_and_args, std::size_t keys,
              Done done);
    void issue(const Script& script, std::shared_ptr<std::vector<std::string>> args, bool by_sha,
               Done done);
    void store_error(std::string_view message);
    void log(const std::string& line) const {
        if (options.log) {
            options.log("registry: " + line);
        }
    }
    [[nodiscard]] std::string key(std::string_view name) const {
        return options.prefix + std::string(name);
    }

    redis::Strand strand;
    asio::steady_timer retry;    // reconnection backoff
    asio::steady_timer watchdog; // finds commands Redis has not answered in time
    RegistryPolicy policy;
    RedisOptions options;
    std::string url;
    std::shared_ptr<redis::Link> link;
    std::deque<steady_clock::time_point> in_flight; // when each pending command was sent
    std::chrono::milliseconds backoff{50};
    std::optional<bool> reported_up; // the state last logged, so each change is logged once
    std::string reported_error;      // the store error last logged
    bool stopped = false;
    Script register_script{redis::register_script};
    Script bridge_script{redis::bridge_script};
};

void RedisRegistry::State::start() {
    connect();
    watch();
}

void RedisRegistry::State::stop() {
    stopped = true;
    retry.cancel();
    watchdog.cancel();
    if (link) {
        link->close();
    }
}

void RedisRegistry::State::connect() {
    if (stopped) {
        return;
    }
    std::weak_ptr<State> weak = shared_from_this();
    auto next = std::make_shared<std::weak_ptr<redis::Link>>();
    link = redis::Link::connect(strand, options.address.host, options.address.port,
                                {[weak, next] {
                                     if (auto self = weak.lock()) {
                                         self->on_connected(next->lock());
                                     }
                                 },
                                 [weak, next](const std::string& reason) {
                                     if (auto self = weak.lock()) {
                                         self->on_closed(next->lock(), reason);
                                     }
                                 }});
    *next = link;
    if (options.address.db != 0) {
        const std::string db = std::to_string(options.address.db);
        (void)link->command({"SELECT", db}, [weak](const redisReply* reply) {
            auto self = weak.lock();
            if (self && reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
                self->store_error(text_of(reply));
            }
        });
    }
}

void RedisRegistry::State::on_connected(const std::shared_ptr<redis::Link>& from) {
    if (!from || from != link || !link->open()) {
        return;
    }
    backoff = std::chrono::milliseconds(50);
    if (reported_up != true) {
        log("connected to " + url + ", keys under " + options.prefix);
        reported_up = true;
    }
}

void RedisRegistry::State::on_closed(const std::shared_ptr<redis::Link>& from,
                                     const std::string& reason) {
    if (from && from != link) {
        return;
    }
    link.reset();
    in_flight.clear();
    if (stopped) {
        return;
    }
    if (reported_up != false) {
        log((reported_up == true ? "lost " : "cannot reach ") + url + ": " + reason +
            "; requests get ERROR 503 until it is back, reconnecting");
        reported_up = false;
    }
    retry.expires_after(backoff);
    backoff = std::min(backoff * 2, options.max_backoff);
    retry.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) {
            self->connect();
        }
    });
}

// A stuck Redis (paused, swapping, a slow script) answers nothing and closes nothing; drop the
// connection so that the requests waiting on it fail now and new ones go to a fresh connection.
void RedisRegistry::State::watch() {
    if (stopped) {
        return;
    }
    if (link && !in_flight.empty() &&
        steady_clock::now() - in_flight.front() > options.command_timeout) {
        log(url + " did not answer within " + milliseconds(options.command_timeout) +
            " ms; reconnecting");
        reported_up = false;
        link->close();
    }
    watchdog.expires_after(options.command_timeout / 4);
    watchdog.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) {
            self->watch();
        }
    });
}

void RedisRegistry::State::eval(const Script& script, std::vector<std::string> keys_and_args,
                                std::size_t keys, Done done) {
    auto args = std::make_shared<std::vector<std::string>>();
    args->reserve(keys_and_args.size() + 3);
    args->push_back(""); // EVALSHA or EVAL
    args->push_back(""); // the script's SHA1 or source
    args->push_back(std::to_string(keys));
    for (auto& a : keys_and_args) {
        args->push_back(std::move(a));
    }
    issue(script, std::move(args), true, std::move(done));
}

// EVALSHA first; a Redis that does not know the script yet (restarted, flushed) says NOSCRIPT,
// and EVAL then runs and caches it.
void RedisRegistry::State::issue(const Script& script,
                                 std::shared_ptr<std::vector<std::string>> args, bool by_sha,
                                 Done done) {
    if (!link || !link->open()) {
        return done(RegistryErrc::unavailable, nullptr);
    }
    (*args)[0] = by_sha ? "EVALSHA" : "EVAL";
    (*args)[1] = by_sha ? script.sha : script.source;
    const std::vector<std::string_view> views(args->begin(), args->end());
    in_flight.push_back(steady_clock::now());
    const bool sent = link->command(
        views, [self = shared_from_this(), &script, args, by_sha, done](const redisReply* reply) {
            if (!self->in_flight.empty()) {
                self->in_flight.pop_front();
            }
            if (reply == nullptr) {
                return done(RegistryErrc::unavailable, nullptr);
            }
            if (reply->type == REDIS_REPLY_ERROR) {
                if (by_sha && text_of(reply).starts_with("NOSCRIPT")) {
                    return self->issue(script, args, false, done);
                }
                self->store_error(text_of(reply));
                return done(RegistryErrc::store_error, nullptr);
            }
            self->reported_error.clear();
            if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
                self->store_error("unexpected reply to a registry script");
                return done(RegistryErrc::store_error, nullptr);
            }
            done({}, reply);
        });
    if (!sent) {
        in_flight.pop_back();
        done(RegistryErrc::unavailable, nullptr);
    }
}

// Logged once per distinct message, not once per request (`LOADING Redis is loading ...`).
void RedisRegistry::State::store_error(std::string_view message) {
    if (message != reported_error) {
        reported_error = std::string(message);
        log(url + " answered: " + reported_error);
    }
}

RedisRegistry::RedisRegistry(asio::io_context& io, RegistryPolicy policy, RedisOptions options)
    : state_(std::make_shared<State>(io, policy, std::move(options))) {}

RedisRegistry::~RedisRegistry() {
    state_->stop();
}

void RedisRegistry::start() {
    asio::post(state_->strand, [state = state_] { state->start(); });
}

void RedisRegistry::stop() {
    asio::post(state_->strand, [state = state_] { state->stop(); });
}

void RedisRegistry::async_register(const Contact& contact, std::string_view source,
                                   RegisterHandler done) {
    asio::post(state_->strand, [state = state_, contact = ContactRecord(contact),
                                source = std::string(source), done = std::move(done)]() mutable {
        std::vector<std::string> args{state->key("c:" + contact.id),
                                      state->key("queue"),
                                      state->key("wait"),
                                      contact.id,
                                      contact.host,
                                      std::to_string(contact.port),
                                      source,
                                      milliseconds(state->policy.registration_ttl),
                                      state->policy.allow_takeover ? "1" : "0"};
        state->eval(
            state->register_script, std::move(args), 3,
            [id = contact.id, done = std::move(done)](std::error_code ec, const redisReply* reply) {
                if (ec) {
                    return done(ec, {});
                }
                static constexpr std::pair<std::string_view, RegisterOutcome> names[] = {
                    {"registered", RegisterOutcome::registered},
                    {"refreshed", RegisterOutcome::refreshed},
                    {"replaced", RegisterOutcome::replaced},
                    {"refused", RegisterOutcome::refused}};
                const std::string outcome = element(reply, 0);
                for (const auto& [name, value] : names) {
                    if (outcome != name) {
                        continue;
                    }
                    RegisterResult result{value, {}};
                    if (value != RegisterOutcome::registered) {
                        const auto previous = contact_at(reply, 1, id);
                        if (!previous) {
                            break;
                        }
                        result.previous = *previous;
                    }
                    return done({}, result);
                }
                done(RegistryErrc::store_error, {});
            });
    });
}

void RedisRegistry::async_bridge(std::string_view id, BridgeHandler done) {
    asio::post(
        state_->strand, [state = state_, id = std::string(id), done = std::move(done)]() mutable {
            std::vector<std::string> args{state->key("c:" + id),
                                          state->key("queue"),
                                          state->key("wait"),
                                          state->key("seq"),
                                          id,
                                          milliseconds(state->policy.wait_timeout),
                                          state->key("c:")};
            state->eval(state->bridge_script, std::move(args), 4,
                        [id, done = std::move(done)](std::error_code ec, const redisReply* reply) {
                            if (ec) {
                                return done(ec, {});
                            }
                            const std::string outcome = element(reply, 0);
                            if (outcome == "not_registered") {
                                return done({}, {});
                            }
                            const auto requester = contact_at(reply, 1, id);
                            if (requester && outcome == "waiting") {
                                return done({}, {BridgeOutcome::waiting, *requester, std::nullopt});
                            }
                            const auto peer = contact_at(reply, 4, element(reply, 3));
                            if (requester && peer && outcome == "paired") {
                                return done({}, {BridgeOutcome::paired, *requester, *peer});
                            }
                            done(RegistryErrc::store_error, {});
                        });
        });
}

void RedisRegistry::async_find(std::string_view id, FindHandler done) {
    asio::post(
        state_->strand, [state = state_, id = std::string(id), done = std::move(done)]() mutable {
            if (!state->link || !state->link->open()) {
                return done(RegistryErrc::unavailable, std::nullopt);
            }
            const std::string key = state->key("c:" + id);
            const bool sent = state->link->command(
                {"HMGET", key, "host", "port"}, [id, done](const redisReply* reply) {
                    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
                        return done(RegistryErrc::unavailable, std::nullopt);
                    }
                    if (reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_STRING) {
                        return done({}, std::nullopt);
                    }
                    done({}, contact_at(reply, 0, id));
                });
            if (!sent) {
                done(RegistryErrc::unavailable, std::nullopt);
            }
        });
}

} // namespace tcpchat
