// The bytes of a text line (spec §4.4 text-char: %x20-7E, HTAB, %x80-FF), checked in one place for
// the decoder's canonical path and the encoder.
#pragma once

#include <cstddef>
#include <string_view>

namespace tcpchat::detail {

// Whether `b` may appear in a text line (and in a Reason).
[[nodiscard]] constexpr bool is_text_byte(unsigned char b) noexcept {
    return (b >= 0x20 && b != 0x7F) || b == '\t';
}

// The index of the first byte of `bytes` that is not a text byte, or bytes.size(). Eight bytes
// at a time: a word with no byte below 0x20 and none equal to 0x7F is all text.
[[nodiscard]] std::size_t first_non_text(std::string_view bytes) noexcept;

} // namespace tcpchat::detail
