// server mode and client mode (spec/transcript-format.md §T.9.2, §T.9.3): the runner plays every
// actor but the one under test, performs what the played actors do, and checks what the actor
// under test does against the transcript.
#include "codec_mode.hpp"
#include "process.hpp"
#include "socket.hpp"
#include "tcpchat/codec.hpp"
#include "value.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <pty.h>
#include <random>
#include <set>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace tcpchat::conformance {

namespace tt = transcript;
using namespace std::chrono_literals;

std::string make_run_id() {
    static std::mt19937_64 rng{std::random_device{}() ^
                               std::uint64_t(Clock::now().time_since_epoch().count())};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    std::uint64_t v = rng();
    for (int i = 0; i < 8; ++i, v >>= 4) {
        out += hex[v & 0xF];
    }
    return out;
}

namespace {

std::string pair_key(const std::string& a, const std::string& b) {
    return a < b ? a + "\n" + b : b + "\n" + a;
}

// One live connection between two actors, seen from the runner's side.
struct Link {
    Fd fd;
    std::string initiator, acceptor; // `connect initiator acceptor`
    std::string inbox;               // bytes received and not yet matched
    bool eof = false;                // the other side ended its stream (or reset)
    bool reset = false;
    bool shut = false; // the played side shut down its sending direction (`closes`, `half-closes`)
    int blocks_read[2] = {0, 0}; // per direction: blocks already matched (for the lenient context)
};

// The client under test in its pseudo-terminal.
struct Terminal {
    pid_t pid = -1;
    Fd master;
    std::string output;             // everything it printed, escape sequences removed
    std::size_t shown = 0;          // `shows` matched up to here
    std::optional<int> status;      // exit status once reaped (128+N for signal N)
    std::optional<int> wait_status; // as waitpid() gave it
    bool output_closed = false;
    bool killed = false; // it had to be killed: SIGTERM did not end it

    void reap() {
        if (pid < 0 || status) {
            return;
        }
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid) {
            status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            wait_status = st;
        }
    }

    // Waits up to `limit` for the process to end.
    void reap_within(std::chrono::milliseconds limit) {
        const auto until = Clock::now() + limit;
        for (reap(); !status && Clock::now() < until; reap()) {
            std::this_thread::sleep_for(10ms);
        }
    }

    void append(const char* data, std::size_t n) {
        // Strip ANSI escape sequences and CRs so that `shows` matches the text alone.
        for (std::size_t i = 0; i < n; ++i) {
            const char c = data[i];
            if (c == '\x1b') {
                escape_ = 1;
                continue;
            }
            if (escape_ == 1) {
                escape_ = (c == '[') ? 2 : 0;
                continue;
            }
            if (escape_ == 2) {
                if (c >= 0x40 && c <= 0x7E) {
                    escape_ = 0;
                }
                continue;
            }
            if (c != '\r') {
                output += c;
            }
        }
    }

    // SIGTERM, then SIGKILL, to the client's whole process group (forkpty made it a session
    // leader, so a shell between us and the client goes too). Bounded: a process that does not
    // die even of SIGKILL within 2 s is left behind rather than hanging the runner.
    void stop() {
        if (pid >= 0 && !status) {
            ::kill(-pid, SIGTERM);
            reap_within(1000ms);
            if (!status) {
                killed = true;
                ::kill(-pid, SIGKILL);
                reap_within(2000ms);
            }
            // A member of the group that outlives the shell by a second ignored SIGTERM.
            const auto until = Clock::now() + 1000ms;
            while (group_alive(pid) && Clock::now() < until) {
                std::this_thread::sleep_for(10ms);
            }
            if (group_alive(pid)) {
                killed = true;
                ::kill(-pid, SIGKILL);
            }
        }
        master.reset();
    }

    int escape_ = 0;
};

class Engine {
  public:
    Engine(const Case& c, const LiveOptions& o, Mode mode)
        : case_(c), options_(o), mode_(mode),
          timeout_(std::max(o.timeout, c.timeout.value_or(0ms))) {}

    ~Engine() { terminal_.stop(); }

    CaseResult run();

  private:
    bool under_test(const std::string& actor) const {
        return mode_ == Mode::server ? actor == tt::server_actor : actor == case_.client;
    }
    Clock::time_point deadline() const { return Clock::now() + timeout_; }

    std::optional<std::string> skip_reason() const;
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
    void read_terminal(int wait_ms);
    // Types at the client's terminal within the timeout; false if it cannot be done.
    bool type_text(std::string_view text);
    void drain_queue();

