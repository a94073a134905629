// How the codec targets read their input: a few leading bytes choose the decoder's options (and,
// for the stream target, how the stream is cut into chunks); the rest are the bytes on the wire.
// Missing leading bytes count as zero, so every input is valid. fuzz/README.md shows the layout,
// and fuzz/make_corpus.py writes seeds in it.
#pragma once

#include "tcpchat/decode.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tcpchat::fuzz {

inline constexpr std::array<Context, 4> all_contexts = {Context::request, Context::response,
                                                        Context::chat_open, Context::chat};

// Bytes 0-3: the options. Small limits let short inputs cross every limit of spec §7; zero keeps
// a limit's default, so the options of a seed read "\x3f\0\0\0" are the lenient profile.
//   [0] leniency bits (bit i is Leniency 1 << i; bit 6 also switches message_turns and bit 7
//       no_handshake, the chat framings of spec §9.2, so 0xFF is the lenient profile)
//   [1] MAX-LINE: 0 = 1024, else 1-255
//   [2] MAX-MESSAGE: 0 = 4096, else 4 * (1-255)
//   [3] low nibble MAX-HEADERS: 0 = 16, else 0-14 (value - 1); high nibble MAX-ID: 0 = 64, else
//       4 * (1-15)
// Every derived limit is at most its default, so what decodes with these options also decodes
// with the lenient profile.
inline constexpr std::size_t options_size = 4;

// Stream target only, after the options: byte 4 holds the number of chunk sizes (low 3 bits + 1),
// then that many sizes follow, used in turn until the input is used up. A size byte below 0xF0 is
// the size itself (0 feeds an empty chunk); 0xF0-0xFF are 512-8192 bytes.
inline constexpr std::size_t max_chunk_pattern = 8;

struct FuzzInput {
    DecodeOptions options;
    std::vector<std::size_t> chunks; // stream target: chunk sizes, never all zero
    std::string_view wire;           // the bytes to decode
};

namespace detail {
struct Reader {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t at = 0;

    std::uint8_t next() { return at < size ? data[at++] : (++at, std::uint8_t{0}); }
    [[nodiscard]] std::string_view rest() const {
        const std::size_t from = at < size ? at : size;
        return {reinterpret_cast<const char*>(data) + from, size - from};
    }
};

inline DecodeOptions read_options(Reader& r) {
    DecodeOptions o;
    const std::uint32_t bits = r.next();
    o.leniency = Leniency(bits | (bits & 0xC0U) << 2) & Leniency::all;
    const std::uint8_t line = r.next();
    const std::uint8_t message = r.next();
    const std::uint8_t counts = r.next();
    if (line != 0) {
        o.limits.line_length = line;
    }
    if (message != 0) {
        o.limits.message_size = 4U * message;
    }
    if ((counts & 0x0FU) != 0) {
        o.limits.header_count = (counts & 0x0FU) - 1U;
    }
    if ((counts >> 4U) != 0) {
        o.limits.id_length = 4U * (counts >> 4U);
    }
    return o;
}
} // namespace detail

// Options, then the wire bytes (decode and roundtrip targets).
inline FuzzInput read_options_input(const std::uint8_t* data, std::size_t size) {
    detail::Reader r{data, size};
    FuzzInput in;
    in.options = detail::read_options(r);
    in.wire = r.rest();
    return in;
}

// Options, a chunk pattern, then the wire bytes (stream target).
inline FuzzInput read_stream_input(const std::uint8_t* data, std::size_t size) {
    detail::Reader r{data, size};
    FuzzInput in;
    in.options = detail::read_options(r);
    const std::size_t count = (r.next() & 0x07U) + 1U;
    bool any = false;
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t b = r.next();
        const std::size_t chunk = b < 0xF0 ? b : std::size_t(b - 0xEF) * 512U;
        any = any || chunk != 0;
        in.chunks.push_back(chunk);
    }
    if (!any) {
        in.chunks.push_back(SIZE_MAX); // only empty chunks: also feed the rest in one piece
    }
    in.wire = r.rest();
    return in;
}

} // namespace tcpchat::fuzz
