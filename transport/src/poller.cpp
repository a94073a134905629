#include "poller.hpp"

#include <cerrno>
#include <cstdint>
#include <sys/eventfd.h>
#include <unistd.h>

namespace tcpchat::detail {

Timeout::~Timeout() {
    cancel();
}

void Timeout::cancel() noexcept {
    if (queue != nullptr) {
        queue->unlink(*this);
    }
}

Timeouts::~Timeouts() {
    while (head_ != nullptr) {
        unlink(*head_);
    }
}

void Timeouts::unlink(Timeout& timeout) noexcept {
    (timeout.previous != nullptr ? timeout.previous->next : head_) = timeout.next;
    (timeout.next != nullptr ? timeout.next->previous : tail_) = timeout.previous;
    timeout.previous = nullptr;
    timeout.next = nullptr;
    timeout.queue = nullptr;
}

void Timeouts::arm(Timeout& timeout, Clock::time_point now) noexcept {
    timeout.cancel();
    timeout.due = now + after_;
    timeout.queue = this;
    timeout.previous = tail_;
    (tail_ != nullptr ? tail_->next : head_) = &timeout;
    tail_ = &timeout;
}

void Timeouts::expire(Clock::time_point now) {
    while (head_ != nullptr && head_->due <= now) {
        Timeout& due = *head_;
        unlink(due);
        due.on_expiry(due.owner);
    }
}

Poller::Poller(OnReady on_ready, void* context) : on_ready_(on_ready), context_(context) {
    set_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (set_ < 0) {
        throw std::system_error(errno, std::generic_category(), "epoll_create1");
    }
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_ < 0) {
        const int error = errno;
        ::close(set_);
        throw std::system_error(error, std::generic_category(), "eventfd");
    }
    if (const auto ec = add(wake_, EPOLLIN | EPOLLET, woken_token)) {
        ::close(wake_);
        ::close(set_);
        throw std::system_error(ec, "epoll_ctl");
    }
}

Poller::~Poller() {
    ::close(wake_);
    ::close(set_);
}

std::error_code Poller::control(int operation, int fd, std::uint32_t events, std::uint64_t token) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = token;
    if (::epoll_ctl(set_, operation, fd, &event) != 0) {
        return {errno, std::generic_category()};
    }
    return {};
}

std::error_code Poller::add(int fd, std::uint32_t events, std::uint64_t token) {
    return control(EPOLL_CTL_ADD, fd, events, token);
}

std::error_code Poller::modify(int fd, std::uint32_t events, std::uint64_t token) {
    return control(EPOLL_CTL_MOD, fd, events, token);
}

void Poller::remove(int fd) {
    epoll_event unused{};
    (void)::epoll_ctl(set_, EPOLL_CTL_DEL, fd, &unused);
}

void Poller::watch(Timeouts& queue) {
    queues_.at(queue_count_++) = &queue;
}

void Poller::wake() noexcept {
    const std::uint64_t one = 1;
    (void)::write(wake_, &one, sizeof one);
}

// Until the earliest deadline, rounded up: a wait that ends before it would only spin.
int Poller::wait_milliseconds() const noexcept {
    const Timeout* earliest = nullptr;
    for (std::size_t i = 0; i < queue_count_; ++i) {
        const Timeout* front = queues_[i]->earliest();
        if (front != nullptr && (earliest == nullptr || front->due < earliest->due)) {
            earliest = front;
        }
    }
    if (earliest == nullptr) {
        return -1;
    }
    if (earliest->due <= now_) {
        return 0;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(earliest->due - now_);
    return left.count() > 1'000'000 ? 1'000'000 : static_cast<int>(left.count());
}

void Poller::run() {
    running_ = true;
    now_ = Clock::now();
    while (running_) {
        const int n = ::epoll_wait(set_, events_.data(), static_cast<int>(events_.size()),
                                   wait_milliseconds());
        now_ = Clock::now();
        for (int i = 0; i < n && running_; ++i) {
            const epoll_event& event = events_[static_cast<std::size_t>(i)];
            if (event.data.u64 == woken_token) {
                // Back to zero: the next wake() is an edge.
                std::uint64_t count = 0;
                (void)::read(wake_, &count, sizeof count);
            }
            on_ready_(context_, event.data.u64, event.events);
        }
        for (std::size_t i = 0; i < queue_count_ && running_; ++i) {
            queues_[i]->expire(now_);
        }
    }
}

} // namespace tcpchat::detail
