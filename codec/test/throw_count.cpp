// Counts every C++ throw: the executable defines the Itanium C++ ABI's __cxa_throw, which every
// `throw` expression calls, so it is found before the runtime library's, counts, and hands the
// exception on to the runtime's own (found with dlsym(RTLD_NEXT)).
#include "throw_count.hpp"

#include <atomic>
#include <cstdlib>
#include <dlfcn.h>
#include <typeinfo>

namespace {

std::atomic<std::uint64_t> count{0};

using Throw = void (*)(void*, std::type_info*, void (*)(void*));

} // namespace

std::uint64_t tcpchat::test::throws() noexcept {
    return count.load(std::memory_order_relaxed);
}

extern "C" [[noreturn]] void __cxa_throw(void* exception, std::type_info* type,
                                         void (*destroy)(void*)) {
    static const auto next = reinterpret_cast<Throw>(dlsym(RTLD_NEXT, "__cxa_throw"));
    count.fetch_add(1, std::memory_order_relaxed);
    if (next == nullptr) {
        std::abort();
    }
    next(exception, type, destroy);
    std::abort(); // the runtime's __cxa_throw does not return
}
