// What every codec benchmark reports besides time: messages and bytes per second
// (SetItemsProcessed/SetBytesProcessed), heap allocations and C++ exceptions thrown per message,
// counted over the timed loop only, after a warm-up pass has sized every buffer.
#pragma once

#include "tcpchat/alloc_count.hpp"
#include "throw_count.hpp" // codec/test

#include <benchmark/benchmark.h>
#include <cstdint>

namespace tcpchat::bench {

class Meter {
  public:
    // Call right before `for (auto _ : state)`.
    Meter() : start_(allocations()), thrown_(test::throws()) {}

    // Call after the loop: `messages` and `bytes` are per iteration.
    void report(benchmark::State& state, std::uint64_t messages, std::uint64_t bytes) const {
        const std::uint64_t allocated = allocations() - start_;
        const std::uint64_t thrown = test::throws() - thrown_;
        const auto iterations = std::uint64_t(state.iterations());
        state.SetItemsProcessed(std::int64_t(iterations * messages));
        state.SetBytesProcessed(std::int64_t(iterations * bytes));
        const double total = double(iterations * messages);
        state.counters["allocs/msg"] = total == 0 ? 0.0 : double(allocated) / total;
        state.counters["throws/msg"] = total == 0 ? 0.0 : double(thrown) / total;
    }

  private:
    std::uint64_t start_;
    std::uint64_t thrown_;
};

} // namespace tcpchat::bench
