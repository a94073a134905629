// The transcript reader (spec/transcript-format.md): valid files, every directive and escape, and
// errors with their line numbers.
#include "tcpchat/transcript.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <ostream>
#include <string>

namespace {

using namespace tcpchat::transcript;

std::string file(const std::string& exchange,
                 const std::string& meta = "- Sections: §5.1\n- Modes: codec, server\n") {
    return "# A title\n\n" + meta + "\nWhy this case exists.\n\n```transcript\n" + exchange +
           "```\n";
}

const std::string reg = "connect A server\nA -> server: \"REGISTER\\r\\n\"\n";

TEST(TranscriptReader, ReadsTitleMetadataAndWhy) {
    const auto p = parse_transcript("# Title here\n\n- Sections: §6.3, §5.4\n- Modes: codec, "
                                    "client\n- Client: B\n- Timeout: 9000 ms\n\n"
                                    "First line of why\ncontinued.\n\nMore "
                                    "prose.\n\n```transcript\nconnect B server\n```\n\nNotes.\n",
                                    "6.3-x");
    ASSERT_TRUE(p) << p.error().message;
    const Case& c = p.value();
    EXPECT_EQ(c.name, "6.3-x");
    EXPECT_EQ(c.title, "Title here");
    EXPECT_EQ(c.why, "First line of why continued.");
    EXPECT_EQ(c.sections, (std::vector<std::string>{"6.3", "5.4"}));
    EXPECT_TRUE(c.applies_to(Mode::codec));
    EXPECT_TRUE(c.applies_to(Mode::client));
    EXPECT_FALSE(c.applies_to(Mode::server));
    EXPECT_EQ(c.client, "B");
    EXPECT_EQ(c.timeout, std::chrono::milliseconds(9000));
}

TEST(TranscriptReader, ReadsEveryDirective) {
    const auto p =
        parse_transcript(file("# a comment\n"
                              "connect A server\n"
                              "connect M server from another address\n"
                              "A -> server: \"REGISTER\\r\\n\"\n"
                              "  decodes to REGISTER clientID=${A.id} IP=${A.ip} Port=${A.port}\n"
                              "  encodes to: \"x\"\n"
                              "  strict decode error bad_separator at 19\n"
                              "server -> A (lenient, drip): \"REGACK\\r\\n\"\n"
                              "server closes A\n"
                              "A half-closes server\n"
                              "server sends nothing to A for 300 ms\n"
                              "A types: \"/register\"\n"
                              "A shows: \"hello\"\n"
                              "A exits with status 1\n"
                              "pause 20 ms\n"
                              "\n"));
    ASSERT_TRUE(p) << p.error().line << ": " << p.error().message;
    const auto& s = p.value().steps;
    ASSERT_EQ(s.size(), 13U);
    EXPECT_EQ(s[0].line, 10U); // after the title, metadata, why, fence and comment lines
    EXPECT_TRUE(std::get<Connect>(s[1].action).other_address);
    const auto& send = std::get<Send>(s[2].action);
    EXPECT_EQ(send.from, "A");
    EXPECT_EQ(send.to, "server");
    const auto& m = std::get<ExpectMessage>(s[3].action);
    EXPECT_EQ(m.value.method, "REGISTER");
    ASSERT_EQ(m.value.fields.size(), 3U);
    ASSERT_TRUE(m.encodes.has_value());
    const auto& e = std::get<ExpectError>(s[4].action);
    EXPECT_TRUE(e.strict);
    EXPECT_EQ(e.code, tcpchat::Errc::bad_separator);
    EXPECT_EQ(e.offset, 19U);
    const auto& ack = std::get<Send>(s[5].action);
    EXPECT_TRUE(ack.lenient);
    EXPECT_TRUE(ack.drip);
    EXPECT_FALSE(std::get<Close>(s[6].action).half);
    EXPECT_TRUE(std::get<Close>(s[7].action).half);
    EXPECT_EQ(std::get<Silence>(s[8].action).duration, std::chrono::milliseconds(300));
    EXPECT_EQ(std::get<Exit>(s[11].action).status, 1);
    EXPECT_EQ(std::get<Pause>(s[12].action).duration, std::chrono::milliseconds(20));
    EXPECT_EQ(p.value().actors(), (std::vector<std::string>{"A", "M"}));
}

struct EscapeRow {
    std::string source;
    std::string bytes;
};

// Rows print as their source text, so that CTest's test names stay readable.
void PrintTo(const EscapeRow& row, std::ostream* os) {
    *os << row.source;
}

class Escapes : public testing::TestWithParam<EscapeRow> {};

TEST_P(Escapes, DecodeToTheirBytes) {
    const auto p = parse_transcript(file(reg + "A -> server: " + GetParam().source + "\n"));
    ASSERT_TRUE(p) << p.error().message;
    const auto& send = std::get<Send>(p.value().steps[2].action);
    EXPECT_EQ(resolve(send.bytes, {{"A.id", "A-1"}, {"run", "r"}}), GetParam().bytes);
    // to_source writes it back so that it reads the same.
    const auto again = parse_transcript(file(reg + "A -> server: " + to_source(send.bytes) + "\n"));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(std::get<Send>(again.value().steps[2].action).bytes, send.bytes);
}

INSTANTIATE_TEST_SUITE_P(
    TranscriptReader, Escapes,
    testing::Values(EscapeRow{R"("\r\n")", "\r\n"}, EscapeRow{R"("a\tb")", "a\tb"},
                    EscapeRow{R"("\\QUIT")", "\\QUIT"}, EscapeRow{R"("say \"hi\"")", "say \"hi\""},
                    EscapeRow{R"("\x00\x7f\xFF")", std::string("\x00\x7f\xff", 3)},
                    EscapeRow{R"("\${A.id}")", "${A.id}"}, EscapeRow{R"("cost: $5")", "cost: $5"},
                    EscapeRow{R"("id ${A.id}!")", "id A-1!"}, EscapeRow{R"("${run}")", "r"},
                    EscapeRow{R"("ab"*3)", "ababab"}, EscapeRow{R"("a" "b"*2 "c")", "abbc"},
                    EscapeRow{"\"caf\xC3\xA9\"", "caf\xC3\xA9"}));

