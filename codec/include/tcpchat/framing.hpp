// How a peer frames its chat turns (spec §5.6, §9.2): what a decoder saw a turn arrive as, and
// what an encoder writes to a peer that only understands one form.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tcpchat {

enum class Framing : std::uint8_t {
    crlf,    // `text CRLF`, `QUIT CRLF CRLF`: this protocol's form (§5.6, §5.7)
    bare,    // the text alone, one write per turn, no line end; `QUIT` alone, then close
    message, // `CHAT CRLF MESSAGE:text CRLF CRLF`; `QUIT CRLF CRLF`
};

// "crlf", "bare", "message".
[[nodiscard]] std::string_view framing_name(Framing framing) noexcept;
[[nodiscard]] std::optional<Framing> parse_framing(std::string_view name) noexcept;

} // namespace tcpchat
