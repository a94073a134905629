// tcp-chat-conformance: holds a codec, a server or a client to the golden transcripts
// (spec/transcript-format.md §T.9), and records new ones (§T.10).
#include "process.hpp"
#include "tcpchat/conformance.hpp"
#include "tcpchat/grade.hpp"
#include "tcpchat/version.hpp"

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

namespace tc = tcpchat::conformance;

// `record` runs until Ctrl-C (or SIGTERM) when no --connections count is given; `grade` stops
// its runs on either.
std::atomic<bool> interrupted{false};

extern "C" void on_signal(int) {
    interrupted = true;
}

struct Common {
    std::vector<std::string> paths;
    std::vector<std::string> filters;
    std::string cases_dir;
    bool list = false;
    int timeout_ms = 0;
    std::string junit;
    std::string json;
    std::string html;
    bool no_color = false;
};

void add_common(CLI::App& app, Common& c) {
    app.add_option("PATH", c.paths, "Case files or directories (default: the shipped suite)");
    app.add_option("--filter,-f", c.filters,
                   "Run only cases whose name contains this text or that cite this section "
                   "(e.g. 6.3 or §6); repeatable");
    app.add_option(
        "--cases", c.cases_dir,
        "The suite's directory when no PATH is given (default: the installed one beside the "
        "program, ../share/tcpchat/conformance/cases, else $TCPCHAT_CONFORMANCE_CASES, else the "
        "source tree's conformance/cases)");
    app.add_flag("--list,-l", c.list, "List the selected cases and exit");
    app.add_option(
           "--timeout", c.timeout_ms,
           "Milliseconds each expectation may wait (default 5000; a case's Timeout can raise "
           "it)")
        ->check(CLI::PositiveNumber);
    app.add_option("--junit", c.junit, "Also write a JUnit XML report to FILE");
    app.add_option("--json", c.json, "Also write a JSON report to FILE");
    app.add_option("--html", c.html, "Also write an HTML report to FILE (one self-contained page)");
    app.add_flag("--no-color", c.no_color, "No colours (also when NO_COLOR is set or not a TTY)");
}

// HOST:PORT or [IPv6]:PORT; port 0 ("any free port") only where `any_port` allows it.
bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port,
                     bool any_port = false) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) {
        return false;
    }
    host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    unsigned value = 0;
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    const auto [p, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || p != last || (value == 0 && !any_port) || value > 65535 ||
        host.empty()) {
        return false;
    }
    port = std::uint16_t(value);
    return true;
}

bool want_color(bool no_color_flag, int fd) {
    const char* no_color = std::getenv("NO_COLOR");
    return !no_color_flag && (no_color == nullptr || *no_color == 0) && isatty(fd) != 0;
}

int run(tc::Mode mode, const Common& common, tc::LiveOptions live, const std::string& target) {
    std::vector<std::string> paths = common.paths;
    if (paths.empty()) {
        paths.push_back(common.cases_dir.empty() ? tc::default_cases_dir() : common.cases_dir);
    }
    const tc::Suite suite = tc::load_suite(paths);
    for (const tc::LoadError& e : suite.errors) {
        std::cerr << e.path << ":" << e.error.line << ":" << e.error.column << ": "
                  << e.error.message << "\n";
    }
    if (!suite.errors.empty()) {
        std::cerr << suite.errors.size() << " transcript(s) could not be read\n";
        return 2;
    }
    std::vector<const tc::Case*> cases;
    for (const tc::Case& c : suite.cases) {
        if (tc::selected(c, mode, common.filters)) {
            cases.push_back(&c);
        }
    }
    if (common.list) {
        tc::print_list(std::cout, cases);
        return 0;
    }
    if (common.timeout_ms > 0) {
        live.timeout = std::chrono::milliseconds(common.timeout_ms);
    }
    if (live.run_id.empty()) {
        live.run_id = tc::make_run_id();
    }

    const std::string mode_name(tcpchat::transcript::mode_name(mode));
    std::string heading = "tcp-chat-conformance " + std::string(tcpchat::project_version) + ": " +
                          mode_name + " mode";
    if (!target.empty()) {
        heading += ", " + target;
    }
    heading += ", " + std::to_string(cases.size()) + " cases";
    if (mode == tc::Mode::server) {
        heading += ", run " + live.run_id;
    }
    std::cout << heading << "\n\n" << std::flush;

    const std::vector<tc::CaseResult> results = tc::run_suite(mode, cases, live);

    tc::ReportOptions report;
    report.color = want_color(common.no_color, STDOUT_FILENO);
    tc::print_report(std::cout, results, report);
    const auto write = [](const std::string& path, const auto& writer) {
        if (path.empty()) {
            return true;
        }
        std::ofstream out(path);
        writer(out);
        return bool(out);
    };
    const bool ok =
        write(common.junit, [&](std::ostream& o) { tc::write_junit(o, results, mode_name); }) &&
        write(common.json, [&](std::ostream& o) { tc::write_json(o, results, mode_name); }) &&
        write(common.html, [&](std::ostream& o) { tc::write_html(o, results, mode, heading); });
    if (!ok) {
        std::cerr << "cannot write a report file\n";
        return 2;
    }
    // 3: the run was cut short (the server stopped, or did not start); 1: a case failed. A
    // skipped case fails nothing.
    int status = 0;
    for (const tc::CaseResult& r : results) {
        if (r.not_run) {
            status = 3;
        } else if (!r.passed && !r.skipped && status == 0) {
            status = 1;
        }
    }
    return status;
}

