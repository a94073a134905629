// Encoding (spec §4, §9.1): a message value -> its canonical bytes, appended to the caller's
// buffer (reuse the buffer and steady-state encoding does not allocate).
#pragma once

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

// Convenience for tests and tools: the canonical bytes, or "" when encode() refuses the value.
[[nodiscard]] std::string to_wire(const Message& message);

} // namespace tcpchat
