// A chat in full swing costs no heap allocation (peer_link.hpp):
// two links of our own over loopback, made by Initiator and WaitMode as the client makes them,
// ping-pong lines; once both are warm, the lines between them must not call operator new. This
// executable replaces the global operator new to count the calls made on the test's thread.
#include "tcpchat/peer_link.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <gtest/gtest.h>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace {

thread_local std::uint64_t allocations = 0;

} // namespace

// Out of line, so that g++ does not pair an inlined free() with the caller's `new` and warn.
[[gnu::noinline]] void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace tcpchat {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Two links chatting: the waiting side answers every line, the initiator sends the next one.
class SteadyChat : public ::testing::Test {
  protected:
    void SetUp() override {
        PeerOptions options;
        options.chat_gap = 0ms;
        wait_mode.emplace(io.get_executor(), options, nullptr);
        ASSERT_FALSE(wait_mode->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
        wait_mode->async_wait([this](std::shared_ptr<PeerLink> link) {
            waiter = std::move(link);
            waiter->start({[this](std::string_view text) {
                               EXPECT_EQ(text, question);
                               // As tcp-chat-client does: check the line, then send it.
                               EXPECT_FALSE(check_text(answer));
                               EXPECT_FALSE(waiter->send_text(answer));
                           },
                           [this](const ChatEnded& end) { waiter_end = end; }});
        });
        const auto port = wait_mode->local_endpoint().port();
        initiator.emplace(io.get_executor(), options);
        initiator->async_open({"waiter", "127.0.0.1", port}, {"initiator", "127.0.0.1", 3000},
                              [this](PeerResult result) {
                                  ASSERT_TRUE(result.link) << result.message;
                                  asker = std::move(result.link);
                                  asker->start({[this](std::string_view text) {
                                                    EXPECT_EQ(text, answer);
                                                    ++answers;
                                                    if (answers < wanted) {
                                                        EXPECT_FALSE(asker->send_text(question));
                                                    }
                                                },
                                                [this](const ChatEnded& end) { asker_end = end; }});
                                  EXPECT_FALSE(asker->send_text(question));
                              });
    }

    // Runs until `n` answers came back in all, or the deadline (generous for a loaded machine).
    bool answered(int n) {
        wanted = n;
        if (answers < wanted && asker && asker->open()) {
            EXPECT_FALSE(asker->send_text(question));
        }
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (answers < wanted && std::chrono::steady_clock::now() < deadline && !waiter_end &&
               !asker_end) {
            io.run_one_for(10ms);
        }
        return answers >= wanted;
    }

    const std::string question = std::string(64, 'q');
    const std::string answer = std::string(1000, 'a');
    asio::io_context io{chat_concurrency_hint}; // as tcp-chat-client's
    std::optional<WaitMode> wait_mode;
    std::optional<Initiator> initiator;
    std::shared_ptr<PeerLink> waiter;
    std::shared_ptr<PeerLink> asker;
    std::optional<ChatEnded> waiter_end;
    std::optional<ChatEnded> asker_end;
    int answers = 0;
    int wanted = 0;
};

TEST_F(SteadyChat, LinesCostNoHeapAllocation) {
    // Warm: the connection made, the buffers grown to a line's size, the handler memory taken.
    ASSERT_TRUE(answered(10));
    wait_mode->close();
    const auto before = allocations;
    ASSERT_TRUE(answered(1010));
    EXPECT_EQ(allocations - before, 0U) << "operator new calls over 1000 round trips";

    asker->quit();
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while ((!asker_end || !waiter_end) && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(10ms);
    }
    ASSERT_TRUE(asker_end && waiter_end);
    EXPECT_EQ(asker_end->how, ChatEnd::quit_sent);
    EXPECT_EQ(waiter_end->how, ChatEnd::quit_received);
}

} // namespace
} // namespace tcpchat
