// grade's matrix: the selected cases of the suite, with each run's outcome read back from the
// JSON report it wrote (conformance/schema/report.json).
#include "tcpchat/conformance.hpp"
#include "tcpchat/grade.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace tcpchat::conformance::grade {

namespace {

namespace fs = std::filesystem;

// The cells of one run by case name; empty when its report is missing or unreadable.
std::map<std::string, Cell> cells_of(const Run& r, const Options& o) {
    std::map<std::string, Cell> cells;
    if (r.status != "completed") {
        return cells;
    }
    std::ifstream in(fs::path(o.output_dir) / r.json);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("cases") || !j["cases"].is_array()) {
        return cells;
    }
    for (const auto& c : j["cases"]) {
        if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) {
            continue;
        }
        Cell cell{c.value("outcome", "failed"), c.value("message", "")};
        if (c.contains("crash") && c["crash"].is_object()) {
            cell.message = c["crash"].value("what", "");
        } else if (cell.message.empty()) {
            cell.message = c.value("reason", "");
        }
        cells[c["name"].get<std::string>()] = std::move(cell);
    }
    return cells;
}

} // namespace

Matrix collect(const std::vector<Run>& runs, const std::vector<transcript::Case>& suite,
               const Options& o) {
    Matrix m;
    m.runs = runs;
    for (const Run& r : runs) {
        if (std::find(m.implementations.begin(), m.implementations.end(), r.implementation) ==
            m.implementations.end()) {
            m.implementations.push_back(r.implementation);
        }
    }
    for (const transcript::Mode mode : {transcript::Mode::server, transcript::Mode::client}) {
        std::vector<std::pair<const Run*, std::map<std::string, Cell>>> graded;
        for (const Run& r : runs) {
            if (r.mode == mode) {
                graded.emplace_back(&r, cells_of(r, o));
            }
        }
        if (graded.empty()) {
            continue;
        }
        for (const transcript::Case& c : suite) {
            if (!selected(c, mode, o.filters)) {
                continue;
            }
            Row row{mode, c.name, c.why, c.sections, {}};
            for (const auto& [run, cells] : graded) {
                const auto it = cells.find(c.name);
                row.cells[run->implementation] =
                    it != cells.end() ? it->second
                                      : Cell{"not_run", run->status == "completed"
                                                            ? "not in the run's report"
                                                            : run->status + ": " + run->error};
            }
            m.rows.push_back(std::move(row));
        }
    }
    return m;
}

std::vector<SectionTotal> section_totals(const Matrix& m) {
    std::vector<SectionTotal> totals;
    for (const Row& row : m.rows) {
        if (totals.empty() || totals.back().mode != row.mode ||
            totals.back().section != row.sections.front()) {
            totals.push_back({row.mode, row.sections.front(), 0, {}});
        }
        SectionTotal& t = totals.back();
        ++t.cases;
        for (const auto& [name, cell] : row.cells) {
            t.passed[name] += cell.outcome == "passed" ? 1 : 0;
        }
    }
    return totals;
}

} // namespace tcpchat::conformance::grade
