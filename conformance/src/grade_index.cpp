// grade's index page: each implementation's runs with links to their reports and logs, then the
// matrix, each cell linking to the case in that implementation's report.
#include "html.hpp"
#include "tcpchat/grade.hpp"

#include <ostream>

namespace tcpchat::conformance::grade {

namespace {

// A link to a file of the output folder, which the pages sit in.
std::string link(const std::string& file, const std::string& text) {
    return "<a href=\"" + html::escape(file) + "\">" + html::escape(text) + "</a>";
}

void runs_html(std::ostream& out, const Matrix& m) {
    out << "<h2>Implementations</h2>\n<table class=\"runs\">\n<tr><th>Implementation</th>"
           "<th>Mode</th><th>Under test</th><th>Result</th><th>Reports</th></tr>\n";
    for (const Run& r : m.runs) {
        Tally t;
        for (const Row& row : m.rows) {
            const auto c = row.cells.find(r.implementation);
            if (row.mode == r.mode && c != row.cells.end()) {
                t.add(verdict_of_key(c->second.outcome).value_or(Verdict::failed));
            }
        }
        out << "<tr class=\"run\" data-implementation=\"" << html::escape(r.implementation)
            << "\" data-mode=\"" << transcript::mode_name(r.mode) << "\"><td><strong>"
            << html::escape(r.implementation) << "</strong></td><td>"
            << transcript::mode_name(r.mode) << "</td><td><code>" << html::escape(r.target)
            << "</code></td><td><div class=\"totals\">";
        for (const Verdict v : html::verdicts) {
            if (t[v] > 0) {
                out << "<span class=\"badge " << html::verdict_class(v) << "\">" << t[v] << " "
                    << verdict_name(v) << "</span>";
            }
        }
        out << "</div>";
        if (r.status != "completed") {
            out << "<p class=\"message\">" << html::escape(r.status + ": " + r.error) << "</p>";
        }
        out << "</td><td>";
        if (r.status == "completed") {
            out << link(r.html, "report") << " &middot; " << link(r.json, "JSON") << " &middot; "
                << link(r.junit, "JUnit") << " &middot; ";
        }
        out << link(r.log, "log") << "</td></tr>\n";
    }
    out << "</table>\n";
}

void matrix_html(std::ostream& out, const Matrix& m) {
    const std::vector<SectionTotal> totals = section_totals(m);
    auto total = totals.begin();
    std::optional<transcript::Mode> mode;
    for (const Row& row : m.rows) {
        if (mode != row.mode) {
            if (mode) {
                out << "</table>\n";
            }
            mode = row.mode;
            out << "<h2>" << transcript::mode_name(row.mode)
                << " mode</h2>\n<table class=\"matrix\">\n<tr><th>Case</th>";
            for (const std::string& name : m.implementations) {
                out << "<th>" << html::escape(name) << "</th>";
            }
            out << "</tr>\n";
        }
        if (total != totals.end() && total->mode == row.mode &&
            total->section == row.sections.front()) {
            out << "<tr class=\"section\"><td>" << html::escape(section_heading(total->section))
                << "</td>";
            for (const std::string& name : m.implementations) {
                const auto p = total->passed.find(name);
                out << "<td class=\"v\">"
                    << (p == total->passed.end()
                            ? ""
                            : std::to_string(p->second) + "/" + std::to_string(total->cases))
                    << "</td>";
            }
            out << "</tr>\n";
            ++total;
        }
        out << "<tr class=\"case\"><td><code>" << html::escape(row.name)
            << "</code> <span class=\"why\">" << html::escape(row.why) << "</span></td>";
        for (const std::string& name : m.implementations) {
            const auto c = row.cells.find(name);
            if (c == row.cells.end()) {
                out << "<td></td>";
                continue;
            }
            const Verdict v = verdict_of_key(c->second.outcome).value_or(Verdict::failed);
            std::string report;
            for (const Run& r : m.runs) {
                if (r.implementation == name && r.mode == row.mode && r.status == "completed") {
                    report = r.html + "#case-" + row.name;
                }
            }
            const std::string title = std::string(verdict_name(v)) +
                                      (c->second.message.empty() ? "" : ": " + c->second.message);
            out << "<td class=\"v " << html::verdict_class(v) << "\" data-outcome=\""
                << html::escape(c->second.outcome) << "\" title=\"" << html::escape(title) << "\">"
                << (report.empty() ? mark(v, Paint{}) : link(report, mark(v, Paint{}))) << "</td>";
        }
        out << "</tr>\n";
    }
    if (mode) {
        out << "</table>\n";
    }
}

} // namespace

void write_matrix_html(std::ostream& out, const Matrix& m) {
    html::begin_page(out, "tcp-chat-conformance: grade");
    out << "<header>\n<h1>tcp-chat-conformance: grade</h1>\n<p class=\"heading\">"
        << m.implementations.size() << " implementations, " << m.runs.size() << " runs, "
        << m.rows.size() << " cases</p>\n</header>\n";
    runs_html(out, m);
    matrix_html(out, m);
    out << "<footer>Made by tcp-chat-conformance grade. Each mark links to the case in that "
           "implementation's report.</footer>\n";
    html::end_page(out);
}

} // namespace tcpchat::conformance::grade
