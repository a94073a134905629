// The bounds of a run, shared by every worker thread: a deadline (--duration) and a number of
// requests or round trips (--requests). Work in flight when a bound is reached is finished.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace tcpchat::load {

class Budget {
  public:
    using clock = std::chrono::steady_clock;

    Budget(std::optional<std::uint64_t> requests, std::optional<std::chrono::nanoseconds> duration)
        : limit_(requests),
          deadline_(duration ? clock::now() + std::chrono::duration_cast<clock::duration>(*duration)
                             : clock::time_point::max()) {}

    // True when one more request (or round trip) may start.
    [[nodiscard]] bool take() noexcept {
        if (clock::now() >= deadline_) {
            return false;
        }
        return !limit_ || issued_.fetch_add(1, std::memory_order_relaxed) < *limit_;
    }

  private:
    std::optional<std::uint64_t> limit_;
    clock::time_point deadline_;
    std::atomic<std::uint64_t> issued_{0};
};

} // namespace tcpchat::load
