// C++ exceptions thrown by this process: the benchmark binary interposes the C++ runtime's
// throw (throw_count.cpp) so each benchmark can report exceptions per decoded message. Valid input
// cut anywhere must decode without one (bench/README.md).
#pragma once

#include <cstdint>

namespace tcpchat::bench {

// Exceptions thrown so far (all threads).
[[nodiscard]] std::uint64_t throws() noexcept;

} // namespace tcpchat::bench
