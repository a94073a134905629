// The transport's read loop (stream_decoder.hpp) without the socket: what both the stream
// benchmarks and BM_Compare_Tcpchat time.
#pragma once

#include "tcpchat/stream_decoder.hpp"

#include <benchmark/benchmark.h>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpchat::bench {

// Decodes all of `bytes` in chunks of `chunk` bytes with the loop of stream_decoder.hpp, then
// finish(). Returns the number of messages, or -1 on an error. Not inlined, so that callgrind can
// count its instructions (`--toggle-collect='*decode_in_chunks*'`).
[[gnu::noinline]] inline std::int64_t decode_in_chunks(StreamDecoder& decoder, Context context,
                                                       std::string_view bytes, std::size_t chunk) {
    decoder.reset(context);
    std::int64_t messages = 0;
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
        std::string_view data = bytes.substr(at, chunk);
        for (;;) {
            const Step step = decoder.feed(data);
            data.remove_prefix(step.consumed);
            if (step.status == Status::message) {
                benchmark::DoNotOptimize(decoder.message());
                ++messages;
            } else if (step.status == Status::error) {
                return -1;
            } else {
                break;
            }
        }
    }
    for (;;) {
        const Step step = decoder.finish();
        if (step.status == Status::message) {
            ++messages;
        } else {
            return step.status == Status::end ? messages : -1;
        }
    }
}

} // namespace tcpchat::bench
