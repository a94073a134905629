// The conformance runner's core (spec/transcript-format.md §T.9): loads a suite of transcripts and
// holds a codec, a server or a client to it. The command line (main.cpp) is a thin layer on this,
// and the tests drive it directly.
#pragma once

#include "tcpchat/transcript.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tcpchat::conformance {

using transcript::Case;
using transcript::Mode;

// ---- Suites ------------------------------------------------------------------------------

struct LoadError {
    std::string path;
    transcript::ParseError error;
};

struct Suite {
    std::vector<Case> cases; // ordered by first section, then name
    std::vector<LoadError> errors;
};

// The shipped suite's directory: the installed one beside the running executable
// (bin/../share/tcpchat/conformance/cases), else $TCPCHAT_CONFORMANCE_CASES, else the source
// tree's.
[[nodiscard]] std::string default_cases_dir();

// Loads files and directories (every *.md in a directory, not recursive).
[[nodiscard]] Suite load_suite(const std::vector<std::string>& paths);

// A case is selected when it applies to `mode` and, if filters are given, one of them is part of
// its name or names one of its sections ("5.1", "§5.1" or "5" for all of §5).
[[nodiscard]] bool selected(const Case& c, Mode mode, const std::vector<std::string>& filters);

// "5.2" < "5.10" < "6": numeric, part by part.
[[nodiscard]] bool section_less(const std::string& a, const std::string& b);
// A numbered section of spec/tcp-chat.md: "4.1" and "Framing and bytes", "A" and "Collected ABNF".
struct SectionTitle {
    std::string_view number;
    std::string_view title;
};
// Every numbered section of the spec, in its order, titled exactly as its heading.
[[nodiscard]] std::span<const SectionTitle> section_titles();
// The title of a spec section, e.g. "Framing and bytes" for "4.1"; "" if unknown.
[[nodiscard]] std::string_view section_title(const std::string& section);

// ---- Results -----------------------------------------------------------------------------

struct Failure {
    std::size_t line = 0; // the transcript line whose expectation failed
    std::string message;  // what went wrong, one line
    std::string expected; // bytes or a rendered value; may be empty
    std::string actual;   // idem
    bool bytes = true;    // expected/actual are raw bytes (shown escaped, difference marked)
};

// The implementation under test died or stopped serving while a case ran.
struct Crash {
    std::string what;        // "exited with status 1", "killed by SIGSEGV", "stopped accepting"
    std::string last_output; // the last lines it printed (stdout and stderr); may be empty
};

struct CaseResult {
    const Case* test = nullptr;
    bool passed = false;
    std::optional<Failure> failure;
    // The case could not be run here (e.g. no second source address): neither passed nor failed.
    std::optional<std::string> skipped;
    std::chrono::milliseconds elapsed{};
    std::string note; // e.g. how the client under test ended
    // The implementation crashed or stopped during this case (the case has failed).
    std::optional<Crash> crashed;
    // The case was not run because the implementation had stopped before it: neither passed
    // nor failed, and the run's exit status says so.
    std::optional<std::string> not_run;
    // What the implementation under test printed while this case ran (supervised runs only).
    std::string output;
};

// ---- Modes -------------------------------------------------------------------------------

// codec mode (§T.9.1): every stream decoded (whole and one byte at a time) and re-encoded.
[[nodiscard]] CaseResult run_codec(const Case& c);

struct LiveOptions {
    std::chrono::milliseconds timeout{5000}; // per expectation; a case's Timeout raises it
    std::string run_id;                      // ${run}; random when empty
    // server mode: the server under test
    std::string server_host = "127.0.0.2";
    std::uint16_t server_port = 5555;
    std::string other_address = "127.0.0.3"; // source of `connect X server from another address`
    bool drain = true;                       // empty the server's waiting queue before a case
    // The command that starts the implementation under test. client mode: one client per case,
    // with {id} {port} {server} replaced. server mode (run_suite): the server, started on a free
    // port with {port} and {host} (server_host) replaced, restarted after a crash; empty: a
    // server that is already running at server_host:server_port.
    std::string exec;
    bool fresh = false;                             // server mode: restart it before every case
    std::chrono::milliseconds start_timeout{10000}; // server mode: until it listens
};

// server mode (§T.9.2) and client mode (§T.9.3). Each call is one case; a server-mode run over a
// suite shares one ${run} so that the cases' clientIDs never meet an earlier run's.
[[nodiscard]] CaseResult run_server(const Case& c, const LiveOptions& options);
[[nodiscard]] CaseResult run_client(const Case& c, const LiveOptions& options);

// The cases in order, in one mode. In server mode the server is watched between cases: a case
// during which it exits, stops accepting or stops answering has `crashed`; with `exec` it is
// then restarted, without it the cases after that one are `not_run`.
[[nodiscard]] std::vector<CaseResult> run_suite(Mode mode, const std::vector<const Case*>& cases,
                                                const LiveOptions& options);

// Eight lowercase hex digits, different on every call.
[[nodiscard]] std::string make_run_id();

// ---- The recorder (§T.10) ----------------------------------------------------------------

struct RecordOptions {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 0;
    std::string target_host;
    std::uint16_t target_port = 0;
    std::string output;          // the transcript file
    std::size_t connections = 0; // stop after this many connections have ended (0: no count)
    // Stop at the latest after this long (0: no limit); what passed so far is written.
    std::chrono::milliseconds time_limit{0};
    // Stop as soon as this becomes true (the command line sets it on SIGINT or SIGTERM).
    const std::atomic<bool>* stop = nullptr;
    std::string title = "Recorded session";
};

// Proxies connections to the target and writes what passed as a transcript, until `connections`
// connections have ended, `time_limit` has passed or `*stop` is set. `ready` (if given) is called
// with the bound listening port once the proxy accepts connections. Returns 0 on success, else
// prints the reason on `log` and returns 1.
int record(const RecordOptions& options, std::ostream& log,
           void (*ready)(std::uint16_t port, void* context) = nullptr, void* context = nullptr);

// ---- Reports -----------------------------------------------------------------------------

struct ReportOptions {
    bool color = false;
    std::string
        heading; // first line, e.g. "tcp-chat-conformance 1.0.0: server mode, 127.0.0.2:5555"
};

// h2spec-like: cases grouped by section, a mark and the sentence per case, details of each
// failure and crash and the reason of each skip or case not run, then `N passed, M failed` alone
// on the last line, with `, K skipped` and `, K not run` when there are such cases.
void print_report(std::ostream& out, const std::vector<CaseResult>& results,
                  const ReportOptions& options);
void print_list(std::ostream& out, const std::vector<const Case*>& cases);
void write_junit(std::ostream& out, const std::vector<CaseResult>& results, std::string_view mode);
// Described by conformance/schema/report.json.
void write_json(std::ostream& out, const std::vector<CaseResult>& results, std::string_view mode);
// One self-contained page (no network, no external assets): a summary by section, then every
// case with its verdict, differing bytes, a sequence diagram of its exchange and its output.
void write_html(std::ostream& out, const std::vector<CaseResult>& results, Mode mode,
                std::string_view heading);

} // namespace tcpchat::conformance
