// How the client shows what it did not write itself (spec §10.4, §11): chat text and server
// reasons are UTF-8 at best, so invalid sequences, C1 controls and the invisible characters that
// reorder or hide text are escaped before they reach the terminal.
#pragma once

#include <string>
#include <string_view>

namespace tcpchat::client {

// `text` with valid UTF-8 kept; C1 controls (U+0080-U+009F) and the bidirectional and invisible
// format characters (U+202A-202E, U+2066-2069, U+200B-200F, U+061C, U+FEFF) shown as `\u202E`;
// invalid bytes, DEL and C0 controls other than HTAB shown as `\xNN`.
[[nodiscard]] std::string printable(std::string_view text);

} // namespace tcpchat::client
