// Benchmarks whose names come from data are registered by main() in a fixed order; the side-by-side
// comparison and the stream benchmarks register themselves (BENCHMARK macros) and run first.
#pragma once

namespace tcpchat::bench {

void register_message_benchmarks();

} // namespace tcpchat::bench
