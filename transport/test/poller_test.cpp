// The server's event loop (src/poller.hpp): deadlines in arming order, wake-ups from other
// threads, socket events, all through one epoll_wait per round.
#include "../src/poller.hpp"

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tcpchat::detail::Clock;
using tcpchat::detail::Poller;
using tcpchat::detail::Timeout;
using tcpchat::detail::Timeouts;

// A deadline that records its expiry in `fired`.
struct Recorded {
    explicit Recorded(std::vector<int>& fired_, int id_)
        : fired(fired_), id(id_), timeout(&Recorded::expired, this) {}
    static void expired(void* self) {
        auto& r = *static_cast<Recorded*>(self);
        r.fired.push_back(r.id);
    }
    std::vector<int>& fired;
    int id;
    Timeout timeout;
};

// Three deadlines on a queue of 100 ms, recording their expiries in `fired`.
class ThreeDeadlines : public ::testing::Test {
  protected:
    Timeouts queue{100ms};
    std::vector<int> fired;
    Recorded a{fired, 1};
    Recorded b{fired, 2};
    Recorded c{fired, 3};
    const Clock::time_point t0 = Clock::now();
};

TEST_F(ThreeDeadlines, ExpireInArmingOrderOnlyOnceDue) {
    queue.arm(a.timeout, t0);
    queue.arm(b.timeout, t0 + 10ms);
    queue.arm(c.timeout, t0 + 20ms);
    queue.expire(t0 + 99ms);
    EXPECT_TRUE(fired.empty());
    queue.expire(t0 + 110ms); // a and b are due, c is not
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
    EXPECT_FALSE(a.timeout.armed());
    EXPECT_TRUE(c.timeout.armed());
    queue.expire(t0 + 1s);
    EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(queue.earliest(), nullptr);
}

TEST_F(ThreeDeadlines, ReArmingReplacesTheDeadlineAndCancellingRemovesIt) {
    queue.arm(a.timeout, t0);
    queue.arm(b.timeout, t0);
    queue.arm(c.timeout, t0);
    queue.arm(a.timeout, t0 + 50ms); // a moves behind c, due 50 ms later
    b.timeout.cancel();
    EXPECT_FALSE(b.timeout.armed());
    queue.expire(t0 + 100ms);
    EXPECT_EQ(fired, (std::vector<int>{3}));
    queue.expire(t0 + 150ms);
    EXPECT_EQ(fired, (std::vector<int>{3, 1}));
}

TEST(Timeouts, ADeadlineMovesFromOneQueueToAnother) {
    Timeouts reading(5s);
    Timeouts lingering(100ms);
    std::vector<int> fired;
    Recorded a(fired, 1);
    const auto t0 = Clock::now();
    reading.arm(a.timeout, t0);
    lingering.arm(a.timeout, t0 + 10ms);
    EXPECT_EQ(reading.earliest(), nullptr);
    reading.expire(t0 + 1h);
    EXPECT_TRUE(fired.empty());
    lingering.expire(t0 + 110ms);
    EXPECT_EQ(fired, (std::vector<int>{1}));
}

// An expiry may arm its own deadline again (a blocked write re-arms the read timeout).
TEST(Timeouts, AnExpiryMayReArmItself) {
    struct Again {
        Timeouts* queue;
        Clock::time_point now;
        int runs = 0;
        Timeout timeout{&Again::expired, this};
        static void expired(void* self) {
            auto& again = *static_cast<Again*>(self);
            if (++again.runs < 3) {
                again.queue->arm(again.timeout, again.now);
            }
        }
    };
    Timeouts queue(100ms);
    const auto t0 = Clock::now();
    Again again{&queue, t0};
    queue.arm(again.timeout, t0);
    // Re-armed from the moment it expired, it is due one period later: once per period.
    for (int period = 1; period <= 3; ++period) {
        again.now = t0 + period * 100ms;
        queue.expire(again.now);
        EXPECT_EQ(again.runs, period);
    }
    EXPECT_FALSE(again.timeout.armed());
}

struct Events {
    static void on_ready(void* self, std::uint64_t token, std::uint32_t events) {
        auto& e = *static_cast<Events*>(self);
        e.tokens.push_back(token);
        e.last_events = events;
        if (e.quit_on != 0 && token == e.quit_on) {
            e.poller->quit();
        }
    }
    Poller* poller = nullptr;
    std::uint64_t quit_on = 0;
    std::vector<std::uint64_t> tokens;
    std::uint32_t last_events = 0;
};

// The wait ends when the earliest deadline is due, never before it.
TEST(Poller, TheWaitEndsAtTheEarliestDeadline) {
    Events events;
    Poller poller(&Events::on_ready, &events);
    events.poller = &poller;
    Timeouts later(10s);
    Timeouts soon(150ms);
    poller.watch(later);
    poller.watch(soon);
    struct Quit {
        Poller* poller;
        Timeout timeout{&Quit::expired, this};
        static void expired(void* self) { static_cast<Quit*>(self)->poller->quit(); }
    } quit{&poller};
    std::vector<int> fired;
    Recorded far(fired, 1);
    const auto start = Clock::now();
    later.arm(far.timeout, start);
    soon.arm(quit.timeout, start);
    poller.run();
    const auto waited = Clock::now() - start;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 5s); // not the 10 s deadline
    EXPECT_TRUE(fired.empty());
    EXPECT_TRUE(far.timeout.armed());
}

// wake() from other threads reaches the loop's thread, however many come at once.
TEST(Poller, WakeFromAnotherThreadReachesTheLoop) {
    Events events;
    Poller poller(&Events::on_ready, &events);
    events.poller = &poller;
    events.quit_on = Poller::woken_token;
    std::thread waker([&poller] {
        std::this_thread::sleep_for(50ms);
        for (int i = 0; i < 100; ++i) {
            poller.wake();
        }
    });
    poller.run(); // no deadline: only the wake-up ends it
    waker.join();
    ASSERT_FALSE(events.tokens.empty());
    EXPECT_EQ(events.tokens.front(), Poller::woken_token);
    // The eventfd was reset: a later wake() is a new event.
    events.tokens.clear();
    poller.wake();
    poller.run();
    EXPECT_EQ(events.tokens, (std::vector<std::uint64_t>{Poller::woken_token}));
}

// A socket's readiness comes with its token, edge-triggered: once per new input.
TEST(Poller, SocketEventsCarryTheirToken) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
    Events events;
    Poller poller(&Events::on_ready, &events);
    events.poller = &poller;
    events.quit_on = 42;
    ASSERT_FALSE(poller.add(pair[0], EPOLLIN | EPOLLRDHUP | EPOLLET, 42));
    ASSERT_EQ(::write(pair[1], "x", 1), 1);
    poller.run();
    EXPECT_EQ(events.tokens, (std::vector<std::uint64_t>{42}));
    EXPECT_NE(events.last_events & EPOLLIN, 0U);
    ::close(pair[1]); // the peer's FIN
    events.tokens.clear();
    poller.run();
    EXPECT_EQ(events.tokens, (std::vector<std::uint64_t>{42}));
    EXPECT_NE(events.last_events & EPOLLRDHUP, 0U);
    ::close(pair[0]);
}

} // namespace
