// The inputs every codec benchmark reads: one sample per message type, and long streams of
// pipelined messages as a server or a chat peer would receive them. Streams are produced by the
// encoder, so they are canonical (spec §9.1) and decode without error.
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/message.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tcpchat::bench {

// One message of each type (spec §5) with the context that receives it.
struct Sample {
    std::string_view label; // "REGISTER", "BRIDGEACK-empty", ...
    Context context;
    Message message;
    std::string wire; // its canonical bytes
};
[[nodiscard]] const std::vector<Sample>& samples();

// A buffer of pipelined messages and how many there are.
struct Stream {
    std::string bytes;
    std::size_t messages = 0;
};

// Messages in each comparison and stream buffer.
inline constexpr std::size_t stream_messages = 16 * 1024;

// REGISTER messages with varied clientIDs, addresses and ports (the side-by-side input).
[[nodiscard]] const Stream& register_stream();
// The same header lines, each message behind `GET / HTTP/1.1` instead of `REGISTER`, for the HTTP
// parsers: equivalent work, byte for byte except the request line.
[[nodiscard]] const Stream& http_register_stream();

// What a server reads (Context::request): REGISTER and BRIDGE interleaved.
[[nodiscard]] const Stream& request_stream();
// What a client reads (Context::response): REGACK (with and without Status), BRIDGEACK (peer and
// empty) and ERROR.
[[nodiscard]] const Stream& response_stream();
// What a waiting peer reads (Context::chat_open): CHAT, text lines of 1-200 bytes (some stuffed,
// spec §5.6), then QUIT.
[[nodiscard]] const Stream& chat_stream();

} // namespace tcpchat::bench
