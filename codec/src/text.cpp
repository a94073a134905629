#include "text.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tcpchat::detail {

namespace {

std::size_t first_non_text_bytewise(const char* p, std::size_t i, std::size_t n) noexcept {
    for (; i < n; ++i) {
        if (!is_text_byte(static_cast<unsigned char>(p[i]))) {
            return i;
        }
    }
    return n;
}

#if defined(__SSE2__)
// A lane of 0xFF for every byte of `x` that is not a text byte: below 0x20 other than HTAB
// (unsigned: min(x, 0x1F) == x), or DEL.
inline __m128i non_text(__m128i x) noexcept {
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
    const __m128i tab = _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'));
    const __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F));
    return _mm_or_si128(_mm_andnot_si128(tab, control), del);
}

inline __m128i load(const char* p) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

inline int mask_of(__m128i lanes) noexcept {
    return _mm_movemask_epi8(lanes);
}

// The first 8 (or 4) bytes at `p` in the low lanes, the last 8 (or 4) of the `n` after them (with
// 4, the 8 lanes left are spaces, a text byte): every byte of the `n` once or twice, the first
// time in order, with loads of fixed sizes only (no copy to the stack that a wider load would
// then wait for).
template <typename Word>
__m128i ends_of(const char* p, std::size_t n) noexcept {
    Word first = 0;
    Word last = 0;
    std::memcpy(&first, p, sizeof first);
    std::memcpy(&last, p + n - sizeof last, sizeof last);
    if constexpr (sizeof(Word) == 8) {
        return _mm_set_epi64x(static_cast<long long>(last), static_cast<long long>(first));
    } else {
        return _mm_set_epi32(0x20202020, 0x20202020, static_cast<int>(last),
                             static_cast<int>(first));
    }
}

// first_non_text_sse2() of fewer than 16 bytes (the unfinished tail of a chunk, mostly).
std::size_t first_non_text_short(const char* p, std::size_t n) noexcept {
    if (n < 4) {
        return first_non_text_bytewise(p, 0, n);
    }
    const bool words = n >= 8;
    const std::size_t half = words ? 8 : 4;
    const __m128i x = words ? ends_of<std::uint64_t>(p, n) : ends_of<std::uint32_t>(p, n);
    const auto mask = unsigned(mask_of(non_text(x)));
    if (mask == 0) {
        return n;
    }
    const auto lane = std::size_t(std::countr_zero(mask));
    // A lane of the first half is that byte; one of the second, a byte from n - half on.
    return lane < half ? lane : n - half + (lane - half);
}
#endif

} // namespace

std::size_t first_non_text_words(std::string_view bytes) noexcept {
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
    return first_non_text_bytewise(p, i, n);
}

#if defined(__SSE2__)
std::size_t first_non_text_sse2(std::string_view bytes) noexcept {
    const char* p = bytes.data();
    const std::size_t n = bytes.size();
    if (n < 16) {
        return first_non_text_short(p, n);
    }
    std::size_t i = 0;
    // 64 bytes a round: no byte below 0x20 (their minimum) and no DEL is all text, the common
    // case; otherwise (a tab, perhaps) the exact check of each 16 bytes says.
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i del = _mm_set1_epi8(0x7F);
    for (; i + 64 <= n; i += 64) {
        const __m128i a = load(p + i);
        const __m128i b = load(p + i + 16);
        const __m128i c = load(p + i + 32);
        const __m128i d = load(p + i + 48);
        const __m128i low = _mm_min_epu8(_mm_min_epu8(a, b), _mm_min_epu8(c, d));
        const __m128i dels =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, del), _mm_cmpeq_epi8(b, del)),
                         _mm_or_si128(_mm_cmpeq_epi8(c, del), _mm_cmpeq_epi8(d, del)));
        // A lane of `below` is not zero where the minimum is under 0x20.
        const __m128i below = _mm_subs_epu8(space, low);
        if (mask_of(_mm_cmpeq_epi8(_mm_or_si128(below, dels), _mm_setzero_si128())) == 0xFFFF) {
            continue;
        }
        for (std::size_t j = i; j < i + 64; j += 16) {
            if (const int mask = mask_of(non_text(load(p + j))); mask != 0) {
                return j + std::size_t(std::countr_zero(unsigned(mask)));
            }
        }
        // Only tabs: go on.
    }
    for (; i + 16 <= n; i += 16) {
        if (const int mask = mask_of(non_text(load(p + i))); mask != 0) {
            return i + std::size_t(std::countr_zero(unsigned(mask)));
        }
    }
    if (i == n) {
        return n;
    }
    // The last 16 bytes, overlapping what was checked: those are all text, so the first lane set
    // is the first non-text byte of the tail.
    const std::size_t last = n - 16;
    const int mask = mask_of(non_text(load(p + last)));
    return mask == 0 ? n : last + std::size_t(std::countr_zero(unsigned(mask)));
}
#endif

std::size_t first_non_text(std::string_view bytes) noexcept {
#if defined(__SSE2__)
    return first_non_text_sse2(bytes);
#else
    return first_non_text_words(bytes);
#endif
}

} // namespace tcpchat::detail
