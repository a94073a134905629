// The incremental decoder (spec §4.1): a stream split at every byte position, dripped a byte at
// a time, or coalesced into one chunk yields the same messages and the same error at the same
// offset as the one-shot decode of the whole stream.
#include "test_support.hpp"
#include "throw_count.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <random>

namespace tcpchat {
namespace {

using test::chunked;
using test::one_shot;
using test::unescape;

struct StreamCase {
    const char* name;
    Context context;
    const char* bytes;
    std::size_t messages; // messages expected before the end or the error
    bool error;
};

// clang-format off
const StreamCase streams[] = {
    {"requests", Context::request,
     R"(REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\nBRIDGE\r\nclientID: user1\r\n\r\n)"
     R"(REGISTER\r\nPort:3001\r\nIP: ::1\r\nclientID: user2\r\nX-Extra: yes\r\n\r\nBRIDGE\r\nclientID: user2\r\n\r\n)", 4, false},
    {"responses", Context::response,
     R"(REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\nBRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n)"
     R"(REGACK\r\nclientID: u\r\nIP: 1.2.3.4\r\nPort: 3\r\nStatus: registered\r\n\r\nERROR\r\nCode: 503\r\nReason: busy\r\n\r\n)", 4, false},
    {"chat_session", Context::chat_open,
     R"(CHAT\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\nhello\r\n\r\n\\QUIT\r\nQUIT\r\nok\r\nsee you\r\nQUIT\r\n\r\n)", 8, false},
    {"chat_then_garbage_after_quit", Context::chat, R"(bye\r\nQUIT\r\n\r\nmore\r\n)", 2, true},
    {"error_mid_stream", Context::request, R"(BRIDGE\r\nclientID: a\r\n\r\nBRIDGE\r\nclientID: b c\r\n\r\n)", 1, true},
    {"bare_lf_mid_stream", Context::chat, R"(one\r\ntwo\nthree\r\n)", 1, true},
    {"cut_off", Context::request, R"(BRIDGE\r\nclientID: a\r\n\r\nREGISTER\r\nclientID: b\r\n)", 1, true},
    {"quit_text_at_end", Context::chat, R"(QUIT\r\n)", 1, false},
    {"quit_text_then_a_cut_line", Context::chat, R"(hi\r\nQUIT\r\n\r)", 2, true},
    {"quit_then_line_ends", Context::chat, R"(QUIT\r\n\r\n\r\n\r)", 1, false},
    {"short_lines", Context::chat, R"(a\r\nQ\r\nQU\r\nQUI\r\nQUITE\r\n\r\n)", 6, false},
};
// clang-format on

class Split : public ::testing::TestWithParam<StreamCase> {};

TEST_P(Split, OneShotAsExpected) {
    const StreamCase& c = GetParam();
    const auto expected = one_shot(c.context, unescape(c.bytes));
    EXPECT_EQ(expected.messages.size(), c.messages) << expected;
    EXPECT_EQ(expected.error.has_value(), c.error) << expected;
}

TEST_P(Split, AtEveryPosition) {
    const StreamCase& c = GetParam();
    const std::string bytes = unescape(c.bytes);
    const auto expected = one_shot(c.context, bytes);
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        ASSERT_EQ(chunked(c.context, bytes, {cut}), expected) << "split at " << cut;
    }
}

TEST_P(Split, AtEveryPairOfPositions) {
    const StreamCase& c = GetParam();
    const std::string bytes = unescape(c.bytes);
    const auto expected = one_shot(c.context, bytes);
    for (std::size_t a = 0; a <= bytes.size(); a += 3) {
        for (std::size_t b = a; b <= bytes.size(); b += 5) {
            ASSERT_EQ(chunked(c.context, bytes, {a, b}), expected) << "split at " << a << ", " << b;
        }
    }
}

TEST_P(Split, OneByteAtATime) {
    const StreamCase& c = GetParam();
    const std::string bytes = unescape(c.bytes);
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < bytes.size(); ++i) {
        cuts.push_back(i);
    }
    EXPECT_EQ(chunked(c.context, bytes, cuts), one_shot(c.context, bytes));
}

TEST_P(Split, RandomChunks) {
    const StreamCase& c = GetParam();
    const std::string bytes = unescape(c.bytes);
    const auto expected = one_shot(c.context, bytes);
    std::mt19937 rng(42);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::size_t> cuts;
        for (std::size_t at = 0; at < bytes.size();) {
            at += 1 + rng() % 20;
            if (at < bytes.size()) {
                cuts.push_back(at);
            }
        }
        ASSERT_EQ(chunked(c.context, bytes, cuts), expected) << "round " << round;
    }
}

