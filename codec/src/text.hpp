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

// The index of the first byte of `bytes` that is not a text byte, or bytes.size(). A text line's
// CR is not a text byte, so one pass finds where the line's text ends and whether all of it is
// text. Sixteen bytes at a time with SSE2 where the target has it (every x86-64), fewer than
// sixteen as their first and last eight (or four); else eight at a time.
[[nodiscard]] std::size_t first_non_text(std::string_view bytes) noexcept;

// The two ways first_non_text() may be built, each for itself (the tests check both).
[[nodiscard]] std::size_t first_non_text_words(std::string_view bytes) noexcept;
#if defined(__SSE2__)
[[nodiscard]] std::size_t first_non_text_sse2(std::string_view bytes) noexcept;
#endif

} // namespace tcpchat::detail
