// The h2spec-like terminal report and the case list (spec/transcript-format.md §T.9).
#include "outcome.hpp"

#include <algorithm>
#include <ostream>

namespace tcpchat::conformance {

namespace {

// Calls `f` with each line of `text` (a last line without its newline too).
template <typename F>
void for_each_line(std::string_view text, F f) {
    std::size_t start = 0;
    while (start < text.size()) {
        const auto nl = std::min(text.find('\n', start), text.size());
        f(text.substr(start, nl - start));
        start = nl + 1;
    }
}

// Lines of text after `label`, continuation lines aligned under the first.
void block(std::ostream& out, std::string_view indent, std::string_view label,
           std::string_view text) {
    out << indent << label;
    const std::string continuation(indent.size() + label.size(), ' ');
    bool first = true;
    for_each_line(text, [&](std::string_view line) {
        out << (first ? "" : "\n" + continuation) << line;
        first = false;
    });
    out << "\n";
}

void print_failure(std::ostream& out, const CaseResult& r, const Paint& paint) {
    const Failure& f = *r.failure;
    out << "      -> " << paint("31", "violates " + sections_of(*r.test)) << " (line " << f.line
        << "): " << f.message << "\n";
    if (f.expected.empty() && f.actual.empty()) {
        return;
    }
    if (!f.bytes) {
        block(out, "         ", "expected: ", f.expected);
        block(out, "         ", "  actual: ", f.actual);
        return;
    }
    const std::size_t diff = first_difference(f.expected, f.actual);
    out << "         expected: " << transcript::quote(f.expected) << "\n";
    out << "           actual: " << transcript::quote(f.actual) << "\n";
    out << "                   " << std::string(escaped_width(f.expected, diff) + 1, ' ')
        << paint("33", "^") << " first difference at byte " << diff << "\n";
}

} // namespace

std::string Paint::operator()(std::string_view code, std::string_view text) const {
    return on ? "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m"
              : std::string(text);
}

std::string mark(Verdict v, const Paint& paint) {
    switch (v) {
    case Verdict::passed: return paint("32", "\xE2\x9C\x94");
    case Verdict::failed: return paint("31", "\xC3\x97");
    case Verdict::crashed: return paint("35", "!");
    case Verdict::skipped: return paint("33", "-");
    case Verdict::not_run: return paint("33", "\xC2\xB7");
    }
    return "?";
}

void print_list(std::ostream& out, const std::vector<const Case*>& cases) {
    std::string group;
    for (const Case* c : cases) {
        if (c->sections.front() != group) {
            group = c->sections.front();
            out << section_heading(group) << "\n";
        }
        out << "  " << c->name << ": " << c->why << "\n";
    }
    out << cases.size() << " cases\n";
}

void print_report(std::ostream& out, const std::vector<CaseResult>& results,
                  const ReportOptions& options) {
    const Paint paint{options.color};
    if (!options.heading.empty()) {
        out << options.heading << "\n\n";
    }
    std::string group;
    const std::string* cut = nullptr; // a reason for not running, shown once for a series
    for (const CaseResult& r : results) {
        if (r.test->sections.front() != group) {
            if (!group.empty()) {
                out << "\n";
            }
            group = r.test->sections.front();
            out << section_heading(group) << "\n";
        }
        const Verdict v = verdict(r);
        // A crashed case is a failed one (§T.9): marked as such, the crash told below.
        out << "  " << mark(v == Verdict::crashed ? Verdict::failed : v, paint) << " "
            << r.test->name << ": " << r.test->why << "\n";
        switch (v) {
        case Verdict::not_run:
            if (cut == nullptr || *cut != *r.not_run) {
                out << "      -> " << paint("33", "not run") << ": " << *r.not_run << "\n";
            }
            cut = &*r.not_run;
            break;
        case Verdict::skipped:
            out << "      -> " << paint("33", "skipped") << ": " << *r.skipped << "\n";
            break;
        case Verdict::failed:
        case Verdict::crashed:
            if (r.failure) {
                print_failure(out, r, paint);
            }
            if (!r.crashed && !r.note.empty()) {
                out << "      -> " << r.note << "\n"; // e.g. a client still running at the end
            }
            if (r.crashed) {
                out << "      -> " << paint("31", "crashed") << ": " << r.crashed->what
                    << (r.note.empty() ? "" : "; " + r.note) << "\n";
                for_each_line(r.crashed->last_output, [&out](std::string_view line) {
                    out << "         | " << line << "\n";
                });
            }
            break;
        case Verdict::passed:
            if (!r.note.empty()) {
                out << "      -> " << r.note << "\n"; // e.g. the port it was given was taken
            }
            break;
        }
    }
    if (!results.empty()) {
        out << "\n";
    }
    const Tally t = tally(results);
    out << t[Verdict::passed] << " passed, " << t[Verdict::failed] + t[Verdict::crashed]
        << " failed";
    for (const Verdict v : {Verdict::skipped, Verdict::not_run}) {
        if (t[v] > 0) {
            out << ", " << t[v] << " " << verdict_name(v);
        }
    }
    out << "\n";
}

} // namespace tcpchat::conformance
