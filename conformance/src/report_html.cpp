// The HTML report: one self-contained page with a summary by spec section, then every case with
// its verdict, the bytes that differ, the exchange as a sequence diagram and what the
// implementation printed. Failing cases are listed first in the summary and open on the page.
#include "html.hpp"
#include "outcome.hpp"
#include "sequence_diagram.hpp"

#include <map>
#include <ostream>

namespace tcpchat::conformance {

namespace {

std::string anchor(const Case& c) {
    return "case-" + html::escape(c.name);
}

// Escaped bytes with the byte at `at` (of the raw bytes) marked; past the end, a marked gap.
std::string marked(std::string_view bytes, std::size_t at) {
    const std::string all = transcript::quote(bytes);
    const std::size_t begin = escaped_width(bytes, at) + 1;
    const std::size_t end = at < bytes.size() ? escaped_width(bytes, at + 1) + 1 : begin;
    const std::string hit = end > begin ? all.substr(begin, end - begin) : "\xE2\x80\x8B";
    return html::escape(all.substr(0, begin)) + "<mark>" + html::escape(hit) + "</mark>" +
           html::escape(all.substr(begin + (end - begin)));
}

void failure_html(std::ostream& out, const CaseResult& r) {
    const Failure& f = *r.failure;
    out << "<p class=\"message\">violates " << html::escape(sections_of(*r.test)) << " (line "
        << f.line << "): " << html::escape(f.message) << "</p>\n";
    if (f.expected.empty() && f.actual.empty()) {
        return;
    }
    out << "<div class=\"diff\">";
    if (f.bytes) {
        const std::size_t diff = first_difference(f.expected, f.actual);
        out << "<span class=\"label\">expected</span><span class=\"bytes expected\">"
            << marked(f.expected, diff) << "</span>"
            << "<span class=\"label\">actual</span><span class=\"bytes actual\">"
            << marked(f.actual, diff) << "</span><span class=\"where\">first difference at byte "
            << diff << "</span>";
    } else {
        out << "<span class=\"label\">expected</span><span class=\"bytes expected\">"
            << html::escape(f.expected) << "</span><span class=\"label\">actual</span>"
            << "<span class=\"bytes actual\">" << html::escape(f.actual) << "</span>";
    }
    out << "</div>\n";
}

void case_html(std::ostream& out, const CaseResult& r, Mode mode) {
    const Verdict v = verdict(r);
    const bool open = v == Verdict::failed || v == Verdict::crashed;
    out << "<details class=\"case " << html::verdict_class(v) << "\" id=\"" << anchor(*r.test)
        << "\" data-verdict=\"" << verdict_key(v) << "\"" << (open ? " open" : "")
        << ">\n<summary><span class=\"badge\">" << verdict_name(v) << "</span> <code>"
        << html::escape(r.test->name) << "</code> <span class=\"why\">" << html::escape(r.test->why)
        << "</span></summary>\n<div class=\"body\">\n"
        << "<p class=\"meta\">" << html::escape(r.test->title) << " &middot; "
        << html::escape(sections_of(*r.test)) << " &middot; " << r.elapsed.count() << " ms</p>\n";
    if (r.skipped) {
        out << "<p class=\"reason\">skipped: " << html::escape(*r.skipped) << "</p>\n";
    }
    if (r.not_run) {
        out << "<p class=\"reason\">not run: " << html::escape(*r.not_run) << "</p>\n";
    }
    if (r.crashed) {
        out << "<div class=\"crash\"><p class=\"message\">crashed: "
            << html::escape(r.crashed->what) << "</p>";
        if (!r.crashed->last_output.empty()) {
            out << "<pre class=\"output last-output\">" << html::escape(r.crashed->last_output)
                << "</pre>";
        }
        out << "</div>\n";
    }
    if (r.failure) {
        failure_html(out, r);
    }
    if (!r.note.empty()) {
        out << "<p class=\"meta note\">Note: " << html::escape(r.note) << "</p>\n";
    }
    const std::optional<std::size_t> fault =
        r.failure ? std::optional<std::size_t>(r.failure->line) : std::nullopt;
    out << "<figure class=\"sequence\">" << sequence_diagram(*r.test, mode, fault)
        << "<figcaption>The exchange as the transcript has it";
    if (fault) {
        out << "; in red, the step where the case failed";
    }
    out << ".</figcaption></figure>\n";
    if (!r.output.empty()) {
        out << "<h4>What the implementation printed</h4>\n<pre class=\"output\">"
            << html::escape(r.output) << "</pre>\n";
    }
    out << "</div>\n</details>\n";
}

void summary_html(std::ostream& out, const std::vector<CaseResult>& results) {
    std::map<std::string, Tally, bool (*)(const std::string&, const std::string&)> by_section(
        &section_less);
    for (const CaseResult& r : results) {
        by_section[r.test->sections.front()].add(verdict(r));
    }
    out << "<h2>By spec section</h2>\n<table class=\"summary\">\n<tr><th>Section</th><th></th>";
    for (const Verdict v : html::verdicts) {
        out << "<th>" << verdict_name(v) << "</th>";
    }
    out << "</tr>\n";
    for (const auto& [section, t] : by_section) {
        out << "<tr><td>" << html::escape(section_heading(section))
            << "</td><td class=\"bar-cell\"><div class=\"bar\">";
        for (const Verdict v : html::verdicts) {
            if (t[v] > 0) {
                out << "<span class=\"" << html::verdict_class(v)
                    << "\" style=\"width:" << 100.0 * double(t[v]) / double(t.total())
                    << "%\"></span>";
            }
        }
        out << "</div></td>";
        for (const Verdict v : html::verdicts) {
            out << "<td class=\"n" << (t[v] == 0 ? " zero" : "") << "\">" << t[v] << "</td>";
        }
        out << "</tr>\n";
    }
    out << "</table>\n";
    bool any = false;
    for (const CaseResult& r : results) {
        const Verdict v = verdict(r);
        if (v != Verdict::failed && v != Verdict::crashed) {
            continue;
        }
        if (!any) {
            out << "<h2>Failures</h2>\n<ul class=\"failures\">\n";
            any = true;
        }
        out << "<li><span class=\"badge " << html::verdict_class(v) << "\">" << verdict_name(v)
            << "</span> <a href=\"#" << anchor(*r.test) << "\"><code>" << html::escape(r.test->name)
            << "</code></a> " << html::escape(r.test->why) << "</li>\n";
    }
    if (any) {
        out << "</ul>\n";
    }
}

} // namespace

void write_html(std::ostream& out, const std::vector<CaseResult>& results, Mode mode,
                std::string_view heading) {
    const std::string title =
        "tcp-chat-conformance: " + std::string(transcript::mode_name(mode)) + " mode";
    html::begin_page(out, title);
    out << "<header>\n<h1>" << html::escape(title) << "</h1>\n<p class=\"heading\">"
        << html::escape(heading) << "</p>\n<div class=\"totals\">";
    const Tally t = tally(results);
    for (const Verdict v : html::verdicts) {
        if (t[v] > 0 || v == Verdict::passed || v == Verdict::failed) {
            out << "<span class=\"badge " << html::verdict_class(v) << "\" data-count=\""
                << verdict_key(v) << "\">" << t[v] << " " << verdict_name(v) << "</span>";
        }
    }
    out << "</div>\n</header>\n";
    summary_html(out, results);
    out << "<h2>Cases</h2>\n";
    std::string group;
    for (const CaseResult& r : results) {
        if (r.test->sections.front() != group) {
            group = r.test->sections.front();
            out << "<h3>" << html::escape(section_heading(group)) << "</h3>\n";
        }
        case_html(out, r, mode);
    }
    out << "<footer>Made by tcp-chat-conformance from the golden transcripts of the TCP-Chat "
           "specification.</footer>\n";
    html::end_page(out);
}

} // namespace tcpchat::conformance
