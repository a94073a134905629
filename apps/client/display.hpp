// How the client shows what it did not write itself (spec §10.4, §11): chat text and server
// reasons are UTF-8 at best, so invalid sequences and C1 controls are escaped before they reach
// the terminal.
#pragma once

#include <string>
#include <string_view>

namespace tcpchat::client {

// `text` with valid UTF-8 kept, C1 controls (U+0080-U+009F) shown as `\u0085`, and invalid bytes
// and C0 controls other than HTAB shown as `\xNN`.
[[nodiscard]] std::string printable(std::string_view text);

} // namespace tcpchat::client
