#include "text.hpp"

#include <cstdint>
#include <cstring>

namespace tcpchat::detail {

std::size_t first_non_text(std::string_view bytes) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101U;
    constexpr std::uint64_t highs = 0x8080808080808080U;
    const char* p = bytes.data();
    const std::size_t n = bytes.size();
    std::size_t i = 0;
    while (i + 8 <= n) {
        std::uint64_t x = 0;
        std::memcpy(&x, p + i, 8);
        // Some byte is below 0x20 (bytes from 0x80 up have their top bit set and are not), or
        // some byte is 0x7F: exact as to whether, not as to where.
        const std::uint64_t control = (x - ones * 0x20) & ~x & highs;
        const std::uint64_t del = x ^ (ones * 0x7F);
        if ((control | ((del - ones) & ~del & highs)) == 0) {
            i += 8;
            continue;
        }
        for (const std::size_t word_end = i + 8; i < word_end; ++i) {
            if (!is_text_byte(static_cast<unsigned char>(p[i]))) {
                return i;
            }
        }
        // Only tabs: go on.
    }
    for (; i < n; ++i) {
        if (!is_text_byte(static_cast<unsigned char>(p[i]))) {
            return i;
        }
    }
    return n;
}

} // namespace tcpchat::detail
