// A waiting client under attack (spec §10.3, §11): strangers that connect and stay silent, or send
// junk, and reconnect the moment they are closed, must not keep a real peer out. Each round starts
// a fresh WaitMode with the default options, lets the squatters fill it, then times a real peer's
// connect-and-CHAT until the waiter hands over the link. The figures are printed for the record.
#include "tcpchat/peer_link.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it
#include <vector>

namespace tcpchat {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int rounds = 20;
constexpr auto allowed = 1s; // spec §10.3: a valid CHAT gets in within this, whatever else comes

const std::string chat_from_user2 =
    "CHAT\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n";

// A blocking loopback socket connected to `port`, or -1. Connecting gives up after `timeout`
// (Linux honours SO_SNDTIMEO for connect), so a full backlog cannot hang a squatter.
int connect_to(std::uint16_t port, std::chrono::milliseconds timeout) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// `count` connections to the waiter, each reopened as soon as the waiter closes it; silent, or
// sending an HTTP request (junk to a waiter) after each connect. One thread, poll() over all.
class Squatters {
  public:
    Squatters(std::uint16_t port, int count, bool junk)
        : port_(port), count_(count), junk_(junk), thread_([this] { run(); }) {}
    ~Squatters() {
        stop_ = true;
        thread_.join();
    }
    Squatters(const Squatters&) = delete;
    Squatters& operator=(const Squatters&) = delete;

    // Connections made so far (the first `count` and every reconnection).
    [[nodiscard]] long connections() const { return connections_; }

  private:
    void run() {
        std::vector<pollfd> fds(static_cast<std::size_t>(count_), pollfd{-1, POLLIN, 0});
        while (!stop_) {
            for (auto& p : fds) {
                if (p.fd < 0 && !stop_) {
                    p.fd = connect_to(port_, 200ms);
                    if (p.fd >= 0) {
                        ++connections_;
                        if (junk_) {
                            static constexpr std::string_view request = "GET / HTTP/1.1\r\n\r\n";
                            (void)::send(p.fd, request.data(), request.size(), MSG_NOSIGNAL);
                        }
                    }
                }
            }
            if (::poll(fds.data(), fds.size(), 10) <= 0) {
                continue;
            }
            for (auto& p : fds) {
                if (p.fd >= 0 && p.revents != 0) {
                    char byte = 0;
                    if (::recv(p.fd, &byte, 1, MSG_DONTWAIT) <= 0) { // closed or reset: again
                        ::close(p.fd);
                        p.fd = -1;
                    }
                }
                p.revents = 0;
            }
        }
        for (auto& p : fds) {
            if (p.fd >= 0) {
                ::close(p.fd);
            }
        }
    }

