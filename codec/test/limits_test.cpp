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

// Spec §7 "Precisely" and §8: what the byte at a limit's offset is decides the error, and of
// several faults the first one reading left to right is reported. One-shot and whatever the split.
TEST(Limits, TheByteAtTheLimitAndTheFirstFault) {
    struct Case {
        const char* what;
        Context context;
        std::string bytes;
        Limits limits;
        std::optional<DecodeError> error; // none: every byte decodes
    };
    const auto limits = [](std::size_t line, std::size_t id, std::size_t message,
                           std::size_t headers = Limits{}.header_count) {
        Limits l;
        l.line_length = line;
        l.id_length = id;
        l.message_size = message;
        l.header_count = headers;
        return l;
    };
    const Limits ten = limits(10, 64, 4096);
    const std::string at(10, 'x');
    const auto error = [](Errc code, std::uint64_t offset) {
        return DecodeError{code, offset, ""};
    };
    const std::string id26 = "BRIDGE\r\nclientID: abcdefghijklmnopqrstuvwxyz\r\n\r\n";
    const Case cases[] = {
        {"a text line of MAX-LINE", Context::chat, at + "\r\n", ten, {}},
        {"content at MAX-LINE", Context::chat, at + "x\r\n", ten, error(Errc::line_too_long, 10)},
        {"a control byte at MAX-LINE", Context::chat, at + "\x01\r\n", ten,
         error(Errc::invalid_byte, 10)},
        {"DEL at MAX-LINE", Context::chat, at + "\x7F\r\n", ten, error(Errc::invalid_byte, 10)},
        {"an LF at MAX-LINE", Context::chat, at + "\n", ten, error(Errc::bare_lf, 10)},
        {"a lone CR at MAX-LINE", Context::chat, at + "\rx", ten, error(Errc::invalid_byte, 10)},
        {"a control byte at MAX-LINE of a later line", Context::chat, "hi\r\n" + at + "\x01", ten,
         error(Errc::invalid_byte, 14)},
        {"a control byte at MAX-LINE of a header line", Context::request,
         "BRIDGE\r\nX: 1234567\x01\r\n\r\n", ten, error(Errc::invalid_byte, 18)},
        {"an LF at MAX-LINE of a header line", Context::request, "BRIDGE\r\nX: 1234567\n", ten,
         error(Errc::bare_lf, 18)},
        {"a clientID past MAX-ID before its line is past MAX-LINE", Context::request, id26,
         limits(20, 4, 4096), error(Errc::id_too_long, 22)},
        {"a line past MAX-LINE before its clientID is past MAX-ID", Context::request, id26,
         limits(12, 4, 4096), error(Errc::line_too_long, 20)},
        {"a message past MAX-MESSAGE before its clientID is past MAX-ID", Context::request, id26,
         limits(1024, 4, 20), error(Errc::message_too_large, 20)},
        {"a clientID past MAX-ID when the stream ends inside it", Context::request,
         "BRIDGE\r\nclientID: abcdefg", limits(1024, 4, 4096), error(Errc::id_too_long, 22)},
        // two limits at the same byte: the line's or the message's before the clientID's and the
        // header count's
        {"a clientID past MAX-ID where its line is past MAX-LINE", Context::request, id26,
         limits(14, 4, 4096), error(Errc::line_too_long, 22)},
        {"a clientID past MAX-ID where the message is past MAX-MESSAGE", Context::request, id26,
         limits(1024, 4, 22), error(Errc::message_too_large, 22)},
        {"a header line one too many at MAX-MESSAGE", Context::request,
         "BRIDGE\r\nclientID: user2000\r\nX: 1\r\n\r\n", limits(1024, 64, 28, 1),
         error(Errc::message_too_large, 28)},
        {"the empty line at MAX-MESSAGE after MAX-HEADERS header lines", Context::request,
         "BRIDGE\r\nclientID: user2000\r\n\r\n", limits(1024, 64, 28, 1),
         error(Errc::message_too_large, 28)},
        {"a CR last after MAX-HEADERS header lines: maybe the empty line", Context::request,
         "BRIDGE\r\nclientID: a\r\n\r", limits(1024, 64, 4096, 1), error(Errc::truncated, 22)},
        {"a header line one too many before MAX-MESSAGE", Context::request,
         "BRIDGE\r\nclientID: user2000\r\nX: 1\r\n\r\n", limits(1024, 64, 29, 1),
         error(Errc::too_many_headers, 28)},
    };
    for (const Case& c : cases) {
        const DecodeOptions o{Leniency::all, c.limits};
        const auto expected = one_shot(c.context, c.bytes, o);
        ASSERT_EQ(expected.error.has_value(), c.error.has_value()) << c.what << ": " << expected;
        if (c.error) {
            EXPECT_EQ(expected.error->code, c.error->code) << c.what;
            EXPECT_EQ(expected.error->offset, c.error->offset) << c.what;
        }
        std::vector<std::size_t> every_byte;
        for (std::size_t cut = 0; cut <= c.bytes.size(); ++cut) {
            EXPECT_EQ(chunked(c.context, c.bytes, {cut}, o), expected) << c.what << " cut " << cut;
            every_byte.push_back(cut);
        }
        EXPECT_EQ(chunked(c.context, c.bytes, every_byte, o), expected)
            << c.what << " a byte at a time";
    }
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
    EXPECT_EQ(decoder.error().code, Errc::line_too_long);
    EXPECT_EQ(decoder.error().offset, lim.line_length);
}

