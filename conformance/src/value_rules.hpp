// The rules of a transcript's message values (spec/transcript-format.md §T.8): which fields each
// method's value has, required and optional.
#pragma once

#include "tcpchat/transcript.hpp"

#include <optional>
#include <string>

namespace tcpchat::transcript::reading {

// What is wrong with the value (an unknown, repeated or missing field, a misplaced text), or
// nothing.
[[nodiscard]] std::optional<std::string> check_value(const Value& v);

} // namespace tcpchat::transcript::reading
