// Memory for one asynchronous operation at a time, handed back to the next one (the pattern of
// Asio's own allocation example): a connection that starts the same operation for every line,
// its read or its write, reuses one block instead of allocating per line. An operation that
// does not fit, or starts while the block is still taken, falls back to the global allocator.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace tcpchat {

class HandlerMemory {
  public:
    HandlerMemory() = default;
    HandlerMemory(const HandlerMemory&) = delete;
    HandlerMemory& operator=(const HandlerMemory&) = delete;

    void* allocate(std::size_t size) {
        if (!in_use_ && size <= sizeof storage_) {
            in_use_ = true;
            return storage_;
        }
        return ::operator new(size);
    }

    void deallocate(void* pointer) noexcept {
        if (pointer == storage_) {
            in_use_ = false;
        } else {
            ::operator delete(pointer);
        }
    }

  private:
    // An Asio socket or timer operation with its handler: about 200 bytes with Boost 1.74.
    alignas(std::max_align_t) std::byte storage_[512];
    bool in_use_ = false;
};

// The allocator that Asio finds on a handler wrapped by with_memory().
template <typename T>
class HandlerAllocator {
  public:
    using value_type = T;

    explicit HandlerAllocator(HandlerMemory& memory) noexcept : memory_(&memory) {}
    template <typename U>
    HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory()) {}

    T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
    void deallocate(T* pointer, std::size_t /*n*/) noexcept { memory_->deallocate(pointer); }

    [[nodiscard]] HandlerMemory* memory() const noexcept { return memory_; }

    template <typename U>
    friend bool operator==(const HandlerAllocator& a, const HandlerAllocator<U>& b) noexcept {
        return a.memory_ == b.memory();
    }

  private:
    HandlerMemory* memory_;
};

// A completion handler whose operation lives in `memory`, which must outlive the operation (keep
// it beside the socket or timer, in the object the handler keeps alive).
template <typename Handler>
class WithMemory {
  public:
    using allocator_type = HandlerAllocator<Handler>;

    WithMemory(HandlerMemory& memory, Handler handler)
        : memory_(&memory), handler_(std::move(handler)) {}

    [[nodiscard]] allocator_type get_allocator() const noexcept { return allocator_type(*memory_); }

    template <typename... Args>
    void operator()(Args&&... args) {
        handler_(std::forward<Args>(args)...);
    }

  private:
    HandlerMemory* memory_;
    Handler handler_;
};

template <typename Handler>
WithMemory<Handler> with_memory(HandlerMemory& memory, Handler handler) {
    return WithMemory<Handler>(memory, std::move(handler));
}

} // namespace tcpchat
