// Pieces of codec mode shared with the live modes: the byte streams of a transcript.
#pragma once

#include "tcpchat/conformance.hpp"
#include "tcpchat/decode.hpp"

#include <string>
#include <utility>
#include <vector>

namespace tcpchat::conformance {

// One direction of one connection: every Send on it, and the expectations that follow them.
struct ByteStream {
    std::string from, to;
    Context context;
    std::size_t connect_line = 0;
    std::vector<std::pair<std::size_t, const transcript::Template*>> pieces; // line, bytes
    std::vector<const transcript::Step*> expectations;
};

// Streams in the order their connections were opened (writer-side stream first).
[[nodiscard]] std::vector<ByteStream> collect_streams(const Case& c);

// Placeholder values in codec mode (§T.7.3): run 00000000, A.id A-00000000, ports 3000, 3001, ...
[[nodiscard]] transcript::Bindings codec_bindings(const Case& c);

} // namespace tcpchat::conformance
