// The outcome of a case as every report shows it (spec/transcript-format.md §T.9): its verdict,
// the counts of a run, the sections it cites, and bytes escaped with their first difference.
#pragma once

#include "tcpchat/conformance.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpchat::conformance {

// Disjoint: a crashed case is not also counted as failed, a case not run is not skipped.
enum class Verdict : std::uint8_t { passed, failed, skipped, crashed, not_run };

[[nodiscard]] Verdict verdict(const CaseResult& r) noexcept;
// "passed", "failed", "crashed", "skipped", "not run"
[[nodiscard]] std::string_view verdict_name(Verdict v) noexcept;
// The JSON spelling: "not_run" for Verdict::not_run, else as verdict_name.
[[nodiscard]] std::string_view verdict_key(Verdict v) noexcept;
inline constexpr std::size_t verdict_count = 5;
// The inverse of verdict_key; nullopt for anything else.
[[nodiscard]] std::optional<Verdict> verdict_of_key(std::string_view key) noexcept;

struct Tally {
    std::size_t counts[verdict_count] = {};

    void add(Verdict v) noexcept { ++counts[std::size_t(v)]; }
    [[nodiscard]] std::size_t operator[](Verdict v) const noexcept {
        return counts[std::size_t(v)];
    }
    [[nodiscard]] std::size_t total() const noexcept;
};
[[nodiscard]] Tally tally(const std::vector<CaseResult>& results);

// "§5.1, §6.2"
[[nodiscard]] std::string sections_of(const Case& c);
// "§5.1 REGISTER"
[[nodiscard]] std::string section_heading(const std::string& section);

// The index of the first byte where the two differ (the shorter one's size if one is a prefix).
[[nodiscard]] std::size_t first_difference(std::string_view expected, std::string_view actual);
// The width of bytes[0, n) in transcript::quote's form, without the opening quote.
[[nodiscard]] std::size_t escaped_width(std::string_view bytes, std::size_t n);
// A failure's expected or actual as shown: escaped when they are bytes.
[[nodiscard]] std::string shown(const Failure& f, const std::string& s);

// Terminal colours (ANSI), or none.
struct Paint {
    bool on = false;
    [[nodiscard]] std::string operator()(std::string_view code, std::string_view text) const;
};
// One column wide: a check mark, a cross, '!' (crashed), '-' (skipped), a middle dot (not run).
[[nodiscard]] std::string mark(Verdict v, const Paint& paint);

} // namespace tcpchat::conformance
