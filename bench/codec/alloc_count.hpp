// Heap allocations made by this process: the benchmark binary replaces the global operator new
// (alloc_count.cpp) so each benchmark can report allocations per decoded message. The target is
// zero once buffers are warm.
#pragma once

#include <cstdint>

namespace tcpchat::bench {

// Calls of any global operator new so far (all threads).
[[nodiscard]] std::uint64_t allocations() noexcept;

// The same, made by the calling thread only.
[[nodiscard]] std::uint64_t thread_allocations() noexcept;

} // namespace tcpchat::bench
