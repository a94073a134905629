// The chat context's turn rules (spec §5.6, §5.7, §9.2): what the installed base's framings
// decode to, with the pauses that end a turn. Every segment between two pauses is fed split at
// every byte (and byte by byte), and each message must come out before the next segment is fed
// or the pause is called: a turn is shown as soon as its bytes, or its pause, say it is whole.
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace tcpchat {
namespace {

using test::unescape;

// One segment of a stream: bytes, the messages they complete, then (with `pause`) the messages
// the pause after them yields.
struct Segment {
    const char* bytes;
    std::vector<std::string> fed;
    bool pause = false;
    std::vector<std::string> paused{};
};

struct TurnCase {
    const char* name;
    Context context;
    Leniency leniency;
    std::vector<Segment> segments;
    std::vector<std::string> at_close; // messages finish() yields, then "end" or "error:..."
};

constexpr Leniency lenient = Leniency::all;
constexpr Leniency without_unterminated = Leniency::all & ~Leniency::unterminated_turn;
constexpr Leniency without_quit_forms = Leniency::all & ~Leniency::quit_forms;
constexpr Leniency without_message_turns = Leniency::all & ~Leniency::message_turns;
constexpr Leniency without_no_handshake = Leniency::all & ~Leniency::no_handshake;

// clang-format off
const TurnCase turn_cases[] = {
    // unterminated_turn: one send() of typed text, then the peer waits for us
    {"bare_turns", Context::chat, lenient,
     {{"hello there", {}, true, {R"(Text{"hello there"})"}},
      {"how are you?", {}, true, {R"(Text{"how are you?"})"}}},
     {"end"}},
    {"bare_turn_then_close", Context::chat, lenient,
     {{"last words", {}}}, {R"(Text{"last words"})", "end"}},
    {"bare_turn_completed_by_crlf", Context::chat, lenient,
     {{R"(hel)", {}}, {R"(lo\r\n)", {R"(Text{"hello"})"}, true, {}}}, {"end"}},
    {"line_then_bare_rest", Context::chat, lenient,
     {{R"(one\r\ntwo)", {R"(Text{"one"})"}, true, {R"(Text{"two"})"}}}, {"end"}},
    {"bare_stuffed_quit", Context::chat, lenient,
     {{R"(\\QUIT)", {}, true, {R"(Text{"QUIT"})"}}}, {"end"}},
    {"pause_inside_a_cr_lf", Context::chat, lenient,
     {{R"(hi\r)", {}, true, {}}, {R"(\n)", {R"(Text{"hi"})"}}}, {"end"}},
    {"strict_pause_changes_nothing", Context::chat, Leniency::none,
     {{"hello", {}, true, {}}}, {"error:truncated@5"}},
    {"without_unterminated_turn", Context::chat, without_unterminated,
     {{"hello", {}, true, {}}}, {"error:truncated@5"}},
    {"unterminated_close_without_leniency", Context::chat, without_unterminated,
     {{"hi", {}}}, {"error:truncated@2"}},

    // quit_forms: every ending of the installed base
    {"bare_quit_then_pause", Context::chat, lenient,
     {{"QUIT", {}, true, {"QUIT{}"}}}, {"end"}},
    {"bare_quit_then_close", Context::chat, lenient,
     {{"QUIT", {}}}, {"QUIT{}", "end"}},
    {"quit_three_crlfs", Context::chat, lenient,
     {{R"(QUIT\r\n\r\n\r\n)", {"QUIT{}"}, true, {}}}, {"end"}},
    {"quit_many_crlfs_then_close", Context::chat, lenient,
     {{R"(QUIT\r\n\r\n\r\n\r\n\r\n)", {"QUIT{}"}}}, {"end"}},
    {"quit_line_then_pause", Context::chat, lenient,
     {{R"(QUIT\r\n)", {}, true, {"QUIT{}"}}}, {"end"}},
    {"quit_farewell", Context::chat, lenient,
     {{R"(QUIT\r\nGoodbye!\r\n\r\n)", {"QUIT{}"}, true, {}}}, {"end"}},
    {"quit_text_then_line", Context::chat, lenient,
     {{R"(QUIT\r\nok\r\nmore\r\n)", {R"(Text{"QUIT"})", R"(Text{"ok"})", R"(Text{"more"})"}}}, {"end"}},
    {"line_then_bare_quit", Context::chat, lenient,
     {{R"(bye\r\nQUIT)", {R"(Text{"bye"})"}, true, {"QUIT{}"}}}, {"end"}},
    {"bare_quit_then_more_bytes", Context::chat, lenient,
     {{"QUIT", {}, true, {"QUIT{}"}}, {"hi", {"error:data_after_quit@4"}}}, {"error:data_after_quit@4"}},
    {"data_after_quit", Context::chat, lenient,
     {{R"(QUIT\r\n\r\n\r\nhi)", {"QUIT{}", "error:data_after_quit@10"}}}, {"error:data_after_quit@10"}},
    {"without_quit_forms_bare_quit_is_text", Context::chat, without_quit_forms,
     {{"QUIT", {}, true, {R"(Text{"QUIT"})"}}}, {"end"}},
    {"without_quit_forms_extra_crlf", Context::chat, without_quit_forms,
     {{R"(QUIT\r\n\r\n\r\n)", {"QUIT{}", "error:data_after_quit@8"}}}, {"error:data_after_quit@8"}},

    // message_turns
    {"message_turns", Context::chat, lenient,
     {{R"(CHAT\r\nMESSAGE:hello\r\n\r\n)", {R"(Text{"hello"})"}, true, {}},
      {R"(CHAT\r\nMESSAGE:QUIT\r\n\r\n)", {R"(Text{"QUIT"})"}, true, {}},
      {R"(QUIT\r\nGoodbye!\r\n\r\n)", {"QUIT{}"}}},
     {"end"}},
    {"chat_line_is_text_after_pause", Context::chat, lenient,
     {{R"(CHAT\r\n)", {}, true, {R"(Text{"CHAT"})"}}}, {"end"}},
    {"chat_line_then_other_line", Context::chat, lenient,
     {{R"(CHAT\r\nhi\r\n)", {R"(Text{"CHAT"})", R"(Text{"hi"})"}}}, {"end"}},
    {"without_message_turns", Context::chat, without_message_turns,
     {{R"(CHAT\r\nMESSAGE:hi\r\n\r\n)", {R"(Text{"CHAT"})", R"(Text{"MESSAGE:hi"})", R"(Text{""})"}}}, {"end"}},
    {"message_turn_opens_the_chat", Context::chat_open, lenient,
     {{R"(CHAT\r\nMESSAGE:hi\r\n\r\n)", {R"(Text{"hi"})"}, true, {}},
      {"bare next", {}, true, {R"(Text{"bare next"})"}}},
     {"end"}},

    // no_handshake
    {"opening_bare_turn", Context::chat_open, lenient,
     {{"hi, anyone?", {}, true, {R"(Text{"hi, anyone?"})"}},
      {"still there", {}, true, {R"(Text{"still there"})"}}},
     {"end"}},
    {"opening_chat_still_decides", Context::chat_open, lenient,
     {{R"(CHAT\r\nclientID: b\r\nIP: 1.2.3.4\r\nPort: 9\r\n\r\nhi)", {"CHAT{clientID=b IP=1.2.3.4 Port=9}"}, true, {R"(Text{"hi"})"}}},
     {"end"}},
    {"opening_http_is_refused", Context::chat_open, lenient,
     {{R"(GET / HTTP/1.0\r\n\r\n)", {"error:unknown_method@0"}}}, {"error:unknown_method@0"}},
    {"opening_control_byte_at_pause", Context::chat_open, lenient,
     {{"hi\x01", {}, true, {"error:unknown_method@0"}}}, {"error:unknown_method@0"}},
    {"opening_error_at_pause_is_final", Context::chat_open, lenient,
     {{"hi\x01", {}, true, {"error:unknown_method@0"}}, {"there", {"error:unknown_method@0"}}},
     {"error:unknown_method@0"}},
    {"opening_without_leniency", Context::chat_open, without_no_handshake,
     {{"hi", {"error:unknown_method@0"}}}, {"error:unknown_method@0"}},
};
// clang-format on

// What `step` of `decoder` yielded.
std::string print(const StreamDecoder& decoder, const Step& step) {
    if (step.status == Status::error) {
        return "error:" + std::string(errc_name(decoder.error().code)) + "@" +
               std::to_string(decoder.error().offset);
    }
    return to_string(decoder.message());
}

// Feeds `bytes` in pieces ending at `cuts` and then at the end; collects every message, stops at
// an error (printed as the last entry).
void feed(StreamDecoder& decoder, std::string_view bytes, const std::vector<std::size_t>& cuts,
          std::vector<std::string>& out) {
    std::size_t from = 0;
    std::vector<std::size_t> ends = cuts;
    ends.push_back(bytes.size());
    for (const std::size_t to : ends) {
        std::string_view data = bytes.substr(from, to - from);
        from = to;
        for (;;) {
            const Step step = decoder.feed(data);
            data.remove_prefix(step.consumed);
            if (step.status == Status::message) {
                out.push_back(print(decoder, step));
                continue;
            }
            if (step.status == Status::error) {
                out.push_back(print(decoder, step));
                return;
            }
            break;
        }
    }
}

void drain(StreamDecoder& decoder, bool closing, std::vector<std::string>& out) {
    for (;;) {
        const Step step = closing ? decoder.finish() : decoder.pause();
        if (step.status == Status::message) {
            out.push_back(print(decoder, step));
            continue;
        }
        if (step.status == Status::error) {
            out.push_back(print(decoder, step));
        } else if (step.status == Status::end) {
            out.emplace_back("end");
        }
        return;
    }
}

// Runs the case with segment `split` cut at `cuts` (the others whole); checks every step.
void run(const TurnCase& c, std::size_t split, const std::vector<std::size_t>& cuts) {
    StreamDecoder decoder(c.context, {c.leniency, {}});
    for (std::size_t i = 0; i < c.segments.size(); ++i) {
        const Segment& seg = c.segments[i];
        const std::string bytes = unescape(seg.bytes);
        std::vector<std::string> got;
        feed(decoder, bytes, i == split ? cuts : std::vector<std::size_t>{}, got);
        ASSERT_EQ(got, seg.fed) << "segment " << i << " fed";
        if (seg.pause) {
            got.clear();
            drain(decoder, false, got);
            ASSERT_EQ(got, seg.paused) << "segment " << i << " paused";
        }
    }
    std::vector<std::string> got;
    drain(decoder, true, got);
    EXPECT_EQ(got, c.at_close) << "at close";
}

class Turns : public ::testing::TestWithParam<TurnCase> {};

TEST_P(Turns, Whole) {
    run(GetParam(), 0, {});
}

TEST_P(Turns, EachSegmentSplitAtEveryByte) {
    const TurnCase& c = GetParam();
    for (std::size_t i = 0; i < c.segments.size(); ++i) {
        const std::size_t size = unescape(c.segments[i].bytes).size();
        for (std::size_t cut = 1; cut < size; ++cut) {
            SCOPED_TRACE("segment " + std::to_string(i) + " cut at " + std::to_string(cut));
            run(c, i, {cut});
        }
    }
}

TEST_P(Turns, EachSegmentByteByByte) {
    const TurnCase& c = GetParam();
    for (std::size_t i = 0; i < c.segments.size(); ++i) {
        const std::size_t size = unescape(c.segments[i].bytes).size();
        std::vector<std::size_t> cuts;
        for (std::size_t cut = 1; cut < size; ++cut) {
            cuts.push_back(cut);
        }
        SCOPED_TRACE("segment " + std::to_string(i) + " byte by byte");
        run(c, i, cuts);
    }
}

// Without pauses, the one-shot decoder agrees with the stream decoder (spec §4.1): the end of the
// stream ends the last turn for both.
TEST_P(Turns, OneShotAgreesWithoutPauses) {
    const TurnCase& c = GetParam();
    std::string all;
    for (const Segment& seg : c.segments) {
        if (seg.pause) {
            return; // a pause decides what the bytes alone cannot
        }
        all += unescape(seg.bytes);
    }
    const StreamResult r = decode_stream(c.context, all, {c.leniency, {}});
    std::vector<std::string> got;
    for (const Message& m : r.messages) {
        got.push_back(to_string(m));
    }
    if (r.error) {
        got.push_back("error:" + std::string(errc_name(r.error->code)) + "@" +
                      std::to_string(r.error->offset));
    } else {
        got.emplace_back("end");
    }
    std::vector<std::string> expected;
    for (const Segment& seg : c.segments) {
        expected.insert(expected.end(), seg.fed.begin(), seg.fed.end());
    }
    if (expected.empty() || expected.back().rfind("error:", 0) != 0) {
        expected.insert(expected.end(), c.at_close.begin(), c.at_close.end());
    }
    EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(ChatContext, Turns, ::testing::ValuesIn(turn_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// How each turn arrived: what a client answers in (spec §10.4).
TEST(Turns, FramingOfEachTurn) {
    struct Case {
        const char* bytes;
        bool pause;
        Framing framing;
    };
    const Case cases[] = {
        {R"(hi\r\n)", false, Framing::crlf},
        {"hi", true, Framing::bare},
        {R"(CHAT\r\nMESSAGE:hi\r\n\r\n)", false, Framing::message},
        {"QUIT", true, Framing::bare},
        {R"(QUIT\r\n\r\n)", false, Framing::crlf},
        {R"(QUIT\r\nGoodbye!\r\n\r\n)", false, Framing::message},
    };
    for (const Case& c : cases) {
        StreamDecoder decoder(Context::chat);
        const std::string bytes = unescape(c.bytes);
        Step step = decoder.feed(bytes);
        if (c.pause) {
            ASSERT_EQ(step.status, Status::need_more) << c.bytes;
            step = decoder.pause();
        }
        ASSERT_EQ(step.status, Status::message) << c.bytes;
        EXPECT_EQ(decoder.framing(), c.framing) << c.bytes;
    }
}

// MAX-LINE applies to an unterminated turn while it arrives, before any pause (spec §7).
TEST(Turns, UnterminatedTurnJustUnderAndOverMaxLine) {
    const Limits limits{};
    StreamDecoder under(Context::chat);
    const std::string at_limit(limits.line_length, 'x');
    EXPECT_EQ(under.feed(at_limit).status, Status::need_more);
    const Step whole = under.pause();
    ASSERT_EQ(whole.status, Status::message);
    EXPECT_EQ(std::get<Text>(under.message()).text.size(), limits.line_length);

    StreamDecoder over(Context::chat);
    EXPECT_EQ(over.feed(at_limit).status, Status::need_more);
    const Step step = over.feed("x");
    ASSERT_EQ(step.status, Status::error);
    EXPECT_EQ(over.error().code, Errc::line_too_long);
    EXPECT_EQ(over.error().offset, limits.line_length);

    // A first turn without CHAT is held to MAX-LINE too, with the error the end of the stream
    // would give (one-shot and incremental decoders agree, §4.1).
    StreamDecoder opening(Context::chat_open);
    EXPECT_EQ(opening.feed(at_limit).status, Status::need_more);
    const Step too_long = opening.feed("x");
    ASSERT_EQ(too_long.status, Status::error);
    EXPECT_EQ(opening.error().code, Errc::line_too_long);
    EXPECT_EQ(opening.error().offset, limits.line_length);
    const StreamResult one_shot = decode_stream(Context::chat_open, at_limit + "xyz");
    ASSERT_TRUE(one_shot.error);
    EXPECT_EQ(one_shot.error->code, Errc::line_too_long);
    EXPECT_EQ(one_shot.error->offset, limits.line_length);
}

// The encoder writes each framing so that our decoder reads it back as the same turn.
TEST(Turns, EncodedInEachFraming) {
    struct Case {
        Message turn;
        Framing framing;
        const char* wire;
    };
    const Case cases[] = {
        {Text{"hello"}, Framing::crlf, R"(hello\r\n)"},
        {Text{"hello"}, Framing::bare, "hello"},
        {Text{"QUIT"}, Framing::bare, R"(\\QUIT)"},
        {Text{"QUIT"}, Framing::message, R"(CHAT\r\nMESSAGE:QUIT\r\n\r\n)"},
        {Text{"hello"}, Framing::message, R"(CHAT\r\nMESSAGE:hello\r\n\r\n)"},
        {Quit{}, Framing::crlf, R"(QUIT\r\n\r\n)"},
        {Quit{}, Framing::bare, "QUIT"},
        {Quit{}, Framing::message, R"(QUIT\r\n\r\n)"},
    };
    for (const Case& c : cases) {
        std::string out;
        ASSERT_FALSE(encode_turn(c.turn, c.framing, out)) << c.wire;
        EXPECT_EQ(out, unescape(c.wire));
        const StreamResult back = decode_stream(Context::chat, out);
        ASSERT_FALSE(back.error) << c.wire;
        ASSERT_EQ(back.messages.size(), 1U) << c.wire;
        EXPECT_EQ(to_string(back.messages[0]), to_string(c.turn)) << c.wire;
    }
    std::string out = "kept";
    EXPECT_EQ(encode_turn(Text{"a\nb"}, Framing::bare, out), Errc::bare_lf);
    EXPECT_EQ(encode_turn(Text{std::string(1017, 'x')}, Framing::message, out),
              Errc::line_too_long);
    EXPECT_EQ(out, "kept");
}

} // namespace
} // namespace tcpchat

namespace tcpchat {
namespace {

// Regressions found by fuzz_stream: first bytes without CHAT where a line end and a limit meet.
// The one-shot and the incremental decoder, whole or byte by byte, give the same error (§4.1).
TEST(Turns, OpeningLineEndAndLimitAgreeEverywhere) {
    struct Case {
        std::string bytes;
        Limits limits;
        Errc code;
        std::uint64_t offset;
    };
    Limits max_line_16;
    max_line_16.line_length = 16;
    const Case cases[] = {
        // a line of exactly MAX-LINE bytes, then CRLF: the CR is not line content
        {unescape(R"(caf\xc3\xa9\tna\xc3\xafve \xe2\x9c\x93\r\n)"), max_line_16,
         Errc::unknown_method, 0},
        // a line over MAX-LINE that a line end follows: the limit, not the method
        {std::string(1100, 't') + "\n", Limits{}, Errc::line_too_long, 1024},
    };
    for (const Case& c : cases) {
        const DecodeOptions options{Leniency::all, c.limits};
        const StreamResult one_shot = decode_stream(Context::chat_open, c.bytes, options);
        ASSERT_TRUE(one_shot.error);
        EXPECT_EQ(one_shot.error->code, c.code);
        EXPECT_EQ(one_shot.error->offset, c.offset);
        for (const std::size_t chunk : {c.bytes.size(), std::size_t(1)}) {
            StreamDecoder decoder(Context::chat_open, options);
            std::string_view rest = c.bytes;
            Step step;
            while (!rest.empty() && step.status != Status::error) {
                step = decoder.feed(rest.substr(0, chunk));
                rest.remove_prefix(std::min(chunk, rest.size()));
            }
            if (step.status != Status::error) {
                step = decoder.finish();
            }
            ASSERT_EQ(step.status, Status::error) << "chunk " << chunk;
            EXPECT_EQ(decoder.error().code, c.code) << "chunk " << chunk;
            EXPECT_EQ(decoder.error().offset, c.offset) << "chunk " << chunk;
        }
    }
}

} // namespace
} // namespace tcpchat
