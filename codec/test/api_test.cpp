// The codec's small public API (decode.hpp, stream_decoder.hpp): a Step of two words, the message,
// its framing and the error read from the decoder, and the loop the documents show. The loop of
// README.md and of stream_decoder.hpp's comment is the one below, compiled and run here; a test
// reads both documents and checks they still show it.
#include "test_support.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

namespace tcpchat {
namespace {

static_assert(sizeof(Step) <= 16, "a Step is returned in two registers");

// What the documented loop's `handle` and `report` saw.
struct Seen {
    std::vector<std::string> handled;
    std::optional<DecodeError> reported;
    std::vector<Framing> framings;
};

// The loop of README.md, "The codec in five lines", with what it calls.
void documented_loop(tcpchat::StreamDecoder& decoder, std::string_view chunk, Seen& seen) {
    const auto handle = [&](const Message& m) {
        seen.handled.push_back(to_string(m));
        seen.framings.push_back(decoder.framing());
    };
    const auto report = [&](const DecodeError& e) { seen.reported = e; };
    // clang-format off
    for (std::string_view data = chunk;;) {
        const tcpchat::Step step = decoder.feed(data);
        data.remove_prefix(step.consumed);
        if (step.status == tcpchat::Status::message) handle(decoder.message());
        else if (step.status == tcpchat::Status::error) { report(decoder.error()); break; }
        else break;
    }
    // clang-format on
}

// The lines of the loop starting at the first line of `text` holding `for (std::string_view data`,
// up to the `}` that closes it: each without a leading `//` (a comment's example), whitespace or a
// trailing comment, so that only the code is compared.
std::vector<std::string> loop_lines(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> lines;
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        const std::size_t start = line.find_first_not_of(" /");
        std::string code = start == std::string::npos ? "" : line.substr(start);
        if (const std::size_t comment = code.find("//"); comment != std::string::npos) {
            code.erase(comment);
        }
        std::erase_if(code, [](char c) { return c == ' ' || c == '\t'; });
        if (!inside && code.starts_with("for(std::string_viewdata")) {
            inside = true;
        }
        if (inside) {
            lines.push_back(code);
            if (code == "}") {
                break;
            }
        }
    }
    return lines;
}

std::string read_source(const std::string& relative) {
    std::ifstream in(std::string(TCPCHAT_SOURCE_DIR) + "/" + relative);
    EXPECT_TRUE(in) << relative;
    std::ostringstream all;
    all << in.rdbuf();
    return all.str();
}

TEST(Api, DocumentedLoopIsTheOneTested) {
    const std::vector<std::string> tested = loop_lines(read_source("codec/test/api_test.cpp"));
    ASSERT_EQ(tested.size(), 7U);
    EXPECT_EQ(loop_lines(read_source("README.md")), tested) << "README.md";
    EXPECT_EQ(loop_lines(read_source("codec/include/tcpchat/stream_decoder.hpp")), tested)
        << "stream_decoder.hpp";
}

TEST(Api, DocumentedLoopYieldsEveryMessageOfAChunk) {
    StreamDecoder decoder(Context::request);
    Seen seen;
    const std::string two = "BRIDGE\r\nclientID: a\r\n\r\nBRIDGE\r\nclientID: b\r\n\r\nBRI";
    documented_loop(decoder, two, seen);
    EXPECT_EQ(seen.handled, (std::vector<std::string>{"BRIDGE{clientID=a}", "BRIDGE{clientID=b}"}));
    EXPECT_FALSE(seen.reported);
    documented_loop(decoder, "DGE\r\nclientID: c\r\n\r\n", seen);
    ASSERT_EQ(seen.handled.size(), 3U);
    EXPECT_EQ(seen.handled[2], "BRIDGE{clientID=c}");
}

TEST(Api, DocumentedLoopReportsTheError) {
    StreamDecoder decoder(Context::request);
    Seen seen;
    documented_loop(decoder, "BRIDGE\r\nclientID: a\r\n\r\nNOPE\r\n", seen);
    EXPECT_EQ(seen.handled, std::vector<std::string>{"BRIDGE{clientID=a}"});
    ASSERT_TRUE(seen.reported);
    EXPECT_EQ(*seen.reported, (DecodeError{Errc::unknown_method, 23, seen.reported->expected}));
}

// A chat turn's message and framing, read from the decoder, are what the decoding routine itself
// says of the same bytes (what a Step carried before): for each way a turn comes (spec §5.6, §9.2).
TEST(Api, MessageAndFramingAfterAChatTurn) {
    struct Case {
        const char* bytes;
        bool pause;
        const char* message;
        Framing framing;
    };
    const Case cases[] = {
        {R"(hello\r\n)", false, R"(Text{"hello"})", Framing::crlf},
        {"hi", true, R"(Text{"hi"})", Framing::bare},
        {R"(CHAT\r\nMESSAGE:hi\r\n\r\n)", false, R"(Text{"hi"})", Framing::message},
        {"QUIT", true, "QUIT{}", Framing::bare},
        {R"(QUIT\r\n\r\n)", false, "QUIT{}", Framing::crlf},
        {R"(QUIT\r\nGoodbye!\r\n\r\n)", false, "QUIT{}", Framing::message},
    };
    for (const Case& c : cases) {
        const std::string bytes = test::unescape(c.bytes);
        for (const bool byte_at_a_time : {false, true}) {
            StreamDecoder decoder(Context::chat);
            Step step;
            std::string_view rest = bytes;
            while (!rest.empty()) {
                const std::string_view chunk = rest.substr(0, byte_at_a_time ? 1 : rest.size());
                step = decoder.feed(chunk);
                ASSERT_NE(step.status, Status::error) << c.bytes;
                rest.remove_prefix(step.consumed);
                if (step.status == Status::message) {
                    break;
                }
            }
            if (c.pause) {
                ASSERT_EQ(step.status, Status::need_more) << c.bytes;
                step = decoder.pause();
            }
            ASSERT_EQ(step.status, Status::message) << c.bytes;
            EXPECT_EQ(to_string(decoder.message()), c.message) << c.bytes;
            EXPECT_EQ(decoder.framing(), c.framing) << c.bytes;
            const detail::Parsed whole = test::parsed(Context::chat, bytes, {}, c.pause);
            EXPECT_EQ(decoder.message(), whole.message) << c.bytes;
            EXPECT_EQ(decoder.framing(), whole.framing) << c.bytes;
        }
    }
}

// The second message comes out of message(), not the first, whether either was decoded in the
// input (a whole line in one chunk) or in the decoder's buffer (completed by a later chunk).
TEST(Api, MessageIsTheOneJustYielded) {
    for (const std::size_t cut : {0U, 2U, 5U, 7U, 9U}) {
        const std::string bytes = "one\r\ntwo\r\n";
        StreamDecoder decoder(Context::chat);
        std::vector<std::string> got;
        for (std::string_view data :
             {std::string_view(bytes).substr(0, cut), std::string_view(bytes).substr(cut)}) {
            for (;;) {
                const Step step = decoder.feed(data);
                data.remove_prefix(step.consumed);
                if (step.status != Status::message) {
                    break;
                }
                got.push_back(to_string(decoder.message()));
            }
        }
        EXPECT_EQ(got, (std::vector<std::string>{R"(Text{"one"})", R"(Text{"two"})"}))
            << "cut at " << cut;
    }
}

// After an error, every call returns Status::error, consumes nothing, and error() still says what
// the first one said: feed(), pause() and finish() alike.
TEST(Api, ErrorIsKeptAfterTheFirstReturn) {
    struct Case {
        Context context;
        const char* bytes;
        DecodeError error;
    };
    const Case cases[] = {
        {Context::request, R"(NOPE\r\n)", {Errc::unknown_method, 0, {}}},
        {Context::request,
         R"(BRIDGE\r\nclientID: a\r\n\r\nBRIDGE\r\nPort: 0\r\n\r\n)",
         {Errc::bad_port, 37, {}}},
        {Context::chat, R"(hi\r\nQUIT\r\n\r\nmore\r\n)", {Errc::data_after_quit, 12, {}}},
        {Context::chat, "a\x01\r\n", {Errc::invalid_byte, 1, {}}},
    };
    for (const Case& c : cases) {
        const std::string bytes = test::unescape(c.bytes);
        StreamDecoder decoder(c.context);
        std::string_view data = bytes;
        Step step;
        do {
            step = decoder.feed(data);
            data.remove_prefix(step.consumed);
        } while (step.status == Status::message);
        ASSERT_EQ(step.status, Status::error) << c.bytes;
        const DecodeError first = decoder.error();
        EXPECT_EQ(first.code, c.error.code) << c.bytes << ": " << first;
        EXPECT_EQ(first.offset, c.error.offset) << c.bytes << ": " << first;
        const StreamResult whole = test::reference_stream(c.context, bytes);
        ASSERT_TRUE(whole.error) << c.bytes;
        EXPECT_EQ(first, *whole.error) << c.bytes;
        for (int call = 0; call < 3; ++call) {
            const Step again = call == 0   ? decoder.feed("BRIDGE\r\nclientID: a\r\n\r\nhi\r\n")
                               : call == 1 ? decoder.pause()
                                           : decoder.finish();
            EXPECT_EQ(again.status, Status::error) << c.bytes << " call " << call;
            EXPECT_EQ(again.consumed, 0U) << c.bytes << " call " << call;
            EXPECT_EQ(decoder.error(), first) << c.bytes << " call " << call;
        }
        decoder.reset(Context::request);
        EXPECT_EQ(decoder.feed("BRIDGE\r\nclientID: a\r\n\r\n").status, Status::message);
    }
}

// decode_stream() is the stream decoder fed once and finished: what only the end of the stream
// completes is decoded too, and every view points into the caller's bytes, even of a message the
// decoder completed in its own buffer (which is gone when decode_stream returns).
TEST(Api, DecodeStreamFinishesAndItsViewsPointIntoTheInput) {
    struct Case {
        Context context;
        const char* bytes;
        std::vector<std::string> messages;
        std::optional<Errc> error;
    };
    const std::vector<Case> cases = {
        {Context::chat, R"(hi\r\nbye)", {R"(Text{"hi"})", R"(Text{"bye"})"}, {}},
        {Context::chat, "QUIT", {"QUIT{}"}, {}},
        {Context::chat, R"(x\r\nhello there)", {R"(Text{"x"})", R"(Text{"hello there"})"}, {}},
        {Context::request,
         R"(BRIDGE\r\nclientID: a\r\n\r\nBRIDGE\r\nclientID: b\r\n)",
         {"BRIDGE{clientID=a}"},
         Errc::truncated},
        {Context::response,
         R"(REGACK\r\nclientID: u\r\nIP: 10.0.0.1\r\nPort: 5\r\n\r\nERROR\r\nCode: 404\r\nReason: gone\r\n\r\n)",
         {"REGACK{clientID=u IP=10.0.0.1 Port=5}", R"(ERROR{Code=404 Reason="gone"})"},
         {}},
    };
    for (const Case& c : cases) {
        const std::string bytes = test::unescape(c.bytes);
        const StreamResult r = decode_stream(c.context, bytes);
        std::vector<std::string> printed;
        for (const Message& m : r.messages) {
            printed.push_back(to_string(m));
        }
        EXPECT_EQ(printed, c.messages) << c.bytes;
        EXPECT_EQ(r.error.has_value(), c.error.has_value()) << c.bytes;
        if (r.error && c.error) {
            EXPECT_EQ(r.error->code, *c.error) << c.bytes;
        }
        const auto inside = [&](std::string_view v) {
            return v.empty() || (std::less_equal<const char*>()(bytes.data(), v.data()) &&
                                 std::less_equal<const char*>()(v.data() + v.size(),
                                                                bytes.data() + bytes.size()));
        };
        for (const Message& m : r.messages) {
            if (const auto* t = std::get_if<Text>(&m)) {
                EXPECT_TRUE(inside(t->text)) << c.bytes;
            } else if (const auto* a = std::get_if<RegAck>(&m)) {
                EXPECT_TRUE(inside(a->self.id) && inside(a->self.host)) << c.bytes;
            } else if (const auto* e = std::get_if<ErrorReply>(&m)) {
                EXPECT_TRUE(inside(e->reason)) << c.bytes;
            }
        }
        EXPECT_EQ(test::one_shot(c.context, bytes), test::chunked(c.context, bytes, {})) << c.bytes;
    }
}

} // namespace
} // namespace tcpchat
