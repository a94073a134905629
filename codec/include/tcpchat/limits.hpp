// Limits a decoder enforces while it reads (spec §7). Each has a named default; exceeding one is a
// distinct error (Errc::line_too_long and friends), never a crash or a silent truncation.
#pragma once

#include <cstddef>

namespace tcpchat {

struct Limits {
    std::size_t line_length = 1024; // bytes in one line, its CRLF excluded (spec §7 MAX-LINE)
    std::size_t header_count = 16;  // header lines in one message (spec §7 MAX-HEADERS)
    std::size_t message_size =
        4096; // bytes in one framed message, both final CRLFs included (spec §7 MAX-MESSAGE)
    std::size_t id_length = 64; // bytes in one clientID (spec §7 MAX-ID)

    friend bool operator==(const Limits&, const Limits&) = default;
};

} // namespace tcpchat
