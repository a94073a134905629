// Reports (spec/transcript-format.md §T.9): the h2spec-like terminal report, JUnit XML, JSON.
#include "tcpchat/conformance.hpp"

#include <algorithm>
#include <map>
#include <ostream>

namespace tcpchat::conformance {

namespace {

constexpr char hex[] = "0123456789ABCDEF";

// The escaped form of bytes[0, n) as escape_bytes writes it, without the opening quote.
std::size_t escaped_width(std::string_view bytes, std::size_t n) {
    return escape_bytes(bytes.substr(0, n)).size() - 2;
}

std::string sections_of(const Case& c) {
    std::string out;
    for (const std::string& s : c.sections) {
        out += (out.empty() ? "\xC2\xA7" : ", \xC2\xA7") + s;
    }
    return out;
}

std::string section_heading(const std::string& s) {
    const std::string_view title = section_title(s);
    return "\xC2\xA7" + s + (title.empty() ? "" : " " + std::string(title));
}

struct Paint {
    bool on;
    std::string operator()(std::string_view code, std::string_view text) const {
        return on ? "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m"
                  : std::string(text);
    }
};

void print_failure(std::ostream& out, const CaseResult& r, const Paint& paint) {
    const Failure& f = *r.failure;
    out << "      -> " << paint("31", "violates " + sections_of(*r.test)) << " (line " << f.line
        << "): " << f.message << "\n";
    if (f.expected.empty() && f.actual.empty()) {
        return;
    }
    if (!f.bytes) {
        // Rendered values, one per line.
        auto block = [&out](std::string_view label, std::string_view text) {
            out << "         " << label;
            bool first = true;
            std::size_t start = 0;
            while (start < text.size()) {
                const auto nl = text.find('\n', start);
                const auto line =
                    text.substr(start, nl == std::string_view::npos ? nl : nl - start);
                out << (first ? "" : "\n                   ") << line;
                first = false;
                if (nl == std::string_view::npos) {
                    break;
                }
                start = nl + 1;
            }
            out << "\n";
        };
        block("expected: ", f.expected);
        block("  actual: ", f.actual);
        return;
    }
    std::size_t diff = 0;
    while (diff < f.expected.size() && diff < f.actual.size() &&
           f.expected[diff] == f.actual[diff]) {
        ++diff;
    }
    out << "         expected: " << escape_bytes(f.expected) << "\n";
    out << "           actual: " << escape_bytes(f.actual) << "\n";
    out << "                   " << std::string(escaped_width(f.expected, diff) + 1, ' ')
        << paint("33", "^") << " first difference at byte " << diff << "\n";
}

std::string xml(std::string_view s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
                out += ' ';
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::string json(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (u < 0x20 || u >= 0x7F) { // bytes, not necessarily UTF-8: keep the JSON ASCII
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 0xF];
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

bool failed(const CaseResult& r) {
    return !r.passed && !r.skipped;
}

std::string shown(const Failure& f, const std::string& s) {
    return f.bytes ? escape_bytes(s) : s;
}

} // namespace

std::string escape_bytes(std::string_view bytes) {
    std::string out = "\"";
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (u < 0x20 || u >= 0x7F) {
                out += "\\x";
                out += hex[u >> 4];
                out += hex[u & 0xF];
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
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
    std::size_t passed = 0;
    std::size_t failed = 0;
    std::size_t skipped = 0;
    std::size_t not_run = 0;
    const std::string* cut = nullptr; // a reason for not running, shown once for a series
    for (const CaseResult& r : results) {
        if (r.test->sections.front() != group) {
            if (!group.empty()) {
                out << "\n";
            }
            group = r.test->sections.front();
            out << section_heading(group) << "\n";
        }
        const std::string mark = r.skipped   ? paint("33", "-")
                                 : r.not_run ? paint("33", "\xC2\xB7")
                                 : r.passed  ? paint("32", "\xE2\x9C\x94")
                                             : paint("31", "\xC3\x97");
        out << "  " << mark << " " << r.test->name << ": " << r.test->why << "\n";
        if (r.not_run) {
            ++not_run;
            if (cut == nullptr || *cut != *r.not_run) {
                out << "      -> " << paint("33", "not run") << ": " << *r.not_run << "\n";
            }
            cut = &*r.not_run;
            continue;
        }
        if (r.skipped) {
            ++skipped;
            out << "      -> " << paint("33", "skipped") << ": " << *r.skipped << "\n";
        } else if (r.passed) {
            ++passed;
        } else {
            ++failed;
            if (r.failure) {
                print_failure(out, r, paint);
            }
            if (!r.crashed && !r.note.empty()) {
                out << "      -> " << r.note << "\n";
            }
            if (r.crashed) {
                out << "      -> " << paint("31", "crashed") << ": " << r.crashed->what
                    << (r.note.empty() ? "" : "; " + r.note) << "\n";
                std::size_t start = 0;
                const std::string& text = r.crashed->last_output;
                while (start < text.size()) {
                    const auto nl = std::min(text.find('\n', start), text.size());
                    out << "         | " << std::string_view(text).substr(start, nl - start)
                        << "\n";
                    start = nl + 1;
                }
            }
        }
    }
    if (!results.empty()) {
        out << "\n";
    }
    out << passed << " passed, " << failed << " failed";
    if (skipped > 0) {
        out << ", " << skipped << " skipped";
    }
    if (not_run > 0) {
        out << ", " << not_run << " not run";
    }
    out << "\n";
}

void write_junit(std::ostream& out, const std::vector<CaseResult>& results, std::string_view mode) {
    std::map<std::string, std::vector<const CaseResult*>,
             bool (*)(const std::string&, const std::string&)>
        groups(&section_less);
    std::size_t failures = 0;
    std::size_t skips = 0;
    for (const CaseResult& r : results) {
        groups[r.test->sections.front()].push_back(&r);
        failures += failed(r) ? 1 : 0;
        skips += r.skipped ? 1 : 0;
    }
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << "<testsuites name=\"tcp-chat-conformance " << xml(mode) << "\" tests=\""
        << results.size() << "\" failures=\"" << failures << "\" skipped=\"" << skips << "\">\n";
    for (const auto& [section, rs] : groups) {
        std::size_t f = 0;
        std::size_t k = 0;
        for (const CaseResult* r : rs) {
            f += failed(*r) ? 1 : 0;
            k += r->skipped ? 1 : 0;
        }
        out << "  <testsuite name=\"" << xml(section_heading(section)) << "\" tests=\"" << rs.size()
            << "\" failures=\"" << f << "\" skipped=\"" << k << "\">\n";
        for (const CaseResult* r : rs) {
            out << "    <testcase classname=\"" << xml(mode) << ".\xC2\xA7" << xml(section)
                << "\" name=\"" << xml(r->test->name) << "\" time=\""
                << double(r->elapsed.count()) / 1000.0 << "\"";
            if (r->skipped) {
                out << ">\n      <skipped message=\"" << xml(*r->skipped)
                    << "\"/>\n    </testcase>\n";
                continue;
            }
            if (r->passed) {
                out << "/>\n";
                continue;
            }
            out << ">\n      <failure message=\"";
            if (r->failure) {
                const Failure& fl = *r->failure;
                out << xml("violates " + sections_of(*r->test) + " (line " +
                           std::to_string(fl.line) + "): " + fl.message)
                    << "\">" << xml(r->test->why) << "\nexpected: " << xml(shown(fl, fl.expected))
                    << "\n  actual: " << xml(shown(fl, fl.actual));
            } else {
                out << "failed\">";
            }
            out << "</failure>\n    </testcase>\n";
        }
        out << "  </testsuite>\n";
    }
    out << "</testsuites>\n";
}

void write_json(std::ostream& out, const std::vector<CaseResult>& results, std::string_view mode) {
    std::size_t passed = 0;
    std::size_t skipped = 0;
    for (const CaseResult& r : results) {
        passed += r.passed ? 1 : 0;
        skipped += r.skipped ? 1 : 0;
    }
    out << "{\n  \"mode\": " << json(mode) << ",\n  \"passed\": " << passed
        << ",\n  \"failed\": " << results.size() - passed - skipped
        << ",\n  \"skipped\": " << skipped << ",\n  \"cases\": [";
    bool first = true;
    for (const CaseResult& r : results) {
        out << (first ? "\n" : ",\n") << "    {\"name\": " << json(r.test->name)
            << ", \"title\": " << json(r.test->title) << ", \"why\": " << json(r.test->why)
            << ", \"sections\": [";
        for (std::size_t i = 0; i < r.test->sections.size(); ++i) {
            out << (i ? ", " : "") << json(r.test->sections[i]);
        }
        out << "], \"outcome\": "
            << json(r.skipped  ? "skipped"
                    : r.passed ? "passed"
                               : "failed")
            << ", \"elapsed_ms\": " << r.elapsed.count();
        if (r.skipped) {
            out << ", \"reason\": " << json(*r.skipped);
        }
        if (r.failure) {
            const Failure& f = *r.failure;
            out << ", \"line\": " << f.line << ", \"message\": " << json(f.message)
                << ", \"expected\": " << json(shown(f, f.expected))
                << ", \"actual\": " << json(shown(f, f.actual));
        }
        out << "}";
        first = false;
    }
    out << "\n  ]\n}\n";
}

} // namespace tcpchat::conformance