struct GradeArgs {
    std::string list;
    std::string output = "grade";
    std::vector<std::string> filters;
    std::string cases_dir;
    int timeout_ms = 0;
    std::size_t jobs = std::max(1U, std::thread::hardware_concurrency());
    int time_limit_s = 300;
    bool no_color = false;
};

int grade(const GradeArgs& a) {
    namespace fs = std::filesystem;
    namespace tg = tc::grade;
    std::ifstream in(a.list);
    if (!in) {
        std::cerr << "cannot read " << a.list << "\n";
        return 2;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const tg::List list = tg::parse_list(text.str());
    for (const tg::ListError& e : list.errors) {
        std::cerr << a.list << ":" << e.line << ": " << e.message << "\n";
    }
    if (!list.errors.empty() || list.implementations.empty()) {
        std::cerr << (list.errors.empty() ? a.list + " names no implementation\n" : "");
        return 2;
    }
    tg::Options o;
    std::error_code ec;
    o.runner = fs::read_symlink("/proc/self/exe", ec).string();
    o.output_dir = fs::absolute(a.output).lexically_normal().string();
    o.workdir = fs::absolute(a.list).parent_path().string();
    o.cases_dir = fs::absolute(a.cases_dir.empty() ? tc::default_cases_dir() : a.cases_dir)
                      .lexically_normal()
                      .string();
    o.filters = a.filters;
    o.timeout_ms = a.timeout_ms;
    o.jobs = a.jobs;
    o.time_limit = std::chrono::seconds(a.time_limit_s);
    o.color = want_color(a.no_color, STDOUT_FILENO);
    fs::create_directories(o.output_dir, ec);
    if (ec) {
        std::cerr << "cannot create " << o.output_dir << ": " << ec.message() << "\n";
        return 2;
    }
    const tc::Suite suite = tc::load_suite({o.cases_dir});
    if (!suite.errors.empty()) {
        std::cerr << suite.errors.size() << " transcript(s) could not be read\n";
        return 2;
    }
    std::cout << "tcp-chat-conformance " << tcpchat::project_version << ": grade, "
              << list.implementations.size() << " implementations, " << o.jobs
              << " at a time, into " << o.output_dir << "\n"
              << std::flush;
    // Each run has its own process group, out of reach of the terminal's Ctrl-C: pass it on.
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const std::vector<tg::Run> runs =
        tg::run_all(list, o, std::cerr, isatty(STDERR_FILENO) != 0, &interrupted);
    const tg::Matrix matrix = tg::collect(runs, suite.cases, o);
    std::cout << "\n";
    tg::print_matrix(std::cout, matrix, o.color);
    const auto write = [&](const char* name, auto writer) {
        std::ofstream out(fs::path(o.output_dir) / name);
        writer(out, matrix);
        return bool(out);
    };
    if (!write("matrix.json", tg::write_matrix_json) ||
        !write("junit.xml", tg::write_matrix_junit) ||
        !write("index.html", tg::write_matrix_html)) {
        std::cerr << "cannot write the matrix into " << o.output_dir << "\n";
        return 2;
    }
    std::cout << "\nmatrix: " << (fs::path(o.output_dir) / "index.html").string() << "\n";
    for (const tg::Run& r : runs) {
        if (r.status != "completed") {
            return 1; // a run without its report; failing cases are the matrix's business
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"tcp-chat-conformance: holds a TCP-Chat codec, server or client to the golden "
                 "transcripts of the spec, case by case"};
    app.set_version_flag("--version", std::string(tcpchat::project_version));
    app.require_subcommand(1);

    Common codec_common;
    CLI::App* codec = app.add_subcommand(
        "codec", "Decode and re-encode every message of the transcripts with our codec");
    add_common(*codec, codec_common);

    Common server_common;
    tc::LiveOptions server_live;
    std::string server_target;
    CLI::App* server =
        app.add_subcommand("server", "Play the clients against a live server at HOST:PORT");
    server->add_option("HOST:PORT", server_target,
                       "The server under test, already running, e.g. 127.0.0.2:5555");
    add_common(*server, server_common);
    server->add_option("--exec", server_live.exec,
                       "Start the server under test with this command line instead ({port}: a "
                       "free port, {host}: --host), restart it after a crash");
    server->add_option("--host", server_live.server_host,
                       "With --exec: the address to connect to (default 127.0.0.2)");
    server->add_flag("--fresh", server_live.fresh,
                     "With --exec: restart the server before every case");
    int start_timeout_ms = 0;
    server
        ->add_option("--start-timeout", start_timeout_ms,
                     "With --exec: milliseconds the server may take to listen (default 10000)")
        ->check(CLI::PositiveNumber);
    server->add_option("--other-address", server_live.other_address,
                       "Source address for 'connect X server from another address' (default "
                       "127.0.0.3)");
    server->add_flag("!--no-drain", server_live.drain,
                     "Do not empty the server's waiting queue before each case");
    server->add_option("--run", server_live.run_id, "The ${run} value (default: random)");

    Common client_common;
    tc::LiveOptions client_live;
    CLI::App* client = app.add_subcommand(
        "client", "Run a client in a pseudo-terminal, play the server and its peer");
    client
        ->add_option("--exec", client_live.exec,
                     "The client's command line; {id}, {port} and {server} are replaced")
        ->required();
    add_common(*client, client_common);
    client->add_option("--run", client_live.run_id, "The ${run} value (default: random)");

    tc::RecordOptions rec;
    std::string listen;
    std::string record_target;
    CLI::App* record = app.add_subcommand(
        "record", "Proxy connections to a server and write what passes as a transcript");
    record
        ->add_option("--listen", listen,
                     "PORT or HOST:PORT to accept connections on (0: any free port, printed)")
        ->required();
    record->add_option("--target", record_target, "HOST:PORT of the server")->required();
    record->add_option("-o,--output", rec.output, "The transcript file to write")->required();
    record->add_option("--connections", rec.connections,
                       "Stop after this many connections (default: run until interrupted)");
    record->add_option("--title", rec.title, "The transcript's title");

    GradeArgs grade_args;
    CLI::App* grade_cmd = app.add_subcommand(
        "grade", "Run many implementations, listed in LIST, and write the matrix of their results");
    grade_cmd
        ->add_option("LIST", grade_args.list,
                     "The implementations: 'NAME: server = COMMAND', 'NAME: server-at = "
                     "HOST:PORT' or 'NAME: client = COMMAND' lines; # starts a comment")
        ->required();
    grade_cmd->add_option("-o,--output", grade_args.output,
                          "The folder of the reports, the matrix and its index.html (default "
                          "grade)");
    grade_cmd->add_option("-j,--jobs", grade_args.jobs, "Runs at a time (default: the cores)")
        ->check(CLI::PositiveNumber);
    grade_cmd
        ->add_option("--time-limit", grade_args.time_limit_s,
                     "Seconds each run may take before it is stopped (default 300)")
        ->check(CLI::PositiveNumber);
    grade_cmd->add_option("--filter,-f", grade_args.filters,
                          "Grade only these cases (as for server and client); repeatable");
    grade_cmd->add_option("--cases", grade_args.cases_dir, "The suite's directory");
    grade_cmd->add_option("--timeout", grade_args.timeout_ms, "Milliseconds per expectation")
        ->check(CLI::PositiveNumber);
    grade_cmd->add_flag("--no-color", grade_args.no_color, "No colours");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2; // --help and --version are not errors
    }

    if (*grade_cmd) {
        return grade(grade_args);
    }

    if (*codec) {
        return run(tc::Mode::codec, codec_common, {}, "");
    }
    if (*server || *client) {
        // Interrupted (Ctrl-C, or grade's time limit), the runner takes along what it started.
        tc::stop_groups_on_signal();
    }
    if (*server) {
        if (start_timeout_ms > 0) {
            server_live.start_timeout = std::chrono::milliseconds(start_timeout_ms);
        }
        if (!server_live.exec.empty()) {
            if (!server_target.empty()) {
                std::cerr << "HOST:PORT or --exec, not both\n";
                return 2;
            }
            return run(tc::Mode::server, server_common, server_live,
                       "--exec '" + server_live.exec + "'");
        }
        if (server_live.fresh || start_timeout_ms > 0) {
            std::cerr << "--fresh and --start-timeout need --exec\n";
            return 2;
        }
        if (!split_host_port(server_target, server_live.server_host, server_live.server_port)) {
            std::cerr << "HOST:PORT (e.g. 127.0.0.2:5555) or --exec COMMAND expected, not '"
                      << server_target << "'\n";
            return 2;
        }
        return run(tc::Mode::server, server_common, server_live, server_target);
    }
    if (*client) {
        return run(tc::Mode::client, client_common, client_live, "");
    }
    if (listen.find(':') == std::string::npos) {
        listen = "127.0.0.1:" + listen;
    }
    if (!split_host_port(listen, rec.listen_host, rec.listen_port, true) ||
        !split_host_port(record_target, rec.target_host, rec.target_port)) {
        std::cerr << "--listen PORT|HOST:PORT and --target HOST:PORT expected\n";
        return 2;
    }
    rec.stop = &interrupted;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    return tc::record(rec, std::cerr);
}