// Each message comes out before the next chunk is fed, not only at finish(): in a chat of turns,
// a line held back until the peer's next chunk would not be shown in time.
TEST_P(Split, EachMessageBeforeTheNextChunk) {
    const StreamCase& c = GetParam();
    const std::string bytes = unescape(c.bytes);
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        ASSERT_TRUE(test::prompt(c.context, bytes, {cut})) << "split at " << cut;
    }
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < bytes.size(); ++i) {
        cuts.push_back(i);
    }
    EXPECT_TRUE(test::prompt(c.context, bytes, cuts)) << "one byte at a time";
}

// Valid input cut anywhere is decoded without an exception (spec §4.1): the decoder goes on from
// the lines it checked instead of parsing the message again and failing at the cut.
TEST_P(Split, ValidInputCutAnywhereThrowsNothing) {
    const StreamCase& c = GetParam();
    if (c.error) {
        return; // an error may be found by an exception: only valid input is held to it
    }
    const std::string bytes = unescape(c.bytes);
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < bytes.size(); ++i) {
        every.push_back(i);
    }
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        for (const auto& cuts : {std::vector<std::size_t>{cut}, every}) {
            const std::uint64_t before = test::throws();
            const auto after = test::fed(c.context, bytes, cuts);
            ASSERT_EQ(test::throws(), before) << "split at " << cut;
            ASSERT_FALSE(after.back().error) << "split at " << cut;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Streams, Split, ::testing::ValuesIn(streams),
                         [](const auto& info) { return std::string(info.param.name); });

// Many messages in one chunk are decoded in place, with the right offsets.
TEST(StreamDecoder, CoalescedMessagesInOneChunk) {
    std::string stream;
    for (int i = 0; i < 1000; ++i) {
        stream += "BRIDGE\r\nclientID: user" + std::to_string(i) + "\r\n\r\n";
    }
    StreamDecoder decoder(Context::request);
    std::string_view data = stream;
    int n = 0;
    for (;;) {
        const Step step = decoder.feed(data);
        data.remove_prefix(step.consumed);
        if (step.status != Status::message) {
            EXPECT_EQ(step.status, Status::need_more);
            break;
        }
        EXPECT_EQ(std::get<Bridge>(decoder.message()).id, "user" + std::to_string(n));
        ++n;
    }
    EXPECT_EQ(n, 1000);
    EXPECT_EQ(decoder.offset(), stream.size());
    EXPECT_TRUE(decoder.idle());
    EXPECT_EQ(decoder.finish().status, Status::end);
}

TEST(StreamDecoder, ContextMovesFromChatOpenToChat) {
    StreamDecoder decoder(Context::chat_open);
    const std::string chat = "CHAT\r\nclientID: b\r\nIP: 1.2.3.4\r\nPort: 9\r\n\r\nCHAT\r\n";
    std::string_view data = chat;
    Step step = decoder.feed(data);
    ASSERT_EQ(step.status, Status::message);
    EXPECT_EQ(decoder.context(), Context::chat);
    data.remove_prefix(step.consumed);
    // A second CHAT is text, once a pause says it is not a message-framed turn (§9.2).
    step = decoder.feed(data);
    EXPECT_EQ(step.status, Status::need_more);
    step = decoder.pause();
    ASSERT_EQ(step.status, Status::message);
    EXPECT_EQ(std::get<Text>(decoder.message()).text, "CHAT");
}

TEST(StreamDecoder, ErrorIsSticky) {
    StreamDecoder decoder(Context::request);
    Step step = decoder.feed("NOPE\r\n");
    ASSERT_EQ(step.status, Status::error);
    EXPECT_EQ(decoder.error().code, Errc::unknown_method);
    step = decoder.feed("BRIDGE\r\nclientID: a\r\n\r\n");
    EXPECT_EQ(step.status, Status::error);
    EXPECT_EQ(step.consumed, 0U);
    decoder.reset(Context::request);
    EXPECT_EQ(decoder.feed("BRIDGE\r\nclientID: a\r\n\r\n").status, Status::message);
}

// A method line cut before its LF waits only while it can still become one: the start of a
// method, a method and the start of CRLF (spec §4.2). Anything else is decided on the bytes so
// far, with the error and offset a decode of those bytes alone reports (§8).
struct UnfinishedMethodLine {
    Context context;
    const char* bytes;
    bool waits;
};

// clang-format off
const UnfinishedMethodLine unfinished_method_lines[] = {
    {Context::request, "R", true},            {Context::request, "REGI", true},
    {Context::request, "REGISTER", true},     {Context::request, "REGISTER\r", true},
    {Context::request, "BRIDGEA", true},      {Context::request, "BRIDGE", true},
    {Context::request, "BRIDGE\r", true},     {Context::response, "REGAC", true},
    {Context::response, "BRIDGEACK\r", true}, {Context::response, "ERRO", true},
    {Context::response, "ERROR\r", true},
    {Context::request, "REGX", false},        {Context::request, "REGISTERS", false},
    {Context::request, "REGISTER\rX", false}, {Context::request, "BRIDGE ", false},
    {Context::request, "BRIDGEACKS", false},  {Context::request, "register", false},
    {Context::response, "ERROR ", false},     {Context::response, "X", false},
};
// clang-format on

