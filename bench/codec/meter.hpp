// What every codec benchmark reports besides time: messages and bytes per second
// (SetItemsProcessed/SetBytesProcessed) and heap allocations per message, counted over the timed
// loop only, after a warm-up pass has sized every buffer.
#pragma once

#include "tcpchat/alloc_count.hpp"

#include <benchmark/benchmark.h>
#include <cstdint>

namespace tcpchat::bench {

class Meter {
  public:
    // Call right before `for (auto _ : state)`.
    Meter() : start_(allocations()) {}

    // Call after the loop: `messages` and `bytes` are per iteration.
    void report(benchmark::State& state, std::uint64_t messages, std::uint64_t bytes) const {
        const std::uint64_t allocated = allocations() - start_;
        const auto iterations = std::uint64_t(state.iterations());
        state.SetItemsProcessed(std::int64_t(iterations * messages));
        state.SetBytesProcessed(std::int64_t(iterations * bytes));
        state.counters["allocs/msg"] =
            iterations * messages == 0 ? 0.0 : double(allocated) / double(iterations * messages);
    }

  private:
    std::uint64_t start_;
};

} // namespace tcpchat::bench
