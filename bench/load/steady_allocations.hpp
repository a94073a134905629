// Heap allocations per round trip once a chat worker is warm (bench/README.md): counted from the
// moment every pair of the worker has completed a round trip to the moment the first pair stops,
// by this thread only (tcpchat::alloc_count replaces the global operator new).
#pragma once

#include "results.hpp"
#include "tcpchat/alloc_count.hpp"

#include <cstddef>
#include <cstdint>

namespace tcpchat::load {

class SteadyAllocations {
  public:
    explicit SteadyAllocations(std::size_t pairs) : cold_(pairs) {}

    // A pair completed a round trip, its first one or not.
    void round_trip(bool pairs_first) noexcept {
        if (pairs_first && cold_ > 0 && --cold_ == 0) {
            from_ = tcpchat::thread_allocations();
            return;
        }
        if (cold_ == 0 && !stopped_) {
            ++trips_;
            allocations_ = tcpchat::thread_allocations() - from_;
        }
    }

    // A pair stopped (the budget is spent, or it failed): the steady state is over.
    void stop() noexcept { stopped_ = true; }

    void report(Results& results) const noexcept {
        results.steady_round_trips += trips_;
        results.steady_allocations += allocations_;
    }

  private:
    std::size_t cold_; // pairs without a completed round trip yet
    bool stopped_ = false;
    std::uint64_t from_ = 0;
    std::uint64_t trips_ = 0;
    std::uint64_t allocations_ = 0;
};

} // namespace tcpchat::load
