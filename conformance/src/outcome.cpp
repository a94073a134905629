#include "outcome.hpp"

namespace tcpchat::conformance {

Verdict verdict(const CaseResult& r) noexcept {
    if (r.not_run) {
        return Verdict::not_run;
    }
    if (r.skipped) {
        return Verdict::skipped;
    }
    if (r.crashed) {
        return Verdict::crashed;
    }
    return r.passed ? Verdict::passed : Verdict::failed;
}

std::string_view verdict_name(Verdict v) noexcept {
    switch (v) {
    case Verdict::passed: return "passed";
    case Verdict::failed: return "failed";
    case Verdict::crashed: return "crashed";
    case Verdict::skipped: return "skipped";
    case Verdict::not_run: return "not run";
    }
    return "failed";
}

std::string_view verdict_key(Verdict v) noexcept {
    return v == Verdict::not_run ? "not_run" : verdict_name(v);
}

std::optional<Verdict> verdict_of_key(std::string_view key) noexcept {
    for (std::size_t i = 0; i < verdict_count; ++i) {
        if (verdict_key(Verdict(i)) == key) {
            return Verdict(i);
        }
    }
    return std::nullopt;
}

std::size_t Tally::total() const noexcept {
    std::size_t n = 0;
    for (const std::size_t c : counts) {
        n += c;
    }
    return n;
}

Tally tally(const std::vector<CaseResult>& results) {
    Tally t;
    for (const CaseResult& r : results) {
        t.add(verdict(r));
    }
    return t;
}

std::string sections_of(const Case& c) {
    std::string out;
    for (const std::string& s : c.sections) {
        out += (out.empty() ? "\xC2\xA7" : ", \xC2\xA7") + s;
    }
    return out;
}

std::string section_heading(const std::string& section) {
    const std::string_view title = section_title(section);
    return "\xC2\xA7" + section + (title.empty() ? "" : " " + std::string(title));
}

std::size_t first_difference(std::string_view expected, std::string_view actual) {
    std::size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) {
        ++i;
    }
    return i;
}

std::size_t escaped_width(std::string_view bytes, std::size_t n) {
    // A byte's escape depends on the byte after it (`$` before `{`), so the prefix is measured
    // as the whole less the rest, not quoted on its own.
    return transcript::quote(bytes).size() - transcript::quote(bytes.substr(n)).size();
}

std::string shown(const Failure& f, const std::string& s) {
    return f.bytes ? transcript::quote(s) : s;
}

} // namespace tcpchat::conformance
