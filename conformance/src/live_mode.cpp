// server mode and client mode (spec/transcript-format.md §T.9.2, §T.9.3): the runner plays every
// actor but the one under test, performs what the played actors do, and checks what the actor
// under test does against the transcript.
#include "block_match.hpp"
#include "fixture.hpp"
#include "link.hpp"
#include "process.hpp"
#include "queue_drain.hpp"
#include "terminal.hpp"

#include <algorithm>
#include <map>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>

namespace tcpchat::conformance {

namespace tt = transcript;
using namespace std::chrono_literals;

namespace {

// Where the runner connects to a client under test on the port it gave it.
Endpoint client_at(std::uint16_t port) {
    return {"127.0.0.1", port};
}

std::string taken_text(std::uint16_t port) {
    return "port " + std::to_string(port) + " (the client's {port}) was taken by another program";
}

// Whether some actor of the case connects to `actor` (so that it listens on its port).
bool listens(const Case& c, const std::string& actor) {
    return std::any_of(c.steps.begin(), c.steps.end(), [&](const tt::Step& s) {
        const auto* x = std::get_if<tt::Connect>(&s.action);
        return x != nullptr && x->to == actor;
    });
}

class Engine {
  public:
    Engine(const Case& c, const LiveOptions& o, Mode mode)
        : case_(c), options_(o), mode_(mode),
          timeout_(std::max(o.timeout, c.timeout.value_or(0ms))) {}

    ~Engine() { terminal_.stop(); }

    CaseResult run();
    // Whether the port given to the client under test was taken by another program, so that
    // the case judged that program, or nothing, instead of the client (see listener_of()).
    [[nodiscard]] const std::string& port_taken() const noexcept { return port_taken_; }

  private:
    bool under_test(const std::string& actor) const {
        return mode_ == Mode::server ? actor == tt::server_actor : actor == case_.client;
    }
    Clock::time_point deadline() const { return Clock::now() + timeout_; }

    std::optional<Failure> prepare();
    std::optional<Failure> step(std::size_t index);
    std::optional<Failure> do_connect(const tt::Step& s, const tt::Connect& c);
    std::optional<Failure> do_send_block(std::size_t& index);
    std::optional<Failure> expect_block(std::size_t line, Link& link, int direction,
                                        const std::string& bytes, bool lenient);
    std::optional<Failure> expect_close(std::size_t line, Link& link, const std::string& who);
    std::optional<Failure> expect_silence(std::size_t line, Link& link, const tt::Silence& s);
    std::optional<Failure> expect_show(std::size_t line, const std::string& text);
    std::optional<Failure> expect_exit(std::size_t line, int status);
    std::optional<std::string> resolve(const tt::Template& t, std::size_t line,
                                       std::optional<Failure>& failure);

    // Reads whatever is available on the link (and the terminal) until `done` or the deadline.
    template <typename Done>
    void pump(Link* link, Clock::time_point until, Done done);

