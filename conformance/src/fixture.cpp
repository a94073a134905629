// The fixture of a live-mode case (spec/transcript-format.md §T.7.3, §T.5.1): the values of its
// placeholders, the source addresses of its played actors, and in client mode the sockets the
// played actors listen on and the command line of the client under test.
#include "fixture.hpp"

#include "process.hpp"

#include <algorithm>
#include <random>

namespace tcpchat::conformance {

namespace tt = transcript;

namespace {

// Eight lowercase hex digits, the low nibble first.
std::string hex8(std::uint64_t v) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i, v >>= 4) {
        out += hex[v & 0xF];
    }
    return out;
}

} // namespace

std::string make_run_id() {
    static std::mt19937_64 rng{std::random_device{}() ^
                               std::uint64_t(Clock::now().time_since_epoch().count())};
    return hex8(rng());
}

std::optional<Failure> bind_fixture(const Case& c, const LiveOptions& o, Mode mode, Fixture& f) {
    // ${run} is fresh for every case of every run, so that cases never share a clientID (§T.7.3).
    const std::string run = hex8(std::hash<std::string>{}(o.run_id + "/" + c.name));
    f.bindings["run"] = run;
    const std::vector<std::string> actors = c.actors();
    for (const tt::Step& s : c.steps) {
        if (const auto* x = std::get_if<tt::Connect>(&s.action); x && x->other_address) {
            f.source_of[x->from] = o.other_address;
        }
    }
    int index = 0;
    for (const std::string& a : actors) {
        f.bindings[a + ".id"] = a + "-" + run;
        f.bindings[a + ".port"] = std::to_string(3000 + index++);
        f.bindings[a + ".ip"] = f.source_of.contains(a) ? f.source_of[a] : "127.0.0.1";
    }
    if (mode == Mode::server) {
        const std::string& h = o.server_host;
        f.bindings["server"] = (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                               std::to_string(o.server_port);
        f.bindings["server.ip"] = h;
        f.bindings["server.port"] = std::to_string(o.server_port);
        // ${X.ip} becomes the local address of X's connection once X connects (§T.7.3).
        return std::nullopt;
    }
    // client mode: a fake server and a listener for every played actor that is connected to.
    std::string error;
    Fd server = listen_on("127.0.0.1", 0, error);
    if (!server.valid()) {
        return Failure{0, error, {}, {}, false};
    }
    const auto server_port = local_endpoint(server.get())->port;
    f.listeners[std::string(tt::server_actor)] = std::move(server);
    f.bindings["server"] = "127.0.0.1:" + std::to_string(server_port);
    f.bindings["server.ip"] = "127.0.0.1";
    f.bindings["server.port"] = std::to_string(server_port);
    for (const tt::Step& s : c.steps) {
        const auto* x = std::get_if<tt::Connect>(&s.action);
        if (x == nullptr || x->from != c.client || f.listeners.contains(x->to)) {
            continue;
        }
        Fd l = listen_on("127.0.0.1", 0, error);
        if (!l.valid()) {
            return Failure{s.line, error, {}, {}, false};
        }
        f.bindings[x->to + ".port"] = std::to_string(local_endpoint(l.get())->port);
        f.listeners[x->to] = std::move(l);
    }
    {
        // A free port for the client under test to listen on.
        Fd probe = listen_on("127.0.0.1", 0, error);
        if (!probe.valid()) {
            return Failure{0, error, {}, {}, false};
        }
        f.bindings[c.client + ".port"] = std::to_string(local_endpoint(probe.get())->port);
    }
    f.command = fill_command(o.exec, {{"{id}", f.bindings[c.client + ".id"]},
                                      {"{port}", f.bindings[c.client + ".port"]},
                                      {"{server}", f.bindings["server"]}});
    return std::nullopt;
}

// A case that needs a second source address (§T.5.1 `from another address`, for the rules of
// §6.2 that depend on where a request comes from) cannot be run where that address cannot be
// bound: it is skipped with the reason, not failed.
std::optional<std::string> skip_reason(const Case& c, const LiveOptions& o, Mode mode) {
    const bool needed = std::any_of(c.steps.begin(), c.steps.end(), [](const tt::Step& s) {
        const auto* x = std::get_if<tt::Connect>(&s.action);
        return x != nullptr && x->other_address;
    });
    const std::string toward = mode == Mode::server ? o.server_host : "127.0.0.1";
    std::string error;
    if (!needed || can_connect_from(o.other_address, toward, error)) {
        return std::nullopt;
    }
    return "no connection from another address: " + error +
           (mode == Mode::server ? " (choose one with --other-address)" : "");
}

} // namespace tcpchat::conformance
