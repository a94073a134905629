// grade's runs: this same binary in server or client mode, one process group per run, at most
// `jobs` at a time, each stopped at its time limit.
#include "tcpchat/grade.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace tcpchat::conformance::grade {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// After SIGTERM, the runner has this long to stop the implementation it started.
constexpr auto grace = std::chrono::seconds(3);

struct Job {
    Run run;
    std::vector<std::string> argv;
    pid_t pid = -1;
    Clock::time_point started, deadline;
    bool terminated = false;  // SIGTERM sent; SIGKILL at the next deadline
    bool interrupted = false; // by the grade's stop, not by the time limit
};

std::vector<Job> jobs_of(const List& list, const Options& o) {
    std::vector<Job> jobs;
    const auto add = [&](const Implementation& i, transcript::Mode mode,
                         std::vector<std::string> target, std::string shown) {
        Job j;
        const std::string m(transcript::mode_name(mode));
        j.run.implementation = i.name;
        j.run.mode = mode;
        j.run.target = std::move(shown);
        j.run.json = i.name + "/" + m + ".json";
        j.run.html = i.name + "/" + m + ".html";
        j.run.junit = i.name + "/" + m + ".xml";
        j.run.log = i.name + "/" + m + ".log";
        j.argv = {o.runner, m};
        j.argv.insert(j.argv.end(), target.begin(), target.end());
        for (const auto& [flag, file] :
             {std::pair{"--json", j.run.json}, {"--html", j.run.html}, {"--junit", j.run.junit}}) {
            j.argv.insert(j.argv.end(), {flag, (fs::path(o.output_dir) / file).string()});
        }
        j.argv.insert(j.argv.end(), {"--no-color", "--cases", o.cases_dir});
        for (const std::string& f : o.filters) {
            j.argv.insert(j.argv.end(), {"--filter", f});
        }
        if (o.timeout_ms > 0) {
            j.argv.insert(j.argv.end(), {"--timeout", std::to_string(o.timeout_ms)});
        }
        jobs.push_back(std::move(j));
    };
    for (const Implementation& i : list.implementations) {
        if (!i.server.empty()) {
            add(i, transcript::Mode::server, {"--exec", i.server}, i.server);
        } else if (!i.server_at.empty()) {
            add(i, transcript::Mode::server, {i.server_at}, i.server_at);
        }
        if (!i.client.empty()) {
            add(i, transcript::Mode::client, {"--exec", i.client}, i.client);
        }
    }
    return jobs;
}

// Everything is prepared before the fork; the child only redirects, changes folder and execs.
pid_t start(Job& j, const Options& o) {
    const fs::path log = fs::path(o.output_dir) / j.run.log;
    std::error_code ec;
    fs::create_directories(log.parent_path(), ec);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    std::vector<char*> argv;
    for (std::string& a : j.argv) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0); // its own group: a time limit stops the implementation under it too
        if (out < 0 || null < 0 || ::dup2(null, 0) < 0 || ::dup2(out, 1) < 0 ||
            ::dup2(out, 2) < 0 || ::chdir(o.workdir.c_str()) != 0) {
            ::_exit(127);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    if (pid > 0) {
        ::setpgid(pid, pid);
    }
    if (out >= 0) {
        ::close(out);
    }
    if (null >= 0) {
        ::close(null);
    }
    return pid;
}

// "23 passed, 0 failed" from the run's JSON report, or why there is none.
std::string summary_of(const Run& r, const Options& o) {
    if (r.status != "completed") {
        return r.status + (r.error.empty() ? "" : ": " + r.error);
    }
    std::ifstream in(fs::path(o.output_dir) / r.json);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return "completed";
    }
    std::string s = std::to_string(j.value("passed", 0)) + " passed, " +
                    std::to_string(j.value("failed", 0)) + " failed";
    for (const char* k : {"crashed", "skipped", "not_run"}) {
        if (j.value(k, 0) > 0) {
            s += ", " + std::to_string(j.value(k, 0)) + " " + (k[0] == 'n' ? "not run" : k);
        }
    }
    return s;
}

// The last non-empty line of a log, for the reason a run failed.
std::string last_line(const fs::path& log) {
    std::ifstream in(log);
    std::string line, last;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            last = line;
        }
    }
    return last;
}

