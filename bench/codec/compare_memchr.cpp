// The floor of the side-by-side comparison (compare_tcpchat.cpp): memchr over the same REGISTER
// buffer.
#include "corpus.hpp"
#include "meter.hpp"

#include <cstring>
#include <string_view>

namespace tcpchat::bench {
namespace {

// The floor no line-based parser can beat: find every line end with memchr, and count a message
// at each empty line. No validation at all. Not inlined, so that `scripts/bench --instructions`
// can count a pass's instructions under callgrind.
[[gnu::noinline]] std::size_t memchr_pass(std::string_view bytes) {
    const char* const end = bytes.data() + bytes.size();
    std::size_t messages = 0;
    for (const char* line = bytes.data(); line < end;) {
        const auto* lf = static_cast<const char*>(std::memchr(line, '\n', std::size_t(end - line)));
        if (lf == nullptr) {
            break;
        }
        messages += lf - line == 1 ? 1 : 0; // "\r\n" alone ends a message
        line = lf + 1;
    }
    return messages;
}

void BM_Compare_Memchr(benchmark::State& state) {
    const Stream& s = register_stream();
    if (memchr_pass(s.bytes) != s.messages) {
        state.SkipWithError("memchr miscounted the messages");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(memchr_pass(s.bytes));
    }
    meter.report(state, s.messages, s.bytes.size());
}
BENCHMARK(BM_Compare_Memchr);

} // namespace
} // namespace tcpchat::bench
