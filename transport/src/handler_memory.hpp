// Memory for the completion handlers of one object's asynchronous operations: a few fixed slots,
// reused from operation to operation, so that steady-state I/O allocates nothing. An operation
// that finds every slot taken, or needs more than a slot, falls back to the heap. One thread at
// a time: the owner's operations must all complete on one thread (or strand).
#pragma once

#include <array>
#include <boost/asio/associated_allocator.hpp>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace tcpchat::detail {

class HandlerMemory {
  public:
    HandlerMemory() = default;
    HandlerMemory(const HandlerMemory&) = delete;
    HandlerMemory& operator=(const HandlerMemory&) = delete;

    void* allocate(std::size_t size) {
        if (size <= slot_size) {
            for (Slot& slot : slots_) {
                if (!slot.used) {
                    slot.used = true;
                    return slot.bytes;
                }
            }
        }
        return ::operator new(size);
    }

    void deallocate(void* pointer) noexcept {
        for (Slot& slot : slots_) {
            if (pointer == slot.bytes) {
                slot.used = false;
                return;
            }
        }
        ::operator delete(pointer);
    }

  private:
    // Asio's reactor and timer operations with a handler of a few pointers fit in a slot; a
    // connection has at most a socket wait, a timer wait and a cancelled timer wait pending.
    static constexpr std::size_t slot_size = 256;
    struct Slot {
        alignas(std::max_align_t) unsigned char bytes[slot_size];
        bool used = false;
    };
    std::array<Slot, 4> slots_{};
};

template <class T>
class HandlerAllocator {
  public:
    using value_type = T;

    explicit HandlerAllocator(HandlerMemory& memory) noexcept : memory_(&memory) {}
    template <class U>
    HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}

    T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
    void deallocate(T* pointer, std::size_t /*n*/) noexcept { memory_->deallocate(pointer); }

    template <class U>
    bool operator==(const HandlerAllocator<U>& other) const noexcept {
        return memory_ == other.memory_;
    }

  private:
    template <class>
    friend class HandlerAllocator;
    HandlerMemory* memory_;
};

// A handler whose operation allocates from `memory` (Asio's associated allocator).
template <class Handler>
class WithMemory {
  public:
    using allocator_type = HandlerAllocator<Handler>;

    WithMemory(HandlerMemory& memory, Handler handler)
        : memory_(&memory), handler_(std::move(handler)) {}

    [[nodiscard]] allocator_type get_allocator() const noexcept { return allocator_type(*memory_); }

    template <class... Args>
    void operator()(Args&&... args) {
        handler_(std::forward<Args>(args)...);
    }

  private:
    HandlerMemory* memory_;
    Handler handler_;
};

template <class Handler>
WithMemory<std::decay_t<Handler>> with_memory(HandlerMemory& memory, Handler&& handler) {
    return {memory, std::forward<Handler>(handler)};
}

} // namespace tcpchat::detail