void finish(Job& j, int status, const Options& o) {
    j.run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - j.started);
    if (WIFEXITED(status)) {
        j.run.exit_status = WEXITSTATUS(status);
    }
    const bool report = fs::exists(fs::path(o.output_dir) / j.run.json);
    if (j.interrupted) {
        j.run.status = "failed";
        j.run.error = "interrupted";
    } else if (j.terminated) {
        j.run.status = "timed out";
        j.run.error = "stopped after " + std::to_string(o.time_limit.count()) + " s";
    } else if (report) { // whatever the cases did: failed (1), some not run (3)
        j.run.status = "completed";
    } else {
        j.run.status = "failed";
        const std::string why = last_line(fs::path(o.output_dir) / j.run.log);
        j.run.error = (j.run.exit_status
                           ? "the runner exited with status " + std::to_string(*j.run.exit_status)
                       : WIFSIGNALED(status) ? std::string("the runner was killed by ") +
                                                   ::strsignal(WTERMSIG(status))
                                             : std::string("the runner did not finish")) +
                      (why.empty() ? "" : ": " + why);
    }
}

std::string name_of(const Run& r) {
    return r.implementation + " " + std::string(transcript::mode_name(r.mode));
}

} // namespace

std::vector<Run> run_all(const List& list, const Options& o, std::ostream& progress, bool terminal,
                         const std::atomic<bool>* stop) {
    std::vector<Job> jobs = jobs_of(list, o);
    std::size_t next = 0;
    std::size_t done = 0;
    std::size_t running = 0;
    const auto show = [&](const std::string& finished) {
        if (terminal) {
            progress << "\r\x1b[K";
            if (!finished.empty()) {
                progress << finished << "\n";
            }
            std::string names;
            for (const Job& j : jobs) {
                if (j.pid > 0) {
                    names += " " + name_of(j.run);
                }
            }
            if (!names.empty()) {
                progress << "[" << done << "/" << jobs.size() << "] running:" << names;
            }
        } else if (!finished.empty()) {
            progress << finished << "\n";
        }
        progress << std::flush;
    };
    bool stopping = false;
    while (done < jobs.size()) {
        if (!stopping && stop != nullptr && *stop) {
            stopping = true;
            for (; next < jobs.size(); ++next, ++done) {
                jobs[next].run.status = "failed";
                jobs[next].run.error = "interrupted before it started";
            }
            for (Job& j : jobs) {
                if (j.pid > 0) {
                    j.interrupted = true;
                    j.deadline = Clock::now();
                }
            }
        }
        while (running < o.jobs && next < jobs.size()) {
            Job& j = jobs[next++];
            std::error_code ec;
            // No stale report from an earlier grade into the same folder: the index links them.
            for (const std::string* file : {&j.run.json, &j.run.html, &j.run.junit}) {
                fs::remove(fs::path(o.output_dir) / *file, ec);
            }
            j.started = Clock::now();
            j.deadline = j.started + o.time_limit;
            j.pid = start(j, o);
            if (j.pid < 0) {
                j.run.status = "failed";
                j.run.error = std::string("cannot start the runner: ") + std::strerror(errno);
                ++done;
                show("[" + std::to_string(done) + "/" + std::to_string(jobs.size()) + "] " +
                     name_of(j.run) + ": " + j.run.error);
                continue;
            }
            ++running;
            show("");
        }
        // A run that ended is seen before it is reaped, so that its group id, still held by the
        // zombie, cannot have gone to another process when what it left behind is killed.
        siginfo_t ended{};
        if (::waitid(P_ALL, 0, &ended, WEXITED | WNOHANG | WNOWAIT) == 0 && ended.si_pid > 0) {
            const pid_t pid = ended.si_pid;
            ::kill(-pid, SIGKILL); // whatever the runner left behind in its group
            int status = 0;
            ::waitpid(pid, &status, 0);
            for (Job& j : jobs) {
                if (j.pid != pid) {
                    continue;
                }
                j.pid = -1;
                finish(j, status, o);
                --running;
                ++done;
                char seconds[32];
                std::snprintf(seconds, sizeof seconds, " (%.1f s)",
                              double(j.run.elapsed.count()) / 1000.0);
                show("[" + std::to_string(done) + "/" + std::to_string(jobs.size()) + "] " +
                     name_of(j.run) + ": " + summary_of(j.run, o) + seconds);
            }
            continue;
        }
        const auto now = Clock::now();
        for (Job& j : jobs) {
            if (j.pid > 0 && now >= j.deadline) {
                ::kill(-j.pid, j.terminated ? SIGKILL : SIGTERM);
                j.terminated = true;
                j.deadline = now + grace;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::vector<Run> runs;
    for (Job& j : jobs) {
        runs.push_back(std::move(j.run));
    }
    return runs;
}

} // namespace tcpchat::conformance::grade
