// Encoding (spec §4, §9.1): a message value -> its canonical bytes, appended to the caller's
// buffer (reuse the buffer and steady-state encoding does not allocate).
#pragma once

#include "tcpchat/framing.hpp"
#include "tcpchat/limits.hpp"
#include "tcpchat/message.hpp"

#include <string>
#include <system_error>

namespace tcpchat {

// Appends the canonical form of `message` to `out`. A value that cannot go on the wire as the
// spec allows (a clientID with a space or over limits.id_length, a host that is not an IP address,
// port 0, a text with CR, LF or another control byte, ...) is refused: the result is the Errc
// that a decoder would report for it, and `out` is left unchanged.
[[nodiscard]] std::error_code encode(const Message& message, std::string& out,
                                     const Limits& limits = {});

// Appends a chat turn (a Text or Quit) in `framing` (spec §5.6, §9.2), for a peer that only
// understands that form: Framing::crlf is encode(); `bare` is the stuffed text without CRLF, or
// `QUIT`; `message` is `CHAT\r\nMESSAGE:text\r\n\r\n` (the text not stuffed), or QUIT's own
// form. Refuses what encode() refuses for the text.
[[nodiscard]] std::error_code encode_turn(const Message& turn, Framing framing, std::string& out,
                                          const Limits& limits = {});

// Convenience for tests and tools: the canonical bytes, or "" when encode() refuses the value.
[[nodiscard]] std::string to_wire(const Message& message);

} // namespace tcpchat
