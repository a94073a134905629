// Heap allocations made by this process: a program that links tcpchat::alloc_count gets a global
// operator new that counts (src: alloc_count.cpp), one relaxed atomic increment per allocation.
// The codec benchmark reports allocations per decoded message with it, tcp-chat-load per chat
// round trip, tcp-chat-server --alloc-stats per request.
#pragma once

#include <cstdint>

namespace tcpchat {

// Calls of any global operator new so far (all threads).
[[nodiscard]] std::uint64_t allocations() noexcept;

// The same, made by the calling thread only.
[[nodiscard]] std::uint64_t thread_allocations() noexcept;

} // namespace tcpchat
