// The pieces every HTML page of the runner shares: escaping (the only place that escapes HTML) and
// the page around the content, with its inline style sheet. Pages are self-contained: no script
// or style from elsewhere, so that they open from file:// and print as they look.
#pragma once

#include "outcome.hpp"

#include <ostream>
#include <string>
#include <string_view>

namespace tcpchat::conformance::html {

// Text safe in an element or a quoted attribute; C0 controls other than tab and newline become
// U+FFFD, since what an implementation printed can hold anything.
[[nodiscard]] std::string escape(std::string_view text);

// The order in which pages show verdicts.
inline constexpr Verdict verdicts[] = {Verdict::passed, Verdict::failed, Verdict::crashed,
                                       Verdict::skipped, Verdict::not_run};

// The style sheet's class for a verdict: "passed", ..., "not-run".
[[nodiscard]] std::string verdict_class(Verdict v);

void begin_page(std::ostream& out, std::string_view title);
void end_page(std::ostream& out);

} // namespace tcpchat::conformance::html