// quote() is the one writer of transcript strings (reports, diagrams, the recorder): for every
// byte value, alone and before `{` (where `$` would start a placeholder), the reader reads back
// the very bytes, and what it wrote is printable ASCII.
TEST(TranscriptReader, QuoteReadsBackEveryByte) {
    auto read_back = [](const std::string& source) -> std::optional<Template> {
        const auto p = parse_transcript(file(reg + "A -> server: " + source + "\n"));
        if (!p) {
            ADD_FAILURE() << source << ": " << p.error().message;
            return std::nullopt;
        }
        return std::get<Send>(p.value().steps[2].action).bytes;
    };
    std::string every;
    for (int b = 0; b < 256; ++b) {
        const std::string bytes = {'<', char(b), '{', char(b), '>'};
        every += bytes;
        const std::string source = quote(bytes);
        for (const char c : source) {
            EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "byte " << b << " in " << source;
        }
        const auto t = read_back(source);
        ASSERT_TRUE(t) << "byte " << b;
        EXPECT_EQ(t->parts, decltype(t->parts){bytes}) << "byte " << b << " as " << source;
    }
    const auto all = read_back(quote(every));
    ASSERT_TRUE(all);
    EXPECT_EQ(resolve(*all, {}), every);
    // A template's own placeholders stay placeholders; a `$` before one stays a byte.
    Template t;
    t.append("cost $");
    t.append(Placeholder{"A", "id"});
    t.append("${run}\xFF");
    EXPECT_EQ(to_source(t), R"("cost $${A.id}\${run}\xFF")");
    const auto again = read_back(to_source(t));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, t);
}

struct ErrorRow {
    std::string name;
    std::string text;
    std::size_t line;
    std::string message_part;
};

void PrintTo(const ErrorRow& row, std::ostream* os) {
    *os << row.name;
}

class Errors : public testing::TestWithParam<ErrorRow> {};

