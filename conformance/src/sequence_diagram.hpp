// A case's exchange drawn as a sequence diagram (inline SVG): the actors as columns, each message
// an arrow labelled with its method or its text, derived from the transcript's steps.
#pragma once

#include "tcpchat/transcript.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace tcpchat::conformance {

// `fault_line`: the transcript line where the case failed; the step holding it is drawn in red.
[[nodiscard]] std::string sequence_diagram(const transcript::Case& c, transcript::Mode mode,
                                           std::optional<std::size_t> fault_line);

} // namespace tcpchat::conformance
