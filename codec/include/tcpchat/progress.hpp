// What the decoder knows of a framed message from the lines it has checked (spec §4.3, §5): its
// method, the headers seen and their values, and how many bytes of whole lines that was. The
// decoder's state while it reads a message, and what the incremental decoder keeps when the
// message arrives over several chunks, so that decoding resumes at the next line instead of
// starting the message again. Positions are offsets from the message's first byte, so the record
// survives the bytes being moved into the decoder's buffer. Part of StreamDecoder's state;
// nothing outside the codec reads it.
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
    std::uint8_t method = 0;   // the method line's Method
    std::uint8_t seen = 0;     // a bit per known header seen
    std::int32_t last_field = -1;
    bool status = false;
    std::uint32_t headers = 0; // header lines so far, every one counted (MAX-HEADERS)
    std::uint16_t port = 0;
    std::uint16_t code = 0;
    Span id, host, reason;
    std::array<std::uint32_t, 6> value_pos{}; // where each known header's value starts, if seen
};

} // namespace tcpchat::detail
