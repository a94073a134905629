// The incremental decoder over long pipelined streams (spec §4.1), fed in chunks as a socket
// delivers them: 1 byte (worst case), 7 (odd splits), 64, 1460 (one Ethernet TCP segment) and
// 65536 (a large read). Named BM_Stream/<context>/<chunk>.
#include "corpus.hpp"
#include "meter.hpp"
#include "stream_loop.hpp"

#include <cstdint>

namespace tcpchat::bench {

namespace {

void stream(benchmark::State& state, Context context, const Stream& (*input)()) {
    const Stream& s = input();
    const auto chunk = std::size_t(state.range(0));
    StreamDecoder decoder(context);
    if (decode_in_chunks(decoder, context, s.bytes, chunk) != std::int64_t(s.messages)) {
        state.SkipWithError("the stream does not decode to its messages");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(decode_in_chunks(decoder, context, s.bytes, chunk));
    }
    meter.report(state, s.messages, s.bytes.size());
}

void BM_Stream_request(benchmark::State& state) {
    stream(state, Context::request, request_stream);
}
void BM_Stream_response(benchmark::State& state) {
    stream(state, Context::response, response_stream);
}
void BM_Stream_chat(benchmark::State& state) {
    stream(state, Context::chat_open, chat_stream);
}

void chunk_sizes(benchmark::internal::Benchmark* b) {
    for (const std::int64_t chunk : {1, 7, 64, 1460, 65536}) {
        b->Arg(chunk);
    }
    b->ArgName("chunk");
}

} // namespace

BENCHMARK(BM_Stream_request)->Name("BM_Stream/request")->Apply(chunk_sizes);
BENCHMARK(BM_Stream_response)->Name("BM_Stream/response")->Apply(chunk_sizes);
BENCHMARK(BM_Stream_chat)->Name("BM_Stream/chat")->Apply(chunk_sizes);

} // namespace tcpchat::bench
