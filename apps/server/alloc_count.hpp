// Heap allocations made by this process so far: tcp-chat-server replaces the global operator
// new (alloc_count.cpp) with one that counts, so that `--alloc-stats` can say how many a request
// costs (bench/README.md). The count is one relaxed atomic increment per allocation.
#pragma once

#include <cstdint>

namespace tcpchat::app {

// Calls of any global operator new so far, on every thread.
[[nodiscard]] std::uint64_t allocations() noexcept;

} // namespace tcpchat::app
