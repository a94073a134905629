#include "poller.hpp"

#include <boost/asio/error.hpp>
#include <cerrno>
#include <unistd.h>

namespace tcpchat::detail {

namespace asio = boost::asio;

Poller::Poller(asio::io_context& io, OnReady on_ready, void* context)
    : set_(io), on_ready_(on_ready), context_(context) {
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "epoll_create1");
    }
    set_.assign(fd);
}

Poller::~Poller() {
    boost::system::error_code ignored;
    set_.close(ignored);
}

std::error_code Poller::control(int operation, int fd, std::uint32_t events, std::uint64_t token) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = token;
    if (::epoll_ctl(set_.native_handle(), operation, fd, &event) != 0) {
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
    (void)::epoll_ctl(set_.native_handle(), EPOLL_CTL_DEL, fd, &unused);
}

void Poller::start() {
    if (!running_) {
        running_ = true;
        wait();
    }
}

void Poller::stop() {
    running_ = false;
    boost::system::error_code ignored;
    set_.cancel(ignored);
}

void Poller::wait() {
    set_.async_wait(
        asio::posix::stream_descriptor::wait_read,
        with_memory(memory_, [this](const boost::system::error_code& ec) { on_readable(ec); }));
}

// The set has events: take them without blocking, hand each to its owner, wait again.
void Poller::on_readable(const boost::system::error_code& ec) {
    if (ec || !running_) {
        running_ = false;
        on_ready_(context_, stopped_token, 0); // may destroy this poller
        return;
    }
    for (;;) {
        const int n =
            ::epoll_wait(set_.native_handle(), events_.data(), static_cast<int>(events_.size()), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        for (int i = 0; i < n && running_; ++i) {
            on_ready_(context_, events_[static_cast<std::size_t>(i)].data.u64,
                      events_[static_cast<std::size_t>(i)].events);
        }
        if (n < static_cast<int>(events_.size()) || !running_) {
            break;
        }
    }
    if (running_) {
        wait();
    } else {
        on_ready_(context_, stopped_token, 0); // may destroy this poller
    }
}

} // namespace tcpchat::detail
