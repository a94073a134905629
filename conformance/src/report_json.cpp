// The JSON report (spec/transcript-format.md §T.9), as described by conformance/schema/report.json.
#include "outcome.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace tcpchat::conformance {

namespace {

using Json = nlohmann::ordered_json;

Json case_json(const CaseResult& r) {
    const Verdict v = verdict(r);
    Json c = {{"name", r.test->name},      {"title", r.test->title},
              {"why", r.test->why},        {"sections", r.test->sections},
              {"outcome", verdict_key(v)}, {"elapsed_ms", r.elapsed.count()}};
    if (r.skipped) {
        c["reason"] = *r.skipped;
    }
    if (r.not_run) {
        c["reason"] = *r.not_run;
    }
    if (r.failure) {
        const Failure& f = *r.failure;
        c["line"] = f.line;
        c["message"] = f.message;
        c["expected"] = shown(f, f.expected);
        c["actual"] = shown(f, f.actual);
    }
    if (r.crashed) {
        c["crash"] = {{"what", r.crashed->what}, {"last_output", r.crashed->last_output}};
    }
    if (!r.note.empty()) {
        c["note"] = r.note;
    }
    if (!r.output.empty()) {
        c["output"] = r.output;
    }
    return c;
}

} // namespace

void write_json(std::ostream& out, const std::vector<CaseResult>& results, std::string_view mode) {
    const Tally t = tally(results);
    Json report = {{"mode", mode}};
    for (std::size_t i = 0; i < verdict_count; ++i) {
        report[std::string(verdict_key(Verdict(i)))] = t.counts[i];
    }
    Json cases = Json::array();
    for (const CaseResult& r : results) {
        cases.push_back(case_json(r));
    }
    report["cases"] = std::move(cases);
    // What an implementation printed need not be UTF-8: invalid bytes become U+FFFD rather than
    // losing the whole report.
    out << report.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

} // namespace tcpchat::conformance
