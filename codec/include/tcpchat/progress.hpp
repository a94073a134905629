// What the incremental decoder keeps of a framed message whose lines arrive over several chunks
// (spec §4.1): how many bytes of whole lines were checked, and what they said, so that decoding
// resumes at the next line instead of starting the message again. Positions are offsets from the
// message's first byte, so the record survives the bytes being moved into the decoder's buffer.
// Part of StreamDecoder's state; nothing outside the codec reads it.
#pragma once

#include <array>
#include <cstdint>

namespace tcpchat::detail {

struct Progress {
    struct Span {
        std::uint32_t at = 0;
        std::uint32_t size = 0;
    };
    std::uint32_t checked = 0; // bytes of whole lines checked; 0: start at the method line
    std::uint8_t method = 0;
    std::uint8_t seen = 0;
    std::int32_t last_field = -1;
    bool status = false;
    std::uint32_t headers = 0;
    std::uint16_t port = 0;
    std::uint16_t code = 0;
    Span id, host, reason;
    std::array<std::uint32_t, 6> value_pos{}; // offset + 1 of each known header's value; 0: none
};

} // namespace tcpchat::detail
