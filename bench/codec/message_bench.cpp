// Per message type (spec §5): encode into a reused buffer, and decode one complete message
// one-shot. Registered per sample as BM_Encode/<TYPE> and BM_Decode/<TYPE>.
#include "corpus.hpp"
#include "meter.hpp"
#include "register.hpp"
#include "tcpchat/decode.hpp"
#include "tcpchat/encode.hpp"

#include <string>

namespace tcpchat::bench {
namespace {

void encode_one(benchmark::State& state, const Sample& sample) {
    std::string out;
    out.reserve(256);
    if (encode(sample.message, out) || out != sample.wire) {
        state.SkipWithError("the encoder does not reproduce the sample");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        out.clear();
        const std::error_code ec = encode(sample.message, out);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    meter.report(state, 1, sample.wire.size());
}

void decode_one(benchmark::State& state, const Sample& sample) {
    if (const Decoded d = decode(sample.context, sample.wire); !d || d.value() != sample.message) {
        state.SkipWithError("the sample does not decode to its value");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        Decoded d = decode(sample.context, sample.wire);
        benchmark::DoNotOptimize(d);
    }
    meter.report(state, 1, sample.wire.size());
}

} // namespace

void register_message_benchmarks() {
    for (const Sample& s : samples()) {
        benchmark::RegisterBenchmark(("BM_Encode/" + std::string(s.label)).c_str(), encode_one, s);
    }
    for (const Sample& s : samples()) {
        benchmark::RegisterBenchmark(("BM_Decode/" + std::string(s.label)).c_str(), decode_one, s);
    }
}

} // namespace tcpchat::bench
