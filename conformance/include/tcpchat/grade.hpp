// `tcp-chat-conformance grade`: many implementations in one run. A list names each implementation
// and its command lines; each (implementation, mode) is one run of this same binary in server or
// client mode, in parallel and bounded in time, writing its reports into an output folder; the
// runs' JSON reports then become one matrix of implementations by cases.
#pragma once

#include "tcpchat/transcript.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpchat::conformance::grade {

// ---- The list ------------------------------------------------------------------------------
//
//   # comment
//   NAME: server = COMMAND        a server the runner starts ({host} and {port} are replaced)
//   NAME: server-at = HOST:PORT   a server that is already running
//   NAME: client = COMMAND        a client ({id}, {port} and {server} are replaced)
//
// One key per line; an implementation has a server, a client, or both.

struct Implementation {
    std::string name; // [A-Za-z0-9][A-Za-z0-9._-]*, the folder of its reports
    std::size_t line = 0;
    std::string server;    // command, or empty
    std::string server_at; // HOST:PORT, or empty
    std::string client;    // command, or empty
};

struct ListError {
    std::size_t line = 0;
    std::string message;
};

struct List {
    std::vector<Implementation> implementations; // in order of first mention
    std::vector<ListError> errors;
};

[[nodiscard]] List parse_list(std::string_view text);

// ---- Runs ----------------------------------------------------------------------------------

// One run: an implementation in one mode.
struct Run {
    std::string implementation;
    transcript::Mode mode = transcript::Mode::server;
    std::string target; // the command or HOST:PORT under test
    // How it ended: "completed" (its report was written), "timed out", "failed" (the runner
    // exited without a report, or the grade was interrupted; `error` says why).
    std::string status;
    std::optional<int> exit_status; // the runner's, when it exited
    std::string error;
    std::chrono::milliseconds elapsed{};
    // Files relative to the output folder.
    std::string json, html, junit, log;
};

// One cell of the matrix.
struct Cell {
    std::string outcome; // "passed", "failed", "skipped", "crashed", "not_run"
    std::string message; // why it failed, was skipped or was not run; may be empty
};

struct Row {
    transcript::Mode mode = transcript::Mode::server;
    std::string name, why;
    std::vector<std::string> sections;
    std::map<std::string, Cell> cells; // by implementation; absent: the mode was not graded
};

struct Matrix {
    std::vector<std::string> implementations;
    std::vector<Run> runs;
    std::vector<Row> rows; // server mode, then client mode; by section, then name
};

struct Options {
    std::string runner;     // this binary
    std::string output_dir; // absolute
    std::string workdir;    // where the commands run: the list's folder
    std::string cases_dir;  // absolute
    std::vector<std::string> filters;
    int timeout_ms = 0; // per expectation, passed on (0: the runner's default)
    std::size_t jobs = 1;
    std::chrono::seconds time_limit{300}; // per run
    bool color = false;
};

// Runs every implementation of `list` in each of its modes, `options.jobs` at a time, showing
// progress on `progress`; returns the runs, each with its status. When `*stop` becomes true (the
// command line sets it on SIGINT or SIGTERM) the running runs are stopped as at their time limit
// and the rest are not started; they all end "failed", "interrupted".
[[nodiscard]] std::vector<Run> run_all(const List& list, const Options& options,
                                       std::ostream& progress, bool progress_is_terminal,
                                       const std::atomic<bool>* stop = nullptr);

// The matrix: the selected cases of `suite` by the runs' JSON reports read from the output folder.
[[nodiscard]] Matrix collect(const std::vector<Run>& runs,
                             const std::vector<transcript::Case>& suite, const Options& options);

// Each section's totals per mode: cases, and how many each implementation passed.
struct SectionTotal {
    transcript::Mode mode = transcript::Mode::server;
    std::string section;
    std::size_t cases = 0;
    std::map<std::string, std::size_t> passed; // by implementation graded in this mode
};
[[nodiscard]] std::vector<SectionTotal> section_totals(const Matrix& m);

// ---- Reports of the matrix -----------------------------------------------------------------

// Cases down, implementations across, a mark per cell and each section's passed/total.
void print_matrix(std::ostream& out, const Matrix& m, bool color);
// Described by conformance/schema/grade.json.
void write_matrix_json(std::ostream& out, const Matrix& m);
// One test suite per implementation.
void write_matrix_junit(std::ostream& out, const Matrix& m);
// The index: each implementation's runs with links to their reports, then the matrix.
void write_matrix_html(std::ostream& out, const Matrix& m);

} // namespace tcpchat::conformance::grade