    const Case& case_;
    const LiveOptions& options_;
    Mode mode_;
    std::chrono::milliseconds timeout_;
    tt::Bindings bindings_;
    std::map<std::string, Link> links_;            // by pair_key
    std::map<std::string, Fd> listeners_;          // played actors that are connected to
    std::map<std::string, std::string> source_of_; // actor -> source address to bind
    Terminal terminal_;
    std::size_t skipped_line_ = 0;
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

bool Engine::type_text(std::string_view text) {
    const auto until = deadline();
    while (!text.empty() && terminal_.master.valid() && !terminal_.output_closed) {
        const ssize_t n = ::write(terminal_.master.get(), text.data(), text.size());
        if (n > 0) {
            text.remove_prefix(std::size_t(n));
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
            return false;
        } else if (Clock::now() >= until) {
            return false;
        } else {
            read_terminal(10); // the terminal's buffers are full: let the client's output drain
        }
    }
    return text.empty();
}

void Engine::read_terminal(int wait_ms) {
    if (!terminal_.master.valid() || terminal_.output_closed) {
        terminal_.reap();
        if (wait_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
        }
        return;
    }
    pollfd p{terminal_.master.get(), POLLIN, 0};
    if (::poll(&p, 1, wait_ms) > 0) {
        char buf[4096];
        const ssize_t n = ::read(terminal_.master.get(), buf, sizeof buf);
        if (n > 0) {
            terminal_.append(buf, std::size_t(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            terminal_.output_closed = true; // EIO once the child has exited
        }
    }
    terminal_.reap();
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
        if (link == nullptr || link->eof || !link->fd.valid()) {
            read_terminal(slice);
            if (link == nullptr || link->eof || !link->fd.valid()) {
                if (done()) {
                    return;
                }
                if (link != nullptr) {
                    return; // nothing more can arrive on it
                }
                continue;
            }
        }
        read_terminal(0);
        pollfd p{link->fd.get(), POLLIN, 0};
        if (::poll(&p, 1, slice) > 0) {
            char buf[8192];
            const ssize_t n = ::recv(link->fd.get(), buf, sizeof buf, 0);
            if (n > 0) {
                link->inbox.append(buf, std::size_t(n));
            } else if (n == 0) {
                link->eof = true;
            } else if (errno != EINTR && errno != EAGAIN) {
                link->eof = true;
                link->reset = true;
            }
        }
    }
}

std::optional<Failure> Engine::prepare() {
    // ${run} is fresh for every case of every run, so that cases never share a clientID (§T.7.3).
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t h = std::hash<std::string>{}(options_.run_id + "/" + case_.name);
    std::string run;
    for (int i = 0; i < 8; ++i, h >>= 4) {
        run += hex[h & 0xF];
    }
    bindings_["run"] = run;
    const std::vector<std::string> actors = case_.actors();
    for (const tt::Step& s : case_.steps) {
        if (const auto* c = std::get_if<tt::Connect>(&s.action); c && c->other_address) {
            source_of_[c->from] = options_.other_address;
        }
    }
    int index = 0;
    for (const std::string& a : actors) {
        bindings_[a + ".id"] = a + "-" + run;
        bindings_[a + ".port"] = std::to_string(3000 + index++);
        bindings_[a + ".ip"] = source_of_.contains(a) ? source_of_[a] : "127.0.0.1";
    }
    if (mode_ == Mode::server) {
        const std::string& h = options_.server_host;
        bindings_["server"] = (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                              std::to_string(options_.server_port);
        bindings_["server.ip"] = h;
        bindings_["server.port"] = std::to_string(options_.server_port);
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
    listeners_[std::string(tt::server_actor)] = std::move(server);
    bindings_["server"] = "127.0.0.1:" + std::to_string(server_port);
    bindings_["server.ip"] = "127.0.0.1";
    bindings_["server.port"] = std::to_string(server_port);
    for (const tt::Step& s : case_.steps) {
        const auto* c = std::get_if<tt::Connect>(&s.action);
        if (c == nullptr || !under_test(c->from) || listeners_.contains(c->to)) {
            continue;
        }
        Fd l = listen_on("127.0.0.1", 0, error);
        if (!l.valid()) {
            return Failure{s.line, error, {}, {}, false};
        }
        bindings_[c->to + ".port"] = std::to_string(local_endpoint(l.get())->port);
        listeners_[c->to] = std::move(l);
    }
    {
        // A free port for the client under test to listen on.
        Fd probe = listen_on("127.0.0.1", 0, error);
        if (!probe.valid()) {
            return Failure{0, error, {}, {}, false};
        }
        bindings_[case_.client + ".port"] = std::to_string(local_endpoint(probe.get())->port);
    }
    std::string command = options_.exec;
    auto replace = [&command](const std::string& what, const std::string& with) {
        for (std::size_t at = 0; (at = command.find(what, at)) != std::string::npos;
             at += with.size()) {
            command.replace(at, what.size(), with);
        }
    };
    replace("{id}", bindings_[case_.client + ".id"]);
    replace("{port}", bindings_[case_.client + ".port"]);
    replace("{server}", bindings_["server"]);
    // The child's environment and arguments are built before the fork: between fork and exec a
    // process with threads may only make async-signal-safe calls (no setenv, no allocation).
    ChildEnvironment env{"NO_COLOR=1", "TERM=dumb"};
    std::string sh = "/bin/sh";
    std::string dash_c = "-c";
    std::array<char*, 4> argv{sh.data(), dash_c.data(), command.data(), nullptr};
    int master = -1;
    winsize size{};
    size.ws_row = 40;
    size.ws_col = 200;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid < 0) {
        return Failure{0, "forkpty failed", {}, {}, false};
    }
    if (pid == 0) {
        ::execve(argv[0], argv.data(), env.get());
        ::_exit(127);
    }
    terminal_.pid = pid;
    terminal_.master = Fd(master);
    // Non-blocking, so that typing into a terminal the client does not read cannot hang us.
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
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
            to = {"127.0.0.1", std::uint16_t(std::stoi(bindings_[c.to + ".port"]))};
        }
        const auto until = deadline();
        while (true) {
            link.fd =
                connect_to(to, source_of_.contains(c.from) ? source_of_[c.from] : "", until, error);
            // A client under test may not be listening yet: retry until the deadline (§T.9.3).
            if (link.fd.valid() || mode_ == Mode::server || Clock::now() >= until) {
                break;
            }
            read_terminal(20);
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
        int listener = listeners_.at(c.to).get();
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
    const auto until = deadline();
    if (!lenient) {
        pump(&link, until, [&] {
            const std::size_t n = std::min(link.inbox.size(), bytes.size());
            return link.inbox.size() >= bytes.size() || link.inbox.compare(0, n, bytes, 0, n) != 0;
        });
        const std::size_t n = std::min(link.inbox.size(), bytes.size());
        if (link.inbox.compare(0, n, bytes, 0, n) != 0 || link.inbox.size() < bytes.size()) {
            std::string why =
                link.inbox.size() < bytes.size() && link.inbox.compare(0, n, bytes, 0, n) == 0
                    ? (link.eof ? "the connection closed before all bytes arrived"
                                : "not all bytes arrived within the timeout")
                    : "the bytes differ";
            Failure f{line, why, bytes, link.inbox.substr(0, std::max(bytes.size(), n)), true};
            return f;
        }
        link.inbox.erase(0, bytes.size());
        link.blocks_read[direction]++;
        return std::nullopt;
    }
    // Lenient: the same messages, by the rule of §T.6.3.
    const bool to_server = link.acceptor == tt::server_actor;
    Context context = to_server ? (direction == 0 ? Context::request : Context::response)
                                : (direction == 0 ? Context::chat_open : Context::chat);
    if (context == Context::chat_open && link.blocks_read[direction] > 0) {
        context = Context::chat;
    }
    const StreamResult want = decode_stream(context, bytes);
    std::vector<Described> expected;
    for (const Message& m : want.messages) {
        expected.push_back(describe(m));
    }
    std::vector<Described> actual;
    std::optional<DecodeError> error;
    std::size_t consumed = 0;
    auto decode_inbox = [&] {
        actual.clear();
        error.reset();
        consumed = 0;
        StreamDecoder d(context);
        std::string_view data = link.inbox;
        // After a message the decoder is called again even with no input left: bytes it took
        // already may hold the next message (stream_decoder.hpp).
        while (actual.size() < expected.size()) {
            const Step st = d.feed(data);
            data.remove_prefix(st.consumed);
            consumed += st.consumed;
            if (st.status == Status::message) {
                actual.push_back(describe(st.message));
            } else if (st.status == Status::error) {
                error = st.error;
                return true;
            } else {
                break;
            }
        }
        if (link.eof && actual.size() < expected.size() && !error) {
            const Step st = d.finish();
            if (st.status == Status::message) {
                actual.push_back(describe(st.message));
            } else if (st.status == Status::error) {
                error = st.error;
            }
            return true;
        }
        return actual.size() >= expected.size();
    };
    pump(&link, until, decode_inbox);
    decode_inbox();
    bool ok = !error && actual.size() == expected.size();
    for (std::size_t i = 0; ok && i < expected.size(); ++i) {
        ok = same(expected[i], actual[i], true);
    }
    if (!ok) {
        std::string want_text;
        for (const Described& d : expected) {
            want_text += render(d) + "\n";
        }
        std::string got_text;
        for (const Described& d : actual) {
            got_text += render(d) + "\n";
        }
        if (error) {
            got_text += "decode error " + std::string(errc_name(error->code)) + " at " +
                        std::to_string(error->offset) + " in " + escape_bytes(link.inbox) + "\n";
        } else if (actual.size() < expected.size()) {
            got_text += link.eof ? "(connection closed)\n" : "(nothing more within the timeout)\n";
        }
        return Failure{line, "a different message arrived (compared by the lenient rule)",
                       want_text, got_text, false};
    }
    link.inbox.erase(0, consumed);
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
        return at != std::string::npos || terminal_.output_closed;
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
        if (!type_text(*text)) {
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

// Before a server-mode case: whoever waits in the server's queue (left by an earlier run or a
// failed case) is paired away, so that the case's first BRIDGE meets an empty queue (§6.3).
void Engine::drain_queue() {
    static std::atomic<int> counter{0};
    const Endpoint server{options_.server_host, options_.server_port};
    // One request on its own connection; the reply as a value, read as soon as it is complete
    // (a server that never closes must not make draining wait for the end of the stream).
    auto request = [&](const std::string& bytes) -> std::optional<Described> {
        std::string error;
        const auto until = Clock::now() + 2s;
        Fd fd = connect_to(server, "", until, error);
        if (!fd.valid() || !write_all(fd.get(), bytes, until)) {
            return std::nullopt;
        }
        StreamDecoder decoder(Context::response);
        char buf[4096];
        while (wait_readable(fd.get(), until)) {
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            const Step st =
                n > 0 ? decoder.feed(std::string_view(buf, std::size_t(n))) : decoder.finish();
            if (st.status == Status::message) {
                return describe(st.message);
            }
            if (n <= 0 || st.status != Status::need_more) {
                break;
            }
        }
        return std::nullopt;
    };
    auto enrol = [&](const std::string& id) {
        if (!request("REGISTER\r\nclientID: " + id + "\r\nIP: 127.0.0.1\r\nPort: 9\r\n\r\n")) {
            return std::optional<Described>{};
        }
        return request("BRIDGE\r\nclientID: " + id + "\r\n\r\n");
    };
    auto next_id = [&] { return "drain-" + options_.run_id + "-" + std::to_string(++counter); };
    for (int i = 0; i < 16; ++i) {
        const auto reply = enrol(next_id());
        if (!reply || reply->method != "BRIDGEACK") {
            return; // not a server we can drain: the cases will tell
        }
        if (reply->fields.empty()) {
            // Our drain client now waits: one more takes it, and the queue is empty.
            enrol(next_id());
            return;
        }
    }
}

// A case that needs a second source address (§T.5.1 `from another address`, for the rules of
// §6.2 that depend on where a request comes from) cannot be run where that address cannot be
// bound: it is skipped with the reason, not failed.
std::optional<std::string> Engine::skip_reason() const {
    const bool needed = std::any_of(case_.steps.begin(), case_.steps.end(), [](const tt::Step& s) {
        const auto* c = std::get_if<tt::Connect>(&s.action);
        return c != nullptr && c->other_address;
    });
    const std::string toward = mode_ == Mode::server ? options_.server_host : "127.0.0.1";
    std::string error;
    if (!needed || can_connect_from(options_.other_address, toward, error)) {
        return std::nullopt;
    }
    return "no connection from another address: " + error +
           (mode_ == Mode::server ? " (choose one with --other-address)" : "");
}

CaseResult Engine::run() {
    const auto start = Clock::now();
    CaseResult result;
    result.test = &case_;
    if (auto why = skip_reason()) {
        result.skipped = std::move(why);
        return result;
    }
    if (mode_ == Mode::server && options_.drain) {
        drain_queue();
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
            result.note = "still running at the end of the case: stopped with SIGTERM";
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
    Engine engine(c, options, Mode::client);
    return engine.run();
}

} // namespace tcpchat::conformance
