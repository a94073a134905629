// The semantic checks of a transcript (spec/transcript-format.md §T.4, §T.5), after the grammar
// has read it: its metadata, and that every step names actors and connections that exist.
#pragma once

#include "reader_state.hpp"

#include <optional>
#include <string>

namespace tcpchat::transcript::reading {

// A rule of §T.4 or §T.5 the file breaks, at a line.
struct Invalid {
    std::size_t line;
    std::string message;
};

// Moves the metadata lines into the Case (Sections, Modes, Client, Timeout), or says which is
// wrong or missing.
[[nodiscard]] std::optional<Invalid> apply_metadata(State& st);
// The first step that names a reserved word as an actor, talks over a connection that was never
// opened, expects a decode before any bytes, or gives a terminal to the server.
[[nodiscard]] std::optional<Invalid> check_steps(const Case& c);

} // namespace tcpchat::transcript::reading
