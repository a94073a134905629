// What the JUnit XML reports of a run and of a grade share.
#pragma once

#include "outcome.hpp"

#include <pugixml.hpp>
#include <string>
#include <string_view>

namespace tcpchat::conformance {

// XML 1.0 cannot carry most C0 controls, even escaped: they become U+FFFD.
[[nodiscard]] std::string xml_text(std::string_view s);

// tests, failures, skipped (skipped and not run) and errors (crashed) on a suite.
void junit_counts(pugi::xml_node suite, const Tally& t);

} // namespace tcpchat::conformance