TEST(StreamDecoder, AnUnfinishedMethodLineWaitsOnlyWhileItCanStillBeOne) {
    for (const UnfinishedMethodLine& row : unfinished_method_lines) {
        SCOPED_TRACE(row.bytes);
        StreamDecoder decoder(row.context);
        const Step step = decoder.feed(row.bytes);
        if (row.waits) {
            EXPECT_EQ(step.status, Status::need_more);
            continue;
        }
        ASSERT_EQ(step.status, Status::error);
        const Decoded whole = decode(row.context, row.bytes);
        ASSERT_FALSE(whole.ok());
        EXPECT_EQ(decoder.error(), whole.error());
    }
}

// The same for every method of spec §4.2 and every byte, in both framed contexts: bytes that
// start a method's line wait (a method not of the context is an error only once its line ends);
// any others are decided at once, as a decode of those bytes alone decides them.
TEST(StreamDecoder, EveryMethodLineWaitsUntilItCannotBeOne) {
    const std::string_view methods[] = {"REGISTER", "REGACK", "BRIDGE", "BRIDGEACK",
                                        "CHAT",     "QUIT",   "ERROR"};
    const auto may_become_one = [&](std::string_view bytes) {
        return std::any_of(std::begin(methods), std::end(methods), [&](std::string_view m) {
            return (std::string(m) + "\r\n").starts_with(bytes);
        });
    };
    for (const Context context : {Context::request, Context::response}) {
        for (const std::string_view method : methods) {
            const std::string line = std::string(method) + "\r\n";
            for (std::size_t n = 0; n < line.size(); ++n) {
                for (unsigned b = 0; b < 256; ++b) {
                    const std::string bytes = line.substr(0, n) + char(b);
                    if (b == '\n' || bytes == "\r") {
                        // A whole line, or a bare LF: decided as one. A CR first waits for the
                        // byte that tells a bare CR from an empty line (§8: two errors).
                        continue;
                    }
                    StreamDecoder decoder(context);
                    const Step step = decoder.feed(bytes);
                    if (may_become_one(bytes)) {
                        EXPECT_EQ(step.status, Status::need_more) << testing::PrintToString(bytes);
                        continue;
                    }
                    if (step.status != Status::error) {
                        ADD_FAILURE() << "waits: " << testing::PrintToString(bytes);
                        continue;
                    }
                    const Decoded whole = decode(context, bytes);
                    ASSERT_FALSE(whole.ok());
                    EXPECT_EQ(decoder.error(), whole.error()) << testing::PrintToString(bytes);
                }
            }
        }
    }
}

// A text line `QUIT` could still become the QUIT message until the next two bytes arrive.
TEST(StreamDecoder, WaitsForTheByteThatTellsQuitFromText) {
    StreamDecoder decoder(Context::chat);
    EXPECT_EQ(decoder.feed("QUIT\r\n").status, Status::need_more);
    const Step step = decoder.feed("\r\n");
    ASSERT_EQ(step.status, Status::message);
    EXPECT_TRUE(std::holds_alternative<Quit>(decoder.message()));
}

// The text line after a text `QUIT` comes out with the chunk that completes it: the decoder
// holds it already, and must not wait for another chunk (or the end of the stream) to yield it.
// (Without quit_forms: else QUIT, a line and an empty line may still be a farewell, §9.2.)
TEST(StreamDecoder, LineAfterQuitTextComesOutWithItsChunk) {
    StreamDecoder decoder(Context::chat, {~Leniency::quit_forms, {}});
    EXPECT_EQ(decoder.feed("QUIT\r\n").status, Status::need_more);
    std::string_view data = "hello\r\n";
    Step step = decoder.feed(data);
    data.remove_prefix(step.consumed);
    ASSERT_EQ(step.status, Status::message);
    EXPECT_EQ(std::get<Text>(decoder.message()).text, "QUIT");
    step = decoder.feed(data);
    ASSERT_EQ(step.status, Status::message);
    EXPECT_EQ(std::get<Text>(decoder.message()).text, "hello");
    EXPECT_TRUE(decoder.idle());
}

TEST(StreamDecoder, ShortLineIsYieldedAtOnce) {
    StreamDecoder decoder(Context::chat);
    const Step step = decoder.feed("ok\r\n");
    ASSERT_EQ(step.status, Status::message);
    EXPECT_EQ(std::get<Text>(decoder.message()).text, "ok");
}

} // namespace
} // namespace tcpchat