TEST_P(Errors, NameTheirLine) {
    const auto p = parse_transcript(GetParam().text);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().line, GetParam().line) << p.error().message;
    EXPECT_NE(p.error().message.find(GetParam().message_part), std::string::npos)
        << p.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    TranscriptReader, Errors,
    testing::Values(
        ErrorRow{"NoTitle", "Title\n", 1, "title"},
        ErrorRow{"NoMetadata", "# T\n\nWhy.\n", 3, "metadata"},
        ErrorRow{
            "UnknownMetadata",
            "# T\n\n- Sections: §1\n- Modes: codec\n- Colour: red\n\nWhy.\n\n```transcript\n```\n",
            5, "unknown metadata"},
        ErrorRow{"BadSection",
                 "# T\n\n- Sections: 5.1\n- Modes: codec\n\nWhy.\n\n```transcript\n```\n", 3,
                 "§5.1"},
        ErrorRow{"BadMode",
                 "# T\n\n- Sections: §5.1\n- Modes: proxy\n\nWhy.\n\n```transcript\n```\n", 4,
                 "mode"},
        ErrorRow{"MissingModes", "# T\n\n- Sections: §5.1\n\nWhy.\n\n```transcript\n```\n", 3,
                 "Modes"},
        ErrorRow{"NoExchange", "# T\n\n- Sections: §5.1\n- Modes: codec\n\nWhy.\n", 7,
                 "```transcript"},
        ErrorRow{"Unclosed", file(reg).substr(0, file(reg).size() - 4), 11, "not closed"},
        ErrorRow{"BadDirective", file("hello there\n"), 9, "after the actor"},
        ErrorRow{"UnknownVerb", file("A jumps\n"), 9, "after the actor"},
        ErrorRow{"SendBeforeConnect", file("A -> server: \"x\"\n"), 9, "no connection"},
        ErrorRow{"ServerConnects", file("connect server A\n"), 9, "never opens"},
        ErrorRow{"Unterminated", file("connect A server\nA -> server: \"abc\n"), 10, "quoted"},
        ErrorRow{"RawControl", file("connect A server\nA -> server: \"a\tb\"\n"), 10, "quoted"},
        ErrorRow{"BadEscape", file("connect A server\nA -> server: \"\\q\"\n"), 10, "escape"},
        ErrorRow{"BadPlaceholder", file("connect A server\nA -> server: \"${A.name}\"\n"), 10,
                 "placeholder"},
        ErrorRow{"ServerId", file("connect A server\nA -> server: \"${server.id}\"\n"), 10,
                 "server.id"},
        ErrorRow{"UnknownErrc", file(reg + "decode error no_such_error at 3\n"), 11,
                 "no_such_error"},
        ErrorRow{"ExpectFirst", file("decodes to QUIT\n"), 9, "follow"},
        ErrorRow{"EncodesAlone", file(reg + "encodes to: \"x\"\n"), 11, "decodes to"},
        ErrorRow{"ValueField", file(reg + "decodes to BRIDGE clientID=a Port=3\n"), 11, "Port"},
        ErrorRow{"ValueMissing", file(reg + "decodes to REGISTER clientID=a\n"), 11, "IP"},
        ErrorRow{"PartialBridgeAck", file(reg + "decodes to BRIDGEACK clientID=a\n"), 11, "none"},
        ErrorRow{"TextNeedsString", file(reg + "decodes to TEXT\n"), 11, "quoted"},
        ErrorRow{"HugeRepeat", file(reg + "A -> server: \"x\"*2000000\n"), 11, "repetition"},
        ErrorRow{"ClientAbsent", file(reg, "- Sections: §10.2\n- Modes: client\n- Client: Z\n"), 10,
                 "Z"},
        ErrorRow{"ReservedActor", file("connect pause server\n"), 9, "cannot name"},
        ErrorRow{"ExitRange", file("A exits with status 300\n"), 9, "0-255"}),
    [](const auto& info) { return info.param.name; });

TEST(TranscriptReader, NeverThrowsOnGarbage) {
    std::string text = file(reg);
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
        (void)parse_transcript(text.substr(0, cut));
        std::string flipped = text;
        flipped[cut] = char(flipped[cut] ^ 0x5A);
        (void)parse_transcript(flipped);
    }
    SUCCEED();
}

} // namespace