// The same in a request whose lines so far are canonical, all in one chunk: the header line
// that never ends is judged when it arrives. A clientID that long is past MAX-ID first, at
// value start + MAX-ID (§8: the first fault reading left to right).
TEST(Limits, EnforcedBeforeAHeaderLineEnds) {
    const Limits lim;
    const std::string method = "REGISTER\r\n";
    struct Case {
        std::string key;
        Errc code;
        std::size_t offset;
    };
    const Case cases[] = {
        {"X: ", Errc::line_too_long, method.size() + lim.line_length},
        {"clientID: ", Errc::id_too_long, method.size() + 10 + lim.id_length},
    };
    for (const Case& c : cases) {
        StreamDecoder decoder(Context::request);
        const std::string flood = method + c.key + std::string(lim.line_length, 'a');
        const Step step = decoder.feed(flood);
        ASSERT_EQ(step.status, Status::error) << c.key;
        EXPECT_EQ(decoder.error().code, c.code) << c.key;
        EXPECT_EQ(decoder.error().offset, c.offset) << c.key;
    }
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
    EXPECT_EQ(decoder.error().code, Errc::message_too_large);
    EXPECT_EQ(decoder.error().offset, lim.message_size);
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

// A turn of three lines (§9.2: QUIT or CHAT, a text line, the empty line) is a framed message
// and MAX-MESSAGE applies to it (§7), but until the byte that decides arrives its first line may
// still be a text line of its own (§5.7): the verdict is the same whatever the split (§4.1). At
// the limit, one past it, and ruled out past it by a line, a byte or the end of the stream, in
// the lenient profile and strict about an unstuffed QUIT.
TEST(Limits, ChatTurnsAtAndPastMessageSizeWhateverTheSplit) {
    struct Case {
        std::size_t message_size;
        std::string bytes;
        std::vector<std::string> messages;
        std::optional<DecodeError> error;
        Leniency leniency = Leniency::all;
        std::size_t line_length = Limits{}.line_length;
    };
    const Leniency strict_quit = Leniency::all & ~Leniency::unstuffed_quit;
    const auto unstuffed = DecodeError{Errc::unstuffed_quit, 0, ""};
    const auto too_large = [](std::uint64_t at) {
        return DecodeError{Errc::message_too_large, at, ""};
    };
    const Case cases[] = {
        {16, "QUIT\r\n012345\r\n\r\n", {"QUIT{}"}, {}},
        {16, "QUIT\r\n0123456\r\n\r\n", {}, too_large(16)},
        {16,
         "QUIT\r\n0123456789\r\nok\r\n",
         {"Text{\"QUIT\"}", "Text{\"0123456789\"}", "Text{\"ok\"}"},
         {}},
        {16, "QUIT\r\n0123456789\x01", {"Text{\"QUIT\"}"}, DecodeError{Errc::invalid_byte, 16, ""}},
        {8, "QUIT\r\nare", {"Text{\"QUIT\"}", "Text{\"are\"}"}, {}},
        {8, "QUIT\r\nare\r\n", {"Text{\"QUIT\"}", "Text{\"are\"}"}, {}},
        // QUIT and line ends (§5.7): the line ends are dropped, not part of QUIT's 8 bytes
        {8, "QUIT\r\n\r\n\r\n\r\n", {"QUIT{}"}, {}},
        {7, "QUIT\r\n\r\n\r\n", {}, too_large(7)},
        {20, "CHAT\r\nMESSAGE:ab\r\n\r\n", {"Text{\"ab\"}"}, {}},
        {20, "CHAT\r\nMESSAGE:abc\r\n\r\n", {}, too_large(20)},
        {20,
         "CHAT\r\nMESSAGE:abcdef\r\nok\r\n",
         {"Text{\"CHAT\"}", "Text{\"MESSAGE:abcdef\"}", "Text{\"ok\"}"},
         {}},
        // strict about an unstuffed QUIT: a QUIT line no turn follows is refused as a text line,
        // once a byte rules the turn out (a control byte, the turn's text line past MAX-LINE)
        {16, "QUIT\r\n0123456789ab\x01", {}, unstuffed, strict_quit},
        {16, "QUIT\r\n0123456789abc", {}, unstuffed, strict_quit, 12},
        {16, "QUIT\r\n0123456789\r\n\r\n", {}, too_large(16), strict_quit},
    };
    for (const Case& c : cases) {
        Limits lim;
        lim.message_size = c.message_size;
        lim.line_length = c.line_length;
        const DecodeOptions o{c.leniency, lim};
        const auto expected = one_shot(Context::chat, c.bytes, o);
        EXPECT_EQ(expected.messages, c.messages) << c.bytes;
        ASSERT_EQ(expected.error.has_value(), c.error.has_value()) << c.bytes << ": " << expected;
        if (c.error) {
            EXPECT_EQ(expected.error->code, c.error->code) << c.bytes;
            EXPECT_EQ(expected.error->offset, c.error->offset) << c.bytes;
        }
        std::vector<std::size_t> every_byte;
        for (std::size_t cut = 0; cut <= c.bytes.size(); ++cut) {
            EXPECT_EQ(chunked(Context::chat, c.bytes, {cut}, o), expected)
                << c.bytes << " cut " << cut;
            every_byte.push_back(cut);
        }
        EXPECT_EQ(chunked(Context::chat, c.bytes, every_byte, o), expected)
            << c.bytes << " a byte at a time";
    }
}

// Chat items past a small MAX-MESSAGE, some ended by the end of the stream (the rules of a whole
// turn, §5.6): whatever the verdict, a stream cut anywhere reaches the one-shot one (§4.1).
TEST(Limits, ChatPastMessageSizeSameWhateverTheSplit) {
    Limits lim;
    lim.message_size = 8;
    const DecodeOptions o{Leniency::all, lim};
    const std::string inputs[] = {
        "hello there",           "QUIT\r\nhello there",
        "QUIT\r\nare\r\n\r",     "QUIT\r\nhello\r\nthere",
        "CHAT\r\nMESSAGE:hello", "QUIT\r\n\r\n\r\n\r\n",
    };
    for (const std::string& in : inputs) {
        const auto expected = one_shot(Context::chat, in, o);
        for (std::size_t cut = 0; cut <= in.size(); ++cut) {
            EXPECT_EQ(chunked(Context::chat, in, {cut}, o), expected) << in << " cut " << cut;
        }
    }
}

// Text lines are bounded by MAX-LINE only (§7): with MAX-MESSAGE below MAX-LINE + 2, a text line
// of MAX-LINE bytes is a message, one byte more is line_too_long at line start + MAX-LINE, one-shot
// and whatever the split, in both profiles, in a chat or as a first turn after CHAT.
TEST(Limits, TextLinesJudgedByLineLengthOnly) {
    Limits lim;
    lim.line_length = 40;
    const std::string at(lim.line_length, 'x');
    const std::string chat = "CHAT\r\nclientID: a\r\nIP: ::1\r\nPort: 1\r\n\r\n";
    lim.message_size = chat.size(); // 39: a line of 40 and its CRLF is more
    struct Case {
        Context context;
        std::string bytes;
        std::vector<std::string> messages;
        std::optional<DecodeError> error;
    };
    const std::string text_at = "Text{\"" + at + "\"}";
    const std::string opened = "CHAT{clientID=a IP=::1 Port=1}";
    const Case cases[] = {
        {Context::chat, at + "\r\n", {text_at}, {}},
        {Context::chat,
         "hi\r\n" + at + "\r\nok\r\n",
         {"Text{\"hi\"}", text_at, "Text{\"ok\"}"},
         {}},
        {Context::chat, at + "x\r\n", {}, DecodeError{Errc::line_too_long, 40, ""}},
        // a control byte at MAX-MESSAGE, within MAX-LINE: the byte's own error (§4.1)
        {Context::chat, at.substr(1) + "\x01\r\n", {}, DecodeError{Errc::invalid_byte, 39, ""}},
        {Context::chat,
         "hi\r\n" + at + "x",
         {"Text{\"hi\"}"},
         DecodeError{Errc::line_too_long, 44, ""}},
        {Context::chat_open, chat + at + "\r\n", {opened, text_at}, {}},
        {Context::chat_open,
         chat + at + "x\r\n",
         {opened},
         DecodeError{Errc::line_too_long, chat.size() + 40, ""}},
    };
    for (const Case& c : cases) {
        for (const Leniency l : {Leniency::all, Leniency::none}) {
            const DecodeOptions o{l, lim};
            const auto expected = one_shot(c.context, c.bytes, o);
            EXPECT_EQ(expected.messages, c.messages) << c.bytes << ": " << expected;
            ASSERT_EQ(expected.error.has_value(), c.error.has_value())
                << c.bytes << ": " << expected;
            if (c.error) {
                EXPECT_EQ(expected.error->code, c.error->code) << c.bytes;
                EXPECT_EQ(expected.error->offset, c.error->offset) << c.bytes;
            }
            std::vector<std::size_t> every_byte;
            for (std::size_t cut = 0; cut <= c.bytes.size(); ++cut) {
                EXPECT_EQ(chunked(c.context, c.bytes, {cut}, o), expected)
                    << c.bytes << " cut " << cut;
                every_byte.push_back(cut);
            }
            EXPECT_EQ(chunked(c.context, c.bytes, every_byte, o), expected)
                << c.bytes << " a byte at a time";
        }
    }
}

} // namespace
} // namespace tcpchat
