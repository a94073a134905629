// Side by side on equivalent input (bench/README.md): 16k REGISTER messages for our decoder and
// memchr (compare_memchr.cpp), the same header lines behind `GET / HTTP/1.1` for the HTTP parsers
// (compare_beast.cpp, compare_http_parser.cpp). Every BM_Compare_* counts items = messages, so
// their msgs/s compare directly.
#include "corpus.hpp"
#include "meter.hpp"
#include "stream_loop.hpp"

namespace tcpchat::bench {
namespace {

// Our incremental decoder in the server's context over the whole buffer, as one read: full
// validation, limits and leniencies (spec §4.5, §7), values with views into the buffer. Not
// inlined, so that `scripts/bench --instructions` can count a pass's instructions under callgrind.
[[gnu::noinline]] std::int64_t tcpchat_pass(StreamDecoder& decoder, std::string_view bytes) {
    return decode_in_chunks(decoder, Context::request, bytes, bytes.size());
}

void BM_Compare_Tcpchat(benchmark::State& state) {
    const Stream& s = register_stream();
    StreamDecoder decoder(Context::request);
    if (tcpchat_pass(decoder, s.bytes) != std::int64_t(s.messages)) {
        state.SkipWithError("the REGISTER buffer does not decode");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(tcpchat_pass(decoder, s.bytes));
    }
    meter.report(state, s.messages, s.bytes.size());
}
BENCHMARK(BM_Compare_Tcpchat);

} // namespace
} // namespace tcpchat::bench
