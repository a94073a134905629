// tcp-chat-load: drives a TCP-Chat server on this machine with concurrent request connections
// (REGISTER and BRIDGE, one request per connection, spec §6.1), or plays pairs of chat peers, and
// reports the rate, latency percentiles and errors. Loopback targets only: it is a benchmark, not
// a load-testing tool for other people's servers. See bench/README.md.
#include "chat_load.hpp"
#include "raw_chat.hpp"
#include "request_load.hpp"
#include "tcpchat/version.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace tcpchat::load;

bool is_loopback(const asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
    }
    return a.is_loopback();
}

// `127.0.0.2:5555`, `[::1]:5555` or `localhost:5555`.
std::optional<asio::ip::tcp::endpoint> parse_target(const std::string& text, std::string& why) {
    std::string host;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string::npos) {
            why = "expected [IPv6]:PORT";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) {
            why = "expected HOST:PORT (an IPv6 address in brackets)";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
        why = "not an IP address: " + host;
        return std::nullopt;
    }
    if (!is_loopback(address)) {
        why = host + " is not a loopback address; tcp-chat-load only loads servers on this machine";
        return std::nullopt;
    }
    unsigned long value = 0;
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos ||
        (value = std::stoul(port)) == 0 || value > 65535) {
        why = "not a port number 1-65535: " + port;
        return std::nullopt;
    }
    return asio::ip::tcp::endpoint(address, static_cast<unsigned short>(value));
}

std::chrono::nanoseconds seconds(double s) {
    return std::chrono::nanoseconds(std::llround(s * 1e9));
}

// Runs one worker per thread over its share of the connections, and merges what they measured.
template <typename Worker>
Results run(const LoadOptions& options, Budget& budget) {
    std::vector<std::unique_ptr<Worker>> workers;
    std::size_t first = 0;
    for (std::size_t t = 0; t < options.threads; ++t) {
        const std::size_t share = options.connections / options.threads +
                                  (t < options.connections % options.threads ? 1 : 0);
        workers.push_back(std::make_unique<Worker>(options, budget, first, share));
        first += share;
    }
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < workers.size(); ++t) {
        threads.emplace_back([&w = *workers[t]] { w.run(); });
    }
    workers[0]->run();
    for (auto& t : threads) {
        t.join();
    }
    Results all;
    for (auto& w : workers) {
        all.merge(w->results());
    }
    return all;
}

} // namespace

int main(int argc, char** argv) {
    LoadOptions options;
    std::vector<std::string> servers{"127.0.0.2:5555"};
    std::string peer_host = "127.0.0.1";
    double duration = 0;
    std::uint64_t requests = 0;
    double timeout = 5.0;
    double rate = 0;
    bool json = false;

    CLI::App app{"Load generator for a TCP-Chat server on this machine: concurrent REGISTER/BRIDGE "
                 "connections, or chat peers ping-ponging lines.",
                 "tcp-chat-load"};
    app.option_defaults()->always_capture_default();
    app.set_version_flag("--version", "tcp-chat-load " + std::string(tcpchat::project_version));
    app.add_option("--server", servers,
                   "the server, HOST:PORT or [IPv6]:PORT; loopback only. Repeat it to spread the "
                   "connections over several servers (connection i goes to server i mod N)");
    app.add_option(
           "--mode", options.mode,
           "register, bridge (each clientID registered once first), mixed (REGISTER and "
           "BRIDGE in turn), chat (peer pairs chatting through the transport's PeerLink, no "
           "server) or chat-raw (the same ping-pong "
           "over plain POSIX sockets, without the codec or Asio)")
        ->transform(
            CLI::CheckedTransformer(std::map<std::string, Mode>{{"register", Mode::register_only},
                                                                {"bridge", Mode::bridge_only},
                                                                {"mixed", Mode::mixed},
                                                                {"chat", Mode::chat},
                                                                {"chat-raw", Mode::chat_raw}})
                .description(""))
        // The mapping (names to enum numbers) means nothing to a user; the names are listed above.
        ->type_name("MODE")
        ->default_str("mixed");
    app.add_option("-c,--connections", options.connections,
                   "concurrent connections (chat: peer pairs)")
        ->check(CLI::Range(1, 100000));
    app.add_option("-d,--duration", duration,
                   "seconds to start requests for (default 10 when --requests is not given)")
        ->check(CLI::PositiveNumber);
    app.add_option("-n,--requests", requests, "requests (chat: round trips) to make at most")
        ->check(CLI::PositiveNumber);
    app.add_option("-r,--rate", rate,
                   "requests/s to start, on a fixed schedule (latency then counts from the "
                   "scheduled start); default: each connection starts its next request at once")
        ->check(CLI::PositiveNumber);
    app.add_option("-t,--threads", options.threads, "threads, each with its share of connections")
        ->check(CLI::Range(1, 64));
    app.add_option("--timeout", timeout, "seconds one request or round trip may take")
        ->check(CLI::PositiveNumber);
    app.add_option("--size", options.text_size, "chat: bytes of text per line (MAX-LINE at most)")
        ->check(CLI::Range(1, 1024));
    app.add_option("--peer-host", peer_host, "chat: loopback address the waiting peers listen on");
    app.add_flag("--json", json, "print the report as one JSON object");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2; // --help and --version are not errors
    }

    std::string why;
    const bool chat = options.mode == Mode::chat || options.mode == Mode::chat_raw;
    if (!chat) {
        for (const auto& server : servers) {
            const auto target = parse_target(server, why);
            if (!target) {
                std::fprintf(stderr, "tcp-chat-load: --server %s: %s\n", server.c_str(),
                             why.c_str());
                return 2;
            }
            options.servers.push_back(*target);
        }
    } else {
        const auto target = parse_target(peer_host + ":1", why);
        if (!target) {
            std::fprintf(stderr, "tcp-chat-load: --peer-host %s: %s\n", peer_host.c_str(),
                         why.c_str());
            return 2;
        }
        options.peer_host = target->address();
    }
    options.threads = std::min(options.threads, options.connections);
    if (rate > 0) {
        options.rate = rate;
    }
    if (requests != 0) {
        options.requests = requests;
    }
    if (duration > 0) {
        options.duration = seconds(duration);
    } else if (!options.requests) {
        options.duration = std::chrono::seconds(10);
    }
    options.timeout = seconds(timeout);

    RunInfo info;
    info.connections = options.connections;
    info.threads = options.threads;
    const auto started = std::chrono::steady_clock::now();
    Budget budget(options.requests, options.duration);
    Results results;
    if (chat) {
        info.what = "chat round trips of " + std::to_string(options.text_size) + "-byte lines";
        info.target = "peers on " + peer_host;
        info.unit = "round trips";
        if (options.mode == Mode::chat_raw) {
            info.what += " over plain sockets";
            results = run<RawChatWorker>(options, budget);
        } else {
            results = run<ChatWorker>(options, budget);
        }
    } else {
        info.what = options.mode == Mode::register_only ? "REGISTER"
                    : options.mode == Mode::bridge_only ? "BRIDGE"
                                                        : "REGISTER+BRIDGE";
        if (options.rate) {
            info.what += " paced at " + std::to_string(std::llround(*options.rate)) + "/s";
        }
        for (const auto& server : servers) {
            info.target += (info.target.empty() ? "" : " ") + server;
        }
        info.unit = "requests";
        results = run<RequestWorker>(options, budget);
    }
    info.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    if (json) {
        print_json(info, results);
    } else {
        print_text(info, results);
    }
    return results.error_count() == 0 && results.completed > 0 ? 0 : 1;
}
