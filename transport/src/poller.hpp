// One thread's event loop (transport/README.md, "The request path"): one epoll set for the
// thread's sockets, with its deadlines and the wake-ups from other threads folded in, so that a
// round costs one epoll_wait and nothing else. Each socket is added once, edge-triggered for
// reading and the peer's FIN (for writing only when a write could not finish), and leaves the
// set by being closed: no system call per wait, none to re-arm, none to remove. Asio's reactor
// would spend one on each (epoll_ctl MOD per wait, DEL before close), an ioctl to make the socket
// non-blocking, and a timer queue under a mutex per deadline.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sys/epoll.h>
#include <system_error>

namespace tcpchat::detail {

using Clock = std::chrono::steady_clock;

class Timeouts;

// A deadline that lives in the object it bounds, on one Timeouts queue at a time.
struct Timeout {
    using OnExpiry = void (*)(void* owner);

    Timeout(OnExpiry on_expiry_, void* owner_) noexcept : on_expiry(on_expiry_), owner(owner_) {}
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout();

    [[nodiscard]] bool armed() const noexcept { return queue != nullptr; }
    void cancel() noexcept;

    OnExpiry on_expiry;
    void* owner;
    Clock::time_point due{};
    Timeouts* queue = nullptr;
    Timeout* previous = nullptr;
    Timeout* next = nullptr;
};

// Deadlines that all lie the same duration after the moment they were armed (every connection
// has the same read timeout, the same linger time). Armed in time order, they fall due in that
// order, so a queue holds them, not a heap: arming, cancelling and expiring cost O(1).
class Timeouts {
  public:
    explicit Timeouts(std::chrono::milliseconds after) noexcept : after_(after) {}
    Timeouts(const Timeouts&) = delete;
    Timeouts& operator=(const Timeouts&) = delete;
    ~Timeouts();

    // Due `after` from `now`, replacing whatever deadline `timeout` had (on this queue or another).
    // `now` never goes back from one call to the next (the loop's clock of the round).
    void arm(Timeout& timeout, Clock::time_point now) noexcept;

    // Calls on_expiry of each deadline due by `now`, oldest first; each is disarmed first, so
    // on_expiry may arm it again.
    void expire(Clock::time_point now);

    [[nodiscard]] const Timeout* earliest() const noexcept { return head_; }
    [[nodiscard]] std::chrono::milliseconds after() const noexcept { return after_; }

  private:
    friend struct Timeout;
    void unlink(Timeout& timeout) noexcept;

    std::chrono::milliseconds after_;
    Timeout* head_ = nullptr;
    Timeout* tail_ = nullptr;
};

class Poller {
  public:
    // Receives the events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, ...) of the descriptor added with
    // `token`, and `woken_token` (no events) after wake().
    using OnReady = void (*)(void* context, std::uint64_t token, std::uint32_t events);
    static constexpr std::uint64_t woken_token = ~std::uint64_t{0};

    Poller(OnReady on_ready, void* context);
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    // Watches `fd` until it is closed (or remove()d); `events` as for epoll_ctl, e.g.
    // EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET.
    [[nodiscard]] std::error_code add(int fd, std::uint32_t events, std::uint64_t token);
    [[nodiscard]] std::error_code modify(int fd, std::uint32_t events, std::uint64_t token);
    void remove(int fd);

    // The loop expires the deadlines of `queue` (at most four queues).
    void watch(Timeouts& queue);

    // Rounds until quit(): one epoll_wait, for at most the time to the earliest deadline; the
    // events to on_ready; then the deadlines that fell due. On the loop's own thread.
    void run();
    void quit() noexcept { running_ = false; }

    // Callable from any thread: on_ready(woken_token) runs on the loop's thread in its next round
    // (at least once for any number of wake() calls until then).
    void wake() noexcept;

    // The clock as of the current round's wake-up: what deadlines are armed from.
    [[nodiscard]] Clock::time_point now() const noexcept { return now_; }

  private:
    [[nodiscard]] std::error_code control(int operation, int fd, std::uint32_t events,
                                          std::uint64_t token);
    [[nodiscard]] int wait_milliseconds() const noexcept;

    int set_ = -1;  // the epoll descriptor
    int wake_ = -1; // an eventfd in the set
    OnReady on_ready_;
    void* context_;
    std::array<Timeouts*, 4> queues_{};
    std::size_t queue_count_ = 0;
    std::array<epoll_event, 64> events_{};
    Clock::time_point now_ = Clock::now();
    bool running_ = false;
};

} // namespace tcpchat::detail
