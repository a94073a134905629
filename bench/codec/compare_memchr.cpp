// The floor of the side-by-side comparison (compare_tcpchat.cpp): memchr over the same REGISTER
// buffer.
#include "corpus.hpp"
#include "meter.hpp"

#include <cstring>

namespace tcpchat::bench {
namespace {

// The floor no line-based parser can beat: find every line end with memchr, and count a message
// at each empty line. No validation at all.
void BM_Compare_Memchr(benchmark::State& state) {
    const Stream& s = register_stream();
    const char* const begin = s.bytes.data();
    const char* const end = begin + s.bytes.size();
    const auto count = [&] {
        std::size_t messages = 0;
        for (const char* line = begin; line < end;) {
            const auto* lf =
                static_cast<const char*>(std::memchr(line, '\n', std::size_t(end - line)));
            if (lf == nullptr) {
                break;
            }
            messages += lf - line == 1 ? 1 : 0; // "\r\n" alone ends a message
            line = lf + 1;
        }
        return messages;
    };
    if (count() != s.messages) {
        state.SkipWithError("memchr miscounted the messages");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(count());
    }
    meter.report(state, s.messages, s.bytes.size());
}
BENCHMARK(BM_Compare_Memchr);

} // namespace
} // namespace tcpchat::bench
