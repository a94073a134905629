// A run over many cases (spec/transcript-format.md §T.9.4): the server under test is watched
// between cases. With --exec the runner starts it itself, attributes a crash to the case during
// which it happened, restarts it and goes on; without, the cases after a stop are not run.
#include "process.hpp"
#include "socket.hpp"
#include "tcpchat/conformance.hpp"
#include "tcpchat/encode.hpp"

#include <memory>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <utility>

namespace tcpchat::conformance {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t crash_lines = 10; // of the server's output, shown with a crash
constexpr std::string_view closed_unanswered =
    "stopped responding (the connection closed without an answer to a REGISTER)";

std::string endpoint_text(const std::string& host, std::uint16_t port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

// Why the server no longer serves, or nothing: one REGISTER must get an answer (any bytes)
// within the timeout. A request, not a bare connection: fragile servers die of an empty one.
std::optional<std::string> probe_once(const LiveOptions& o, int probe) {
    std::string error;
    const auto until = Clock::now() + std::max<std::chrono::milliseconds>(o.timeout, 2s);
    Fd fd = connect_to({o.server_host, o.server_port}, "", until, error);
    if (!fd.valid()) {
        return "stopped accepting connections (" + error + ")";
    }
    const std::string id = "probe-" + o.run_id + "-" + std::to_string(probe);
    const std::string request = to_wire(Register{{id, "127.0.0.1", 9}});
    if (!write_all(fd.get(), request, until) ||
        !wait_readable(fd.get(), Clock::now() + o.timeout)) {
        return "stopped responding (no answer to a REGISTER within " +
               std::to_string(o.timeout.count()) + " ms)";
    }
    char byte = 0;
    if (::recv(fd.get(), &byte, 1, 0) != 1) {
        return std::string(closed_unanswered);
    }
    return std::nullopt;
}

std::optional<std::string> stopped_serving(const LiveOptions& o, int& probes) {
    auto why = probe_once(o, ++probes);
    if (why == closed_unanswered) {
        // Typically a server on its way out with our connection in its queue: look again.
        std::this_thread::sleep_for(300ms);
        why = probe_once(o, ++probes);
    }
    return why;
}

// The server started by --exec, on a fresh free port every time it starts.
class Supervised {
  public:
    explicit Supervised(LiveOptions& options) : options_(options) {}

    // Starts the server and waits until it listens; the reason if it does not. When another
    // program takes the chosen port first, the server is stopped and started again on another
    // port (port_attempts in all); the next case's note tells it.
    std::optional<std::string> start() {
        std::string taken;
        for (int attempt = 1;; ++attempt) {
            auto why = start_once();
            const std::uint16_t port = options_.server_port;
            if (!port_taken_) {
                if (!why && !taken.empty()) {
                    note_ = taken + "; the server was started on port " + std::to_string(port) +
                            " instead";
                }
                return why;
            }
            taken += (taken.empty() ? "port " : ", then port ") + std::to_string(port) +
                     " was taken by another program";
            if (attempt == port_attempts) {
                return taken + ", " + std::to_string(port_attempts) +
                       " times in a row (a server that leaves its process group, as a daemon "
                       "does, is not seen listening)";
            }
        }
    }

    // What the next case's result notes about the server's start ("port ... was taken"), once.
    std::string take_note() { return std::exchange(note_, {}); }

    // Why the server stopped during the case that just ran, or nothing.
    std::optional<std::string> stopped(const CaseResult& r, int& probes) {
        // A server that dies at the end of a case may not be reaped yet.
        if (auto st = process_->exit_status_within(r.passed ? 0ms : 200ms)) {
            return describe_exit(*st);
        }
        if (listener_of(where(), process_->group()) != Listener::ours) {
            return "stopped accepting connections (still running, no longer listening)";
        }
        return r.passed ? std::nullopt : stopped_serving(options_, probes);
    }

    std::string take_output() { return process_->take_output(); }
    void stop() { process_.reset(); }

  private:
    static constexpr int port_attempts = 5;

    // Where the runner connects to the server.
    [[nodiscard]] Endpoint where() const { return {options_.server_host, options_.server_port}; }

    // One start on a fresh free port; port_taken_ tells whether another program took it.
    std::optional<std::string> start_once() {
        process_.reset();
        port_taken_ = false;
        std::string error;
        {
            Fd probe = listen_on(options_.server_host, 0, error);
            if (!probe.valid()) {
                return error;
            }
            options_.server_port = local_endpoint(probe.get())->port;
        }
        const std::string command =
            fill_command(options_.exec, {{"{port}", std::to_string(options_.server_port)},
                                         {"{host}", options_.server_host}});
        process_ = std::make_unique<Process>(command);
        if (!process_->error().empty()) {
            return "cannot start '" + command + "': " + process_->error();
        }
        const auto until = Clock::now() + options_.start_timeout;
        for (Listener who; (who = listener_of(where(), process_->group())) != Listener::ours;) {
            // A server that finds its port taken may exit or keep trying: either way it is
            // not the one listening there, and the runner must not test the other one.
            if (who == Listener::foreign) {
                port_taken_ = true;
                process_.reset();
                return std::nullopt;
            }
            if (auto st = process_->exit_status()) {
                return "'" + command + "' " + describe_exit(*st) + " before it listened" +
                       printed(process_->take_output());
            }
            if (Clock::now() >= until) {
                return "'" + command + "' did not listen on port " +
                       std::to_string(options_.server_port) + " within " +
                       std::to_string(options_.start_timeout.count()) + " ms" +
                       printed(process_->take_output());
            }
            std::this_thread::sleep_for(20ms);
        }
        // What it printed on starting belongs to no case.
        (void)process_->take_output();
        return std::nullopt;
    }

    static std::string printed(const std::string& output) {
        const std::string tail = last_lines(output, crash_lines);
        return tail.empty() ? "" : "; it printed:\n" + tail;
    }

    LiveOptions& options_;
    std::unique_ptr<Process> process_;
    bool port_taken_ = false;
    std::string note_;
};

CaseResult not_run(const Case& c, const std::string& why) {
    CaseResult r;
    r.test = &c;
    r.not_run = why;
    return r;
}

std::vector<CaseResult> run_servers(const std::vector<const Case*>& cases, LiveOptions options) {
    std::vector<CaseResult> results;
    const bool supervised = !options.exec.empty();
    Supervised server(options);
    int probes = 0;
    std::optional<std::string> cut; // why the remaining cases are not run
    if (supervised) {
        if (auto why = server.start()) {
            cut = "the server did not start: " + *why;
        }
    } else if (!cases.empty()) {
        if (auto why = stopped_serving(options, probes)) {
            cut = "the server at " + endpoint_text(options.server_host, options.server_port) + " " +
                  *why + " before the first case";
        }
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const Case& c = *cases[i];
        if (cut) {
            results.push_back(not_run(c, *cut));
            continue;
        }
        if (supervised && options.fresh && i > 0) {
            if (auto why = server.start()) {
                cut = "the server did not restart: " + *why;
                results.push_back(not_run(c, *cut));
                continue;
            }
        }
        CaseResult r = run_server(c, options);
        std::optional<std::string> why;
        if (const std::string started = server.take_note(); !started.empty()) {
            r.note = started;
        }
        if (supervised) {
            why = server.stopped(r, probes);
            r.output = server.take_output();
        } else if (!r.passed && !r.skipped) {
            why = stopped_serving(options, probes);
        }
        if (why) {
            r.passed = false;
            r.crashed = Crash{*why, last_lines(r.output, crash_lines)};
            if (!supervised) {
                cut = "the server " + *why + " during " + c.name;
            } else if (i + 1 < cases.size() && !options.fresh) {
                if (auto again = server.start()) {
                    cut = "the server did not restart after " + c.name + ": " + *again;
                } else {
                    r.note +=
                        (r.note.empty() ? "" : "; ") + std::string("the server was restarted");
                }
            }
        }
        results.push_back(std::move(r));
    }
    server.stop();
    return results;
}

} // namespace

std::vector<CaseResult> run_suite(Mode mode, const std::vector<const Case*>& cases,
                                  const LiveOptions& options) {
    if (mode == Mode::server) {
        return run_servers(cases, options);
    }
    std::vector<CaseResult> results;
    for (const Case* c : cases) {
        results.push_back(mode == Mode::codec ? run_codec(*c) : run_client(*c, options));
    }
    return results;
}

} // namespace tcpchat::conformance
