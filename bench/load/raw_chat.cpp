#include "raw_chat.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace tcpchat::load {

using clock = std::chrono::steady_clock;

namespace {

constexpr int watch_interval_ms = 50;

// The same lines as ChatWorker's: `size` printable bytes, then CRLF.
std::string line_of(std::size_t size, char first) {
    std::string line(size, ' ');
    for (std::size_t i = 0; i < size; ++i) {
        line[i] = char(first + i % 26);
    }
    return line + "\r\n";
}

void set_non_blocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

} // namespace

// One end of a pair's connection.
struct RawChatWorker::End {
    Pair* pair = nullptr;
    int fd = -1;
    std::string line; // what this end sends each turn, CRLF included
    std::string in;   // bytes read and not yet a whole line
    std::size_t read_at = 0;
};

struct RawChatWorker::Pair {
    End waiter;
    End initiator;
    bool open = false;
    bool busy = false;
    bool answered = false; // a round trip has completed
    clock::time_point started;
    Results results;
};

RawChatWorker::RawChatWorker(const LoadOptions& options, Budget& budget, std::size_t /*first_pair*/,
                             std::size_t pairs)
    : options_(options), budget_(budget), epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      allocations_(pairs) {
    for (std::size_t i = 0; i < pairs; ++i) {
        auto p = std::make_unique<Pair>();
        p->waiter.line = line_of(options.text_size, 'a');
        p->initiator.line = line_of(options.text_size, 'A');
        p->waiter.pair = p->initiator.pair = p.get();
        pairs_.push_back(std::move(p));
    }
}

RawChatWorker::~RawChatWorker() {
    for (auto& p : pairs_) {
        close(*p);
    }
    if (epoll_ >= 0) {
        ::close(epoll_);
    }
}

Results RawChatWorker::results() {
    Results all;
    for (auto& p : pairs_) {
        all.merge(std::move(p->results));
    }
    allocations_.report(all);
    return all;
}

// Listen, connect and accept with blocking calls (loopback: at once), then go non-blocking, with
// TCP_NODELAY on the initiator (a ping-pong never waits for Nagle's algorithm either way: each line
// goes out only once the previous one is answered, and so acknowledged).
void RawChatWorker::start(Pair& p) {
    const bool v6 = options_.peer_host.is_v6();
    sockaddr_storage at{};
    socklen_t size = 0;
    if (v6) {
        auto& a = reinterpret_cast<sockaddr_in6&>(at);
        a.sin6_family = AF_INET6;
        const auto bytes = options_.peer_host.to_v6().to_bytes();
        std::memcpy(&a.sin6_addr, bytes.data(), bytes.size());
        size = sizeof a;
    } else {
        auto& a = reinterpret_cast<sockaddr_in&>(at);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(options_.peer_host.to_v4().to_uint());
        size = sizeof a;
    }
    const int family = v6 ? AF_INET6 : AF_INET;
    const int listener = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&at), size) != 0 ||
        ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&at), &size) != 0) {
        p.results.fail(ErrorKind::connect, std::string("listen: ") + std::strerror(errno));
        if (listener >= 0) {
            ::close(listener);
        }
        return;
    }
    p.initiator.fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(p.initiator.fd, reinterpret_cast<sockaddr*>(&at), size) != 0 ||
        (p.waiter.fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) < 0) {
        p.results.fail(ErrorKind::connect, std::string("connect: ") + std::strerror(errno));
        ::close(listener);
        ::close(p.initiator.fd);
        p.initiator.fd = -1;
        return;
    }
    ::close(listener);
    int one = 1;
    ::setsockopt(p.initiator.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (End* end : {&p.waiter, &p.initiator}) {
        set_non_blocking(end->fd);
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.ptr = end;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, end->fd, &event);
    }
    p.open = true;
    ++open_pairs_;
    ping(p);
}

void RawChatWorker::run() {
    if (epoll_ < 0) {
        for (auto& p : pairs_) {
            p->results.fail(ErrorKind::connect, std::string("epoll: ") + std::strerror(errno));
        }
        return;
    }
    for (auto& p : pairs_) {
        start(*p);
    }
    std::vector<epoll_event> events(pairs_.size() * 2 + 1);
    while (open_pairs_ > 0) {
        const int n = ::epoll_wait(epoll_, events.data(), int(events.size()), watch_interval_ms);
        for (int i = 0; i < n; ++i) {
            End* end = static_cast<End*>(events[std::size_t(i)].data.ptr);
            if (end->pair->open) {
                on_readable(*end->pair, *end);
            }
        }
        const auto now = clock::now();
        for (auto& p : pairs_) {
            if (p->open && p->busy && now - p->started > options_.timeout) {
                fail(*p, ErrorKind::timeout, "no answer within the timeout");
            }
        }
    }
}

// The initiator's turn: one more round trip, or the end when the budget is spent.
void RawChatWorker::ping(Pair& p) {
    if (!budget_.take()) {
        p.busy = false;
        allocations_.stop();
        close(p);
        return;
    }
    p.busy = true;
    p.started = clock::now();
    send(p, p.initiator);
}

// One write of the whole line; on a full send buffer, wait for room (a 1 KiB line never fills a
// loopback socket's buffer in a ping-pong, so this stays the rare path).
void RawChatWorker::send(Pair& p, End& end) {
    std::string_view rest(end.line);
    while (!rest.empty()) {
        const auto n = ::send(end.fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n > 0) {
            rest.remove_prefix(std::size_t(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            pollfd out{end.fd, POLLOUT, 0};
            ::poll(&out, 1, watch_interval_ms);
            continue;
        }
        fail(p, ErrorKind::closed, "write failed");
        return;
    }
}

void RawChatWorker::on_readable(Pair& p, End& end) {
    char buffer[65536];
    for (;;) {
        const auto n = ::recv(end.fd, buffer, sizeof buffer, 0);
        if (n == 0) {
            fail(p, ErrorKind::closed, "the other end closed");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return;
            }
            fail(p, ErrorKind::closed, "read failed");
            return;
        }
        end.in.append(buffer, std::size_t(n));
        const void* lf = nullptr;
        while ((lf = std::memchr(end.in.data() + end.read_at, '\n', end.in.size() - end.read_at)) !=
               nullptr) {
            const std::size_t length =
                std::size_t(static_cast<const char*>(lf) - end.in.data()) + 1;
            End& other = &end == &p.waiter ? p.initiator : p.waiter;
            if (length != other.line.size()) {
                fail(p, ErrorKind::bad_reply, "a line of another length");
                return;
            }
            end.in.erase(0, length);
            end.read_at = 0;
            if (&end == &p.waiter) {
                send(p, p.waiter); // its turn: answer
            } else {
                p.results.record(clock::now() - p.started);
                allocations_.round_trip(!std::exchange(p.answered, true));
                ping(p);
            }
            if (!p.open) {
                return;
            }
        }
        end.read_at = end.in.size();
        if (std::size_t(n) < sizeof buffer) {
            return; // drained: wait for the next readiness
        }
    }
}

void RawChatWorker::fail(Pair& p, ErrorKind kind, const char* what) {
    if (!p.open) {
        return;
    }
    p.results.fail(kind, what);
    allocations_.stop();
    p.busy = false;
    close(p);
}

void RawChatWorker::close(Pair& p) {
    for (End* end : {&p.waiter, &p.initiator}) {
        if (end->fd >= 0) {
            ::close(end->fd); // also removes it from the epoll set
            end->fd = -1;
        }
    }
    if (p.open) {
        p.open = false;
        --open_pairs_;
    }
}

} // namespace tcpchat::load
