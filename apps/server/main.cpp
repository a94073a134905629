// tcp-chat-server: the rendezvous server (spec §6). Started like the original,
// `tcp-chat-server --port=5555`, it listens on 127.0.0.2 so that the documented client invocation
// `--server=127.0.0.2:5555` reaches it.
#include "tcpchat/alloc_count.hpp"
#include "tcpchat/redis_registry.hpp"
#include "tcpchat/registry.hpp"
#include "tcpchat/server.hpp"
#include "tcpchat/version.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

namespace {

// Timeouts are given in seconds, to the millisecond; a year is more than anyone needs.
constexpr double max_seconds = 365.0 * 24 * 3600;

std::chrono::milliseconds to_milliseconds(double seconds) {
    return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

// Each line is flushed at once: stdout is often a pipe (a log file, a test, `| tee`). One write
// per line, so that lines from several threads never interleave.
void print_line(tcpchat::LogLevel /*level*/, std::string_view line) {
    std::string out;
    out.reserve(line.size() + 1);
    out += line;
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

unsigned cores() {
    return std::max(1U, std::thread::hardware_concurrency());
}

} // namespace

int main(int argc, char** argv) {
    tcpchat::ServerOptions options;
    tcpchat::RegistryPolicy policy;
    double read_timeout = 5.0;
    double wait_timeout = 600.0;
    double registration_ttl = 86400.0;
    std::string registry_url = "memory";
    tcpchat::RedisOptions redis;
    bool strict = false;
    std::string error_replies = "send";
    bool verbose = false;
    bool quiet = false;
    bool alloc_stats = false;
    options.threads = cores();

    CLI::App app{"TCP-Chat rendezvous server: registers clients and pairs them for a chat.",
                 "tcp-chat-server"};
    app.option_defaults()->always_capture_default();
    app.set_version_flag("--version", "tcp-chat-server " + std::string(tcpchat::project_version) +
                                          " (TCP-Chat protocol " +
                                          std::string(tcpchat::protocol_version) + ")");
    app.add_option("--port", options.port, "TCP port to listen on (0: any free port)");
    app.add_option("--listen,--host", options.host, "IPv4 or IPv6 address to listen on")
        ->check([](const std::string& text) {
            boost::system::error_code ec;
            (void)boost::asio::ip::make_address(text, ec);
            return ec ? "not an IP address: " + text : std::string();
        });
    app.add_option("--read-timeout", read_timeout,
                   "seconds a client has to send its whole request (ERROR 408 after)")
        ->check(CLI::Range(0.001, max_seconds));
    app.add_option("--wait-timeout", wait_timeout,
                   "seconds a client that bridged stays in the waiting queue")
        ->check(CLI::Range(0.001, max_seconds));
    app.add_option("--registration-ttl", registration_ttl,
                   "seconds a registration lives after its last REGISTER")
        ->check(CLI::Range(0.001, max_seconds));
    app.add_option("--registry", registry_url,
                   "where clients are registered: memory, or redis://HOST:PORT/DB shared by "
                   "several servers")
        ->check([&redis](const std::string& text) {
            std::string error;
            if (text == "memory") {
                return error;
            }
            if (const auto address = tcpchat::parse_redis_url(text, error)) {
                redis.address = *address;
            }
            return error;
        });
    app.add_option("--registry-prefix", redis.prefix,
                   "Redis registry: prefix of every key, so deployments can share one Redis");
    app.add_option("--max-registrations", policy.max_registrations,
                   "memory registry: registrations held at most (a new clientID beyond gets "
                   "ERROR 503)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-connections", options.max_connections,
                   "open request connections at most (more get ERROR 503)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-line", options.decoding.limits.line_length,
                   "bytes in one request line, CRLF excluded (MAX-LINE)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-headers", options.decoding.limits.header_count,
                   "header lines in one request (MAX-HEADERS)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-message", options.decoding.limits.message_size,
                   "bytes in one request (MAX-MESSAGE)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-id", options.decoding.limits.id_length, "bytes in a clientID (MAX-ID)")
        ->check(CLI::PositiveNumber);
    app.add_flag("--regack-status", options.regack_status,
                 "add `Status: registered` to every REGACK");
    app.add_option("--error-replies", error_replies,
                   "send: refuse with ERROR; close: for clients that know no ERROR, close "
                   "without a reply (an empty BRIDGEACK to an unknown clientID's BRIDGE)")
        ->check(CLI::IsMember({"send", "close"}));
    app.add_flag("--allow-takeover", policy.allow_takeover,
                 "let a REGISTER from any address replace a registered clientID");
    app.add_option("--threads", options.threads,
                   "threads serving connections, each accepting on its own socket (default: the "
                   "number of cores)")
        ->check(CLI::Range(1U, 256U));
    app.add_flag("--alloc-stats", alloc_stats,
                 "on SIGUSR1, print the heap allocations made so far and the connections "
                 "accepted (for benchmarks)");
    app.add_flag("--strict", strict, "decode requests with the strict profile (no leniencies)");
    auto* verbose_flag = app.add_flag("-v,--verbose", verbose, "also log every connection");
    app.add_flag("-q,--quiet", quiet, "log the start-up line, rejected requests and errors only")
        ->excludes(verbose_flag);

    CLI11_PARSE(app, argc, argv);

    options.read_timeout = to_milliseconds(read_timeout);
    policy.wait_timeout = to_milliseconds(wait_timeout);
    policy.registration_ttl = to_milliseconds(registration_ttl);
    if (error_replies == "close") {
        options.error_replies = tcpchat::ErrorReplies::close;
    }
    if (strict) {
        options.decoding.leniency = tcpchat::Leniency::none;
    }
    options.log_level = verbose ? tcpchat::LogLevel::verbose
                        : quiet ? tcpchat::LogLevel::error
                                : tcpchat::LogLevel::info;

    // The server serves on threads of its own; this thread runs `io`: the signals, --alloc-stats
    // and the Redis registry's connection, whose answers go back to the server's threads.
    boost::asio::io_context io;
    std::unique_ptr<tcpchat::Registry> registry;
    tcpchat::RedisRegistry* shared = nullptr;
    if (registry_url == "memory") {
        registry = std::make_unique<tcpchat::MemoryRegistry>(policy);
    } else {
        redis.log = [](std::string_view line) { print_line(tcpchat::LogLevel::error, line); };
        auto on_redis = std::make_unique<tcpchat::RedisRegistry>(io, policy, redis);
        shared = on_redis.get();
        registry = std::move(on_redis);
    }
    tcpchat::Server server(io, options, *registry, &print_line);
    // Graceful stop (spec §6.5): stop accepting, let requests in flight finish (at most 2 s).
    // io.run() returns once the server has no work left. Installed before the start-up line is
    // printed, so that whoever waits for that line may signal at once.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::signal_set usr1(io);
    signals.async_wait([&server, &usr1, shared](const boost::system::error_code& ec, int) {
        if (!ec) {
            usr1.cancel();
            server.stop([shared] {
                if (shared != nullptr) {
                    shared->stop();
                }
            });
        }
    });
    // --alloc-stats: SIGUSR1 prints a line, as often as asked, until the server stops.
    std::function<void()> await_usr1 = [&] {
        usr1.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) {
                return;
            }
            print_line(tcpchat::LogLevel::error,
                       "alloc-stats: " + std::to_string(tcpchat::allocations()) + " allocations, " +
                           std::to_string(server.accepted()) + " connections accepted");
            await_usr1();
        });
    };
    if (alloc_stats) {
        usr1.add(SIGUSR1);
        await_usr1();
    }
    if (const std::error_code ec = server.listen()) {
        // `127.0.0.2:5555` or `[::1]:5555`; --listen was checked to be an IP address.
        std::ostringstream where;
        where << boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(options.host),
                                                options.port);
        std::fprintf(stderr, "tcp-chat-server: cannot listen on %s: %s\n", where.str().c_str(),
                     ec.message().c_str());
        return 1;
    }
    if (quiet) {
        // The start-up line is the one an operator and a script need (with --port 0, the only
        // way to learn the port), so -q keeps it; the server logs it at the info level only.
        std::ostringstream line;
        line << "tcp-chat-server " << tcpchat::project_version << " listening on "
             << server.local_endpoint();
        print_line(tcpchat::LogLevel::error, line.str());
    }
    if (shared != nullptr) {
        shared->start();
    }

    io.run();
    return 0;
}