    const Case& case_;
    const LiveOptions& options_;
    Mode mode_;
    std::chrono::milliseconds timeout_;
    Fixture fixture_;
    tt::Bindings& bindings_ = fixture_.bindings;
    std::map<std::string, Link> links_; // by pair_key
    Terminal terminal_;
    std::string port_taken_; // what happened to the port, when it was taken
};

std::optional<std::string> Engine::resolve(const tt::Template& t, std::size_t line,
                                           std::optional<Failure>& failure) {
    std::string missing;
    auto r = tt::resolve(t, bindings_, &missing);
    if (!r) {
        failure = Failure{line, "placeholder ${" + missing + "} has no value here", {}, {}, false};
    }
    return r;
}

template <typename Done>
void Engine::pump(Link* link, Clock::time_point until, Done done) {
    while (!done()) {
        const auto now = Clock::now();
        if (now >= until) {
            return;
        }
        const int left =
            int(std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
        const int slice = std::min(left, 20);
        if (link == nullptr || link->ended()) {
            terminal_.read(slice);
            if (link == nullptr || link->ended()) {
                if (done()) {
                    return;
                }
                if (link != nullptr) {
                    return; // nothing more can arrive on it
                }
                continue;
            }
        }
        terminal_.read(0);
        link->receive(slice);
    }
}

std::optional<Failure> Engine::prepare() {
    if (auto failure = bind_fixture(case_, options_, mode_, fixture_)) {
        return failure;
    }
    if (mode_ == Mode::client) {
        if (auto error = terminal_.start(fixture_.command)) {
            return Failure{0, *error, {}, {}, false};
        }
    }
    return std::nullopt;
}

std::optional<Failure> Engine::do_connect(const tt::Step& s, const tt::Connect& c) {
    Link link;
    link.initiator = c.from;
    link.acceptor = c.to;
    if (!under_test(c.from) && !under_test(c.to)) {
        return std::nullopt; // a leg between two played actors is not exercised
    }
    if (!under_test(c.from)) {
        // We open the connection to the implementation under test.
        std::string error;
        Endpoint to;
        if (mode_ == Mode::server) {
            to = {options_.server_host, options_.server_port};
        } else {
            to = client_at(std::uint16_t(std::stoi(bindings_[c.to + ".port"])));
        }
        const auto until = deadline();
        while (true) {
            // A client under test may not be listening yet: wait until it is, up to the deadline
            // (§T.9.3); a listener of another program on its port is not the client.
            const Listener who =
                mode_ == Mode::server ? Listener::ours : listener_of(to, terminal_.group());
            if (who == Listener::foreign) {
                port_taken_ = taken_text(to.port);
                return Failure{s.line, port_taken_, {}, {}, false};
            }
            if (who == Listener::ours) {
                link.fd = connect_to(
                    to, fixture_.source_of.contains(c.from) ? fixture_.source_of[c.from] : "",
                    until, error);
            } else {
                error = "the client does not listen on port " + std::to_string(to.port);
            }
            if (link.fd.valid() || mode_ == Mode::server || Clock::now() >= until) {
                break;
            }
            terminal_.read(20);
        }
        if (!link.fd.valid()) {
            return Failure{s.line,
                           "cannot connect to " + to.host + ":" + std::to_string(to.port) + ": " +
                               error,
                           {},
                           {},
                           false};
        }
        if (mode_ == Mode::server) {
            if (auto local = local_endpoint(link.fd.get())) {
                bindings_[c.from + ".ip"] = local->host;
            }
        }
    } else {
        // The implementation under test connects to us.
        Link* none = nullptr;
        const auto until = deadline();
        int listener = fixture_.listeners.at(c.to).get();
        pollfd p{listener, POLLIN, 0};
        pump(none, until, [&] {
            p.revents = 0;
            return ::poll(&p, 1, 0) > 0 || terminal_.status.has_value();
        });
        link.fd = accept_from(listener, Clock::now() + 10ms);
        if (!link.fd.valid()) {
            return Failure{s.line,
                           c.from + " did not connect to " + c.to +
                               (terminal_.status ? " (it exited with status " +
                                                       std::to_string(*terminal_.status) + ")"
                                                 : " within the timeout"),
                           {},
                           {},
                           false};
        }
        if (c.to == tt::server_actor) {
            if (auto peer = peer_endpoint(link.fd.get())) {
                bindings_[c.from + ".ip"] = peer->host; // the address the client is seen from
            }
        }
    }
    links_[pair_key(c.from, c.to)] = std::move(link);
    return std::nullopt;
}

std::optional<Failure> Engine::expect_block(std::size_t line, Link& link, int direction,
                                            const std::string& bytes, bool lenient) {
    BlockMatch match(bytes,
                     lenient ? std::optional(lenient_context(link, direction)) : std::nullopt);
    pump(&link, deadline(), [&] { return match.settled(link); });
    if (auto failure = match.verdict(line, link)) {
        return failure;
    }
    link.inbox.erase(0, match.consumed());
    link.blocks_read[direction]++;
    return std::nullopt;
}

std::optional<Failure> Engine::expect_close(std::size_t line, Link& link, const std::string& who) {
    pump(&link, deadline(), [&] { return link.eof || !link.inbox.empty(); });
    if (!link.inbox.empty()) {
        return Failure{line, who + " sent more bytes instead of closing the connection",
                       "(connection closed)", link.inbox, false};
    }
    if (!link.eof) {
        return Failure{line, who + " did not close the connection within the timeout",
                       "(connection closed)", "(connection still open)", false};
    }
    link.fd.reset();
    return std::nullopt;
}

std::optional<Failure> Engine::expect_silence(std::size_t line, Link& link, const tt::Silence& s) {
    pump(&link, Clock::now() + s.duration, [&] { return link.eof || !link.inbox.empty(); });
    if (!link.inbox.empty() || link.eof) {
        return Failure{
            line, s.from + " sent something within " + std::to_string(s.duration.count()) + " ms",
            "(nothing)", link.eof && link.inbox.empty() ? "(connection closed)" : link.inbox,
            false};
    }
    return std::nullopt;
}

std::optional<Failure> Engine::expect_show(std::size_t line, const std::string& text) {
    std::size_t at = std::string::npos;
    pump(nullptr, deadline(), [&] {
        at = terminal_.output.find(text, terminal_.shown);
        return at != std::string::npos || terminal_.output_closed();
    });
    if (at == std::string::npos) {
        at = terminal_.output.find(text, terminal_.shown);
    }
    if (at == std::string::npos) {
        const std::string& out = terminal_.output;
        const std::size_t from = out.size() > 400 ? out.size() - 400 : 0;
        return Failure{line, "the terminal did not show the text", text,
                       out.substr(std::max(from, std::min(terminal_.shown, out.size()))), false};
    }
    terminal_.shown = at + text.size();
    return std::nullopt;
}

std::optional<Failure> Engine::expect_exit(std::size_t line, int status) {
    pump(nullptr, deadline(), [&] { return terminal_.status.has_value(); });
    if (!terminal_.status) {
        return Failure{line, "the client did not exit within the timeout",
                       "exit status " + std::to_string(status), "(still running)", false};
    }
    if (*terminal_.status != status) {
        return Failure{line, "the client exited with another status",
                       "exit status " + std::to_string(status),
                       "exit status " + std::to_string(*terminal_.status), false};
    }
    return std::nullopt;
}

// A block: consecutive Send steps in one direction of one link (§T.5.2).
std::optional<Failure> Engine::do_send_block(std::size_t& index) {
    const auto& first = std::get<tt::Send>(case_.steps[index].action);
    const std::size_t line = case_.steps[index].line;
    std::string bytes;
    bool lenient = false;
    std::vector<std::pair<std::string, bool>> writes; // bytes, drip
    std::optional<Failure> failure;
    for (; index < case_.steps.size(); ++index) {
        const auto* s = std::get_if<tt::Send>(&case_.steps[index].action);
        if (s == nullptr || s->from != first.from || s->to != first.to) {
            break;
        }
        auto r = resolve(s->bytes, case_.steps[index].line, failure);
        if (!r) {
            return failure;
        }
        bytes += *r;
        lenient = lenient || s->lenient;
        if (writes.empty() || s->drip || writes.back().second) {
            writes.emplace_back(*r, s->drip);
        } else {
            writes.back().first += *r;
        }
    }
    --index; // the caller advances past the block
    auto it = links_.find(pair_key(first.from, first.to));
    if (it == links_.end()) {
        return std::nullopt; // a leg that is not exercised in this mode
    }
    Link& link = it->second;
    const int direction = first.from == link.initiator ? 0 : 1;
    if (under_test(first.from)) {
        return expect_block(line, link, direction, bytes, lenient);
    }
    if (!link.fd.valid() || link.shut) {
        return Failure{line, first.from + " already closed the connection", {}, {}, false};
    }
    // A peer that stops reading makes a large block wait for buffer space: bounded, like reads.
    const auto until = deadline();
    for (const auto& [chunk, drip] : writes) {
        if (!drip) {
            if (!write_all(link.fd.get(), chunk, until)) {
                return Failure{line,
                               first.from + " could not write: the connection was closed",
                               {},
                               {},
                               false};
            }
            continue;
        }
        for (const char c : chunk) {
            if (!write_all(link.fd.get(), std::string_view(&c, 1), until)) {
                return Failure{line,
                               first.from + " could not write: the connection was closed",
                               {},
                               {},
                               false};
            }
            std::this_thread::sleep_for(2ms);
        }
    }
    link.blocks_read[direction]++;
    return std::nullopt;
}

std::optional<Failure> Engine::step(std::size_t index) {
    const tt::Step& s = case_.steps[index];
    std::optional<Failure> failure;
    if (const auto* c = std::get_if<tt::Connect>(&s.action)) {
        return do_connect(s, *c);
    }
    if (const auto* c = std::get_if<tt::Close>(&s.action)) {
        auto it = links_.find(pair_key(c->by, c->peer));
        if (it == links_.end()) {
            return std::nullopt;
        }
        if (under_test(c->by)) {
            return expect_close(s.line, it->second, c->by);
        }
        // Closing as §4.1 "Closing" says: shut down the sending direction and go on reading until
        // the other side closes; the socket itself is closed when the case ends. So a later
        // `A closes B` still observes whether the implementation under test closes its side, and
        // a half-close differs from a close only in what the transcript goes on to expect.
        Link& link = it->second;
        if (link.fd.valid() && !link.shut) {
            ::shutdown(link.fd.get(), SHUT_WR);
        }
        link.shut = true;
        return std::nullopt;
    }
    if (const auto* x = std::get_if<tt::Silence>(&s.action)) {
        auto it = links_.find(pair_key(x->from, x->to));
        if (it == links_.end()) {
            return std::nullopt;
        }
        if (under_test(x->from)) {
            return expect_silence(s.line, it->second, *x);
        }
        pump(nullptr, Clock::now() + x->duration, [] { return false; });
        return std::nullopt;
    }
    if (const auto* x = std::get_if<tt::Type>(&s.action)) {
        if (mode_ != Mode::client || !under_test(x->actor)) {
            return std::nullopt;
        }
        auto text = resolve(x->text, s.line, failure);
        if (!text) {
            return failure;
        }
        *text += '\r'; // the Enter key
        if (!terminal_.type(*text, deadline())) {
            return Failure{s.line,
                           terminal_.status ? "cannot type: the client has exited"
                                            : "cannot type: the client does not read its terminal",
                           {},
                           {},
                           false};
        }
        return std::nullopt;
    }
    if (const auto* x = std::get_if<tt::Show>(&s.action)) {
        if (mode_ != Mode::client || !under_test(x->actor)) {
            return std::nullopt;
        }
        auto text = resolve(x->text, s.line, failure);
        return text ? expect_show(s.line, *text) : failure;
    }
    if (const auto* x = std::get_if<tt::Exit>(&s.action)) {
        if (mode_ != Mode::client || !under_test(x->actor)) {
            return std::nullopt;
        }
        return expect_exit(s.line, x->status);
    }
    if (const auto* x = std::get_if<tt::Pause>(&s.action)) {
        pump(nullptr, Clock::now() + x->duration, [] { return false; });
    }
    return std::nullopt;
}

CaseResult Engine::run() {
    const auto start = Clock::now();
    CaseResult result;
    result.test = &case_;
    if (auto why = skip_reason(case_, options_, mode_)) {
        result.skipped = std::move(why);
        return result;
    }
    if (mode_ == Mode::server && options_.drain) {
        drain_queue(options_);
    }
    result.failure = prepare();
    for (std::size_t i = 0; !result.failure && i < case_.steps.size(); ++i) {
        if (std::holds_alternative<tt::Send>(case_.steps[i].action)) {
            result.failure = do_send_block(i);
        } else {
            result.failure = step(i);
        }
    }
    if (mode_ == Mode::client) {
        // A client that could not listen on its port fails before anyone connects to it.
        const auto port = std::uint16_t(std::stoi(bindings_[case_.client + ".port"]));
        if (result.failure && port_taken_.empty() && listens(case_, case_.client) &&
            listener_of(client_at(port), terminal_.group()) == Listener::foreign) {
            port_taken_ = taken_text(port);
        }
        terminal_.reap();
        const std::optional<int> ended = terminal_.wait_status;
        terminal_.stop();
        result.output = last_lines(terminal_.output, 1000);
        // A client that ended by a signal, or on its own where the case did not expect it to,
        // crashed during this case; one that had to be killed at the end hung.
        const bool exit_expected =
            result.failure && std::any_of(case_.steps.begin(), case_.steps.end(), [&](auto& s) {
                return s.line == result.failure->line && std::holds_alternative<tt::Exit>(s.action);
            });
        if (ended && (WIFSIGNALED(*ended) || (result.failure && !exit_expected))) {
            result.crashed = Crash{describe_exit(*ended), last_lines(terminal_.output, 10)};
        } else if (result.failure && terminal_.killed) {
            result.crashed = Crash{"hung: it did not end on SIGTERM and was killed",
                                   last_lines(terminal_.output, 10)};
        } else if (result.failure && !ended) {
            result.note =
                "the client was still running at the end of the case: stopped with SIGTERM";
        }
    }
    for (auto& [key, link] : links_) {
        link.fd.reset();
    }
    result.passed = !result.failure;
    result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return result;
}

} // namespace

CaseResult run_server(const Case& c, const LiveOptions& options) {
    Engine engine(c, options, Mode::server);
    return engine.run();
}

CaseResult run_client(const Case& c, const LiveOptions& options) {
    // The client's port is chosen free and released before the client binds it: when another
    // program takes it meanwhile, the case runs again on another port (port_attempts in all).
    constexpr int port_attempts = 5;
    std::string taken;
    for (int attempt = 1;; ++attempt) {
        Engine engine(c, options, Mode::client);
        CaseResult r = engine.run();
        if (!engine.port_taken().empty()) {
            taken += (taken.empty() ? "" : ", then ") + engine.port_taken();
        }
        if (engine.port_taken().empty() || attempt == port_attempts) {
            if (!taken.empty()) {
                r.note = taken +
                         (engine.port_taken().empty()
                              ? "; the case ran again on another port"
                              : ", " + std::to_string(port_attempts) + " times in a row") +
                         (r.note.empty() ? "" : "; " + r.note);
            }
            return r;
        }
    }
}

} // namespace tcpchat::conformance