    std::uint16_t port_;
    int count_;
    bool junk_;
    std::atomic<bool> stop_{false};
    std::atomic<long> connections_{0};
    std::thread thread_;
};

struct Squat {
    int squatters;
    bool junk;
};

void PrintTo(const Squat& s, std::ostream* os) {
    *os << s.squatters << (s.junk ? " junk" : " silent");
}

class WaitModeSquat : public ::testing::TestWithParam<Squat> {};

TEST_P(WaitModeSquat, ARealPeersChatGetsInWithinOneSecondEveryTime) {
    const Squat squat = GetParam();
    std::vector<double> latencies_ms;
    std::size_t most_pending = 0;
    int got_in = 0;
    long reconnections = 0;
    for (int round = 0; round < rounds; ++round) {
        asio::io_context io;
        auto work = asio::make_work_guard(io);
        std::atomic<long> log_lines{0};
        WaitMode wait(io.get_executor(), PeerOptions{}, [&](std::string_view) { ++log_lines; });
        ASSERT_FALSE(wait.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
        const std::uint16_t port = wait.local_endpoint().port();
        std::promise<Clock::time_point> taken;
        wait.async_wait([&](std::shared_ptr<PeerLink> link) {
            taken.set_value(Clock::now());
            link->close();
        });
        std::thread runner([&] { io.run(); });
        std::size_t pending = 0;
        {
            Squatters squatters(port, squat.squatters, squat.junk);
            // Let them fill the waiter: every squatter connected once, then some churn.
            const auto filling = Clock::now() + 10s;
            while (squatters.connections() < squat.squatters && Clock::now() < filling) {
                std::this_thread::sleep_for(5ms);
            }
            std::this_thread::sleep_for(200ms);
            std::promise<std::size_t> counted;
            asio::post(io, [&] { counted.set_value(wait.pending_connections()); });
            pending = counted.get_future().get();

            const auto started = Clock::now();
            // EXPECT, not ASSERT: returning here would leave `runner` joinable, and its
            // destructor would end the whole test program.
            const int peer = connect_to(port, 3000ms);
            EXPECT_GE(peer, 0) << "round " << round << ": the real peer could not connect";
            const bool sent =
                peer >= 0 && ::send(peer, chat_from_user2.data(), chat_from_user2.size(),
                                    MSG_NOSIGNAL) == static_cast<ssize_t>(chat_from_user2.size());
            EXPECT_TRUE(peer < 0 || sent) << "round " << round << ": CHAT could not be sent";
            auto when = taken.get_future();
            if (sent && when.wait_for(5s) == std::future_status::ready) {
                ++got_in;
                latencies_ms.push_back(
                    std::chrono::duration<double, std::milli>(when.get() - started).count());
            } else {
                latencies_ms.push_back(5000.0); // not in at all: counted as the wait given up
            }
            if (peer >= 0) {
                ::close(peer);
            }
            reconnections += squatters.connections();
        }
        most_pending = std::max(most_pending, pending);
        work.reset();
        asio::post(io, [&] { wait.close(); });
        runner.join();
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    const double median = (latencies_ms[rounds / 2 - 1] + latencies_ms[rounds / 2]) / 2;
    std::printf("squat %d %s: %d/%d CHATs got in; latency median %.1f ms, worst %.1f ms; "
                "waiter held at most %zu pending connections (+1 listening socket); "
                "%ld squatter connections\n",
                squat.squatters, squat.junk ? "junk" : "silent", got_in, rounds, median,
                latencies_ms.back(), most_pending, reconnections);
    EXPECT_EQ(got_in, rounds);
    const double allowed_ms = std::chrono::duration<double, std::milli>(allowed).count();
    EXPECT_LT(latencies_ms.back(), allowed_ms);
    EXPECT_LE(most_pending, PeerOptions{}.max_pending);
}

INSTANTIATE_TEST_SUITE_P(Spec10_3, WaitModeSquat,
                         ::testing::Values(Squat{8, false}, Squat{8, true}, Squat{100, false},
                                           Squat{100, true}, Squat{300, false}),
                         [](const auto& info) {
                             return std::to_string(info.param.squatters) +
                                    (info.param.junk ? "Junk" : "Silent");
                         });

// Runs `io` on the test thread until `done` or 10 s.
template <class Done>
bool run_until(asio::io_context& io, Done done) {
    const auto limit = Clock::now() + 10s;
    while (!done() && Clock::now() < limit) {
        io.run_for(10ms);
        io.restart();
    }
    return done();
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// Whether the waiter closed `fd` within 5 s without sending a byte (a reset, when it closed
// with the junk unread, counts as closed too).
bool closed_without_a_byte(int fd) {
    char byte = 0;
    return readable(fd, 5000) && ::recv(fd, &byte, 1, 0) <= 0;
}

bool still_open(int fd) {
    return !readable(fd, 0);
}

TEST(WaitModeBounds, ANewcomerEvictsTheOldestConnectionWithoutChat) {
    asio::io_context io;
    std::vector<std::string> log;
    PeerOptions options;
    options.max_pending = 2;
    WaitMode wait(io.get_executor(), options, [&](std::string_view l) { log.emplace_back(l); });
    ASSERT_FALSE(wait.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
    const std::uint16_t port = wait.local_endpoint().port();
    std::shared_ptr<PeerLink> link;
    wait.async_wait([&](std::shared_ptr<PeerLink> l) { link = std::move(l); });

    const int oldest = connect_to(port, 3000ms);
    ASSERT_TRUE(run_until(io, [&] { return wait.pending_connections() == 1; }));
    const int second = connect_to(port, 3000ms);
    ASSERT_TRUE(run_until(io, [&] { return wait.pending_connections() == 2; }));
    const int newcomer = connect_to(port, 3000ms);
    ASSERT_TRUE(run_until(io, [&] { return !log.empty(); }));
    EXPECT_NE(log[0].find(": evicted, the oldest of 2 connections without CHAT"), std::string::npos)
        << log[0];
    EXPECT_TRUE(closed_without_a_byte(oldest));
    EXPECT_EQ(wait.pending_connections(), 2U);
    EXPECT_TRUE(still_open(second));

    ASSERT_EQ(::send(newcomer, chat_from_user2.data(), chat_from_user2.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(chat_from_user2.size()));
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    EXPECT_EQ(link->peer().id, "user2");
    EXPECT_TRUE(closed_without_a_byte(second)); // the chat began: the rest are closed
    for (const int fd : {oldest, second, newcomer}) {
        ::close(fd);
    }
}

// However fast strangers come, a connection is not evicted before it had eviction_grace to send
// CHAT: newcomers wait in the listen backlog meanwhile.
TEST(WaitModeBounds, AConnectionHasItsGraceBeforeItCanBeEvicted) {
    asio::io_context io;
    std::vector<std::string> log;
    PeerOptions options;
    options.max_pending = 1;
    options.eviction_grace = 1500ms;
    WaitMode wait(io.get_executor(), options, [&](std::string_view l) { log.emplace_back(l); });
    ASSERT_FALSE(wait.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
    const std::uint16_t port = wait.local_endpoint().port();
    std::shared_ptr<PeerLink> link;
    wait.async_wait([&](std::shared_ptr<PeerLink> l) { link = std::move(l); });

    const int first = connect_to(port, 3000ms);
    ASSERT_TRUE(run_until(io, [&] { return wait.pending_connections() == 1; }));
    const auto admitted = Clock::now();
    const int newcomer = connect_to(port, 3000ms); // completes in the backlog
    ASSERT_GE(newcomer, 0);
    io.run_for(300ms);
    EXPECT_TRUE(still_open(first)); // well inside its grace
    EXPECT_TRUE(log.empty());
    ASSERT_TRUE(run_until(io, [&] { return !log.empty(); }));
    EXPECT_GE(Clock::now() - admitted, 1400ms);
    EXPECT_NE(log[0].find(": evicted, the oldest of 1 connections without CHAT"), std::string::npos)
        << log[0];
    EXPECT_TRUE(closed_without_a_byte(first));
    ASSERT_EQ(::send(newcomer, chat_from_user2.data(), chat_from_user2.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(chat_from_user2.size()));
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    ::close(first);
    ::close(newcomer);
}

TEST(WaitModeBounds, AFloodOfJunkIsLoggedAsAFewLinesAndASum) {
    asio::io_context io;
    std::vector<std::string> log;
    WaitMode wait(io.get_executor(), PeerOptions{},
                  [&](std::string_view l) { log.emplace_back(l); });
    ASSERT_FALSE(wait.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
    const std::uint16_t port = wait.local_endpoint().port();
    std::shared_ptr<PeerLink> link;
    wait.async_wait([&](std::shared_ptr<PeerLink> l) { link = std::move(l); });
    constexpr int strangers = 30;
    for (int i = 0; i < strangers; ++i) {
        const int fd = connect_to(port, 3000ms);
        ASSERT_GE(fd, 0);
        static constexpr std::string_view junk = "GET / HTTP/1.1\r\n\r\n";
        (void)::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
        ASSERT_TRUE(run_until(io, [&] { return readable(fd, 0); }));
        EXPECT_TRUE(closed_without_a_byte(fd));
        ::close(fd);
    }
    // The first lines one by one, then silence until the chat starts and the rest is summed up.
    ASSERT_TRUE(run_until(io, [&] { return log.size() == 8; }));
    io.run_for(50ms);
    EXPECT_EQ(log.size(), 8U);
    const int peer = connect_to(port, 3000ms);
    ASSERT_EQ(::send(peer, chat_from_user2.data(), chat_from_user2.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(chat_from_user2.size()));
    ASSERT_TRUE(run_until(io, [&] { return link != nullptr; }));
    ASSERT_EQ(log.size(), 9U);
    EXPECT_EQ(log.back(), "closed " + std::to_string(strangers - 8) +
                              " more connections that did not send CHAT, not logged one by one");
    ::close(peer);
}

} // namespace
} // namespace tcpchat
