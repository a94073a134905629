// C++ exceptions thrown by this process: the codec's tests and the benchmark binary interpose the
// C++ runtime's throw (throw_count.cpp) to check that valid input cut anywhere decodes without
// one (a test) and to report exceptions per decoded message (bench/README.md).
#pragma once

#include <cstdint>

namespace tcpchat::test {

// Exceptions thrown so far (all threads).
[[nodiscard]] std::uint64_t throws() noexcept;

} // namespace tcpchat::test
