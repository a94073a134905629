// Limits (spec §7): each at its value decodes, one past it is its own error at the first byte
// past the limit — in the one-shot decoder and while a stream is still arriving.
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace tcpchat {
namespace {

using test::chunked;
using test::one_shot;

std::string bridge_with_id(std::size_t n) {
    return "BRIDGE\r\nclientID: " + std::string(n, 'i') + "\r\n\r\n";
}

std::string with_headers(std::size_t n) {
    std::string m = "BRIDGE\r\nclientID: a\r\n";
    for (std::size_t i = 1; i < n; ++i) {
        m += "X-" + std::to_string(i) + ": v\r\n";
    }
    return m + "\r\n";
}

TEST(Limits, LineLengthAtAndPast) {
    const Limits lim;
    const std::string at(lim.line_length, 'x');
    const Decoded ok = decode(Context::chat, at + "\r\n");
    ASSERT_TRUE(ok);
    EXPECT_EQ(std::get<Text>(ok.value()).text.size(), lim.line_length);

    const Decoded past = decode(Context::chat, at + "x\r\n");
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code, Errc::line_too_long);
    EXPECT_EQ(past.error().offset, lim.line_length);
}

TEST(Limits, LineLengthInAHeaderLine) {
    Limits lim;
    lim.line_length = 40;
    // "clientID: " is 10 bytes: an id of 30 fills the line exactly.
    EXPECT_TRUE(decode(Context::request, bridge_with_id(30), {Leniency::all, lim}));
    lim.id_length = 100;
    const Decoded past = decode(Context::request, bridge_with_id(31), {Leniency::all, lim});
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code, Errc::line_too_long);
    EXPECT_EQ(past.error().offset, 8U + 40U);
}

TEST(Limits, IdLengthAtAndPast) {
    const Limits lim;
    EXPECT_TRUE(decode(Context::request, bridge_with_id(lim.id_length)));
    const Decoded past = decode(Context::request, bridge_with_id(lim.id_length + 1));
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code, Errc::id_too_long);
    EXPECT_EQ(past.error().offset, 18 + lim.id_length);
}

TEST(Limits, HeaderCountAtAndPast) {
    const Limits lim;
    EXPECT_TRUE(decode(Context::request, with_headers(lim.header_count)));
    const std::string past = with_headers(lim.header_count + 1);
    const Decoded d = decode(Context::request, past);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::too_many_headers);
    EXPECT_EQ(d.error().offset, past.rfind("X-"));
}

TEST(Limits, MessageSizeAtAndPast) {
    Limits lim;
    lim.message_size = 64;
    std::string m = with_headers(3); // 21 + 2 * 8 + 2 = 39 bytes
    ASSERT_EQ(m.size(), 39U);
    // Grow the last header's value until the message is exactly the limit.
    m.insert(m.size() - 4, std::string(lim.message_size - m.size(), 'v'));
    ASSERT_EQ(m.size(), lim.message_size);
    EXPECT_TRUE(decode(Context::request, m, {Leniency::all, lim}));
    m.insert(m.size() - 4, "v");
    const Decoded d = decode(Context::request, m, {Leniency::all, lim});
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::message_too_large);
    EXPECT_EQ(d.error().offset, lim.message_size);
}

// A peer that never ends its line is stopped when the byte past the limit arrives, not when
// the line ends (it may never end).
TEST(Limits, EnforcedBeforeTheLineEnds) {
    const Limits lim;
    StreamDecoder decoder(Context::chat);
    const std::string flood(lim.line_length, 'x');
    Step step = decoder.feed(flood);
    EXPECT_EQ(step.status, Status::need_more);
    step = decoder.feed("x");
    ASSERT_EQ(step.status, Status::error);
    EXPECT_EQ(step.error.code, Errc::line_too_long);
    EXPECT_EQ(step.error.offset, lim.line_length);
}

TEST(Limits, MessageSizeEnforcedBeforeTheMessageEnds) {
    Limits lim;
    lim.message_size = 100;
    StreamDecoder decoder(Context::request, {Leniency::all, lim});
    std::string m = "BRIDGE\r\nclientID: a\r\n";
    while (m.size() <= lim.message_size) {
        m += "X: 0123456789\r\n";
    }
    std::size_t fed = 0;
    Step step;
    while (fed < m.size()) {
        step = decoder.feed(std::string_view(m).substr(fed, 1));
        fed += step.consumed;
        if (step.status == Status::error) {
            break;
        }
    }
    ASSERT_EQ(step.status, Status::error);
    EXPECT_EQ(step.error.code, Errc::message_too_large);
    EXPECT_EQ(step.error.offset, lim.message_size);
    EXPECT_LE(fed, lim.message_size + 1); // it stopped reading at the limit
}

// The same limits, whatever the split.
TEST(Limits, SameErrorWhateverTheSplit) {
    Limits lim;
    lim.line_length = 16;
    lim.message_size = 48;
    lim.header_count = 2;
    const DecodeOptions o{Leniency::all, lim};
    const std::string inputs[] = {
        "BRIDGE\r\nclientID: aaaaaaaaaaaaa\r\n\r\n",
        "BRIDGE\r\nclientID: a\r\nX: 1\r\nY: 2\r\n\r\n",
        "BRIDGE\r\nclientID: a\r\nX: 0123456789abcdef\r\n\r\n",
        std::string("BRIDGE\r\nclientID: a\r\nX: 123456\x01\r\n\r\n"),
        "BRIDGE\r\nclientID: a\r\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    };
    for (const std::string& in : inputs) {
        const auto expected = one_shot(Context::request, in, o);
        ASSERT_TRUE(expected.error) << in << ": " << expected;
        for (std::size_t cut = 0; cut <= in.size(); ++cut) {
            EXPECT_EQ(chunked(Context::request, in, {cut}, o), expected) << in << " cut " << cut;
        }
    }
}

} // namespace
} // namespace tcpchat
