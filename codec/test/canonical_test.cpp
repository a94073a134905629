// The canonical line match (spec §4.4) is a shortcut, never a second opinion: on every input,
// canonical or not, whole or cut short, decoding with it (Matching::fast) gives what the grammar
// alone gives (Matching::grammar): the same message and length, or the same error at the same
// offset, in both profiles and under tight limits. Also: its IPv4address match equals RFC 3986's
// ordered choice, which the grammar runs as written.
#include "parse.hpp"
#include "reference_stream.hpp"
#include "tcpchat/encode.hpp"
#include "tcpchat/grammar.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

namespace tcpchat {
namespace {

namespace pegtl = tao::pegtl;
namespace g = tcpchat::grammar;

struct Case {
    Context context;
    std::string bytes;
};

std::string wire(const Message& m) {
    std::string out;
    EXPECT_FALSE(encode(m, out)) << m;
    return out;
}

// Canonical messages of every framed type, with the IPv4 octets at the edges of dec-octet's
// alternatives, IPv6 forms, and clientIDs of every length up to MAX-ID.
std::vector<Case> canonical_cases() {
    static const std::vector<std::string> hosts = {
        "0.0.0.0", "9.10.99.100", "199.200.249.250", "255.255.255.255", "127.0.0.2",   "1.2.3.4",
        "::1",     "fe80::1",     "::ffff:10.1.2.3", "1:2:3:4:5:6:7:8", "2001:db8::1", "::"};
    static const std::vector<std::uint16_t> ports = {1, 9, 10, 99, 100, 3000, 9999, 10000, 65535};
    std::vector<std::string> ids;
    for (std::size_t n = 1; n <= 64; n += 7) {
        ids.push_back(std::string(n, char('!' + n % 90)));
    }
    ids.push_back(std::string(64, '~'));
    std::vector<Case> out;
    std::size_t k = 0;
    for (const std::string& host : hosts) {
        for (const std::uint16_t port : ports) {
            const Contact c{ids[k++ % ids.size()], host, port};
            out.push_back({Context::request, wire(Register{c})});
            out.push_back({Context::response, wire(RegAck{c, false})});
            out.push_back({Context::response, wire(RegAck{c, true})});
            out.push_back({Context::response, wire(BridgeAck{c})});
            out.push_back({Context::chat_open, wire(Chat{c})});
        }
    }
    for (const std::string& id : ids) {
        out.push_back({Context::request, wire(Bridge{id})});
    }
    out.push_back({Context::response, wire(BridgeAck{})});
    for (const char* reason : {"", "Bad Request", "no peer\tyet", "x", "\xC3\xA9t\xC3\xA9"}) {
        out.push_back({Context::response, wire(ErrorReply{400, reason})});
    }
    out.push_back({Context::response, wire(ErrorReply{999, "Code out of the table"})});
    // Text lines (§5.6) of every length around a word of eight bytes, stuffed ones, and the
    // bytes at the edges of text-char; the longest line MAX-LINE allows.
    for (std::size_t n = 0; n <= 17; ++n) {
        out.push_back({Context::chat, wire(Text{std::string(n, 'a' + char(n))})});
    }
    for (const char* text : {"QUIT", "\\QUIT", "QUITE", "CHAT!", "chat", " ", "\t", "a\tb",
                             "~\x80\xFF ", "0123456~89abcdef "}) {
        out.push_back({Context::chat, wire(Text{text})});
    }
    out.push_back({Context::chat, wire(Text{std::string(1024, 'x')})});
    return out;
}

// What the grammar alone makes of `c`, as the stream would see it and at its end, against
// what the canonical match makes of it.
void expect_same_as_grammar(const Case& c, const DecodeOptions& o) {
    for (const bool final : {false, true}) {
        const detail::Parsed fast = test::parsed(c.context, c.bytes, o, final);
        const detail::Parsed grammar =
            test::parsed(c.context, c.bytes, o, final, detail::Matching::grammar);
        ASSERT_EQ(fast.status, grammar.status) << c.bytes << " final=" << final;
        EXPECT_EQ(fast.consumed, grammar.consumed) << c.bytes;
        if (fast.status == Status::message) {
            EXPECT_EQ(fast.message, grammar.message) << c.bytes;
            EXPECT_EQ(fast.framing, grammar.framing) << c.bytes;
        } else if (fast.status == Status::error) {
            EXPECT_EQ(fast.error, grammar.error) << c.bytes;
        }
    }
}

TEST(CanonicalPath, DecodesEveryCanonicalMessageAsTheGrammarDoes) {
    for (const Case& c : canonical_cases()) {
        for (const DecodeOptions& o : {lenient_profile, strict_profile}) {
            const detail::Parsed fast = test::parsed(c.context, c.bytes, o, false);
            ASSERT_EQ(fast.status, Status::message) << c.bytes << ": " << fast.error;
            EXPECT_EQ(fast.consumed, c.bytes.size()) << c.bytes;
            expect_same_as_grammar(c, o);
            // What follows the message is left for the next one.
            Case more{c.context, c.bytes + c.bytes};
            const Step first = test::parsed(more.context, more.bytes, o, false);
            ASSERT_EQ(first.status, Status::message);
            EXPECT_EQ(first.consumed, c.bytes.size());
            expect_same_as_grammar(more, o);
        }
    }
}

TEST(CanonicalPath, AgreesWithTheGrammarOnEveryUnfinishedMessage) {
    for (const Case& c : canonical_cases()) {
        for (std::size_t n = 0; n < c.bytes.size(); ++n) {
            const Case cut{c.context, c.bytes.substr(0, n)};
            // On a buffer of exactly the prefix, so that ASan sees any read past its end.
            const std::vector<char> exact(cut.bytes.begin(), cut.bytes.end());
            const std::string_view bytes =
                n == 0 ? std::string_view(cut.bytes) : std::string_view(exact.data(), n);
            const Step step = test::parsed(cut.context, bytes, lenient_profile, false);
            EXPECT_EQ(step.status, Status::need_more) << cut.bytes;
            expect_same_as_grammar(cut, lenient_profile);
        }
    }
}

// Inputs the canonical forms match, or nearly, that are not canonical messages within the
// constraints and limits: the grammar's verdict, whatever it is, holds.
TEST(CanonicalPath, AgreesWithTheGrammarOnWhatIsNotCanonical) {
    const std::string reg = "REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n";
    Limits tight_message;
    tight_message.message_size = reg.size() - 1;
    Limits tight_line;
    tight_line.line_length = 8;
    Limits few_headers;
    few_headers.header_count = 2;
    Limits short_id;
    short_id.id_length = 4;
    struct Row {
        const char* what;
        Context context;
        std::string bytes;
        Limits limits;
    };
    const std::vector<Row> rows = {
        {"port above 65535",
         Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.4\r\nPort: 65536\r\n\r\n",
         {}},
        {"port 99999",
         Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.4\r\nPort: 99999\r\n\r\n",
         {}},
        {"port with a leading zero",
         Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.4\r\nPort: 03000\r\n\r\n",
         {}},
        {"no space after the colon",
         Context::request,
         "REGISTER\r\nclientID:u\r\nIP: 1.2.3.4\r\nPort: 3000\r\n\r\n",
         {}},
        {"two spaces after the colon",
         Context::request,
         "REGISTER\r\nclientID:  u\r\nIP: 1.2.3.4\r\nPort: 3000\r\n\r\n",
         {}},
        {"whitespace before CRLF",
         Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.4 \r\nPort: 3000\r\n\r\n",
         {}},
        {"headers out of order",
         Context::request,
         "REGISTER\r\nIP: 1.2.3.4\r\nclientID: u\r\nPort: 3000\r\n\r\n",
         {}},
        {"an unknown header",
         Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.4\r\nPort: 3000\r\nX: y\r\n\r\n",
         {}},
        {"octet above 255",
         Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.256\r\nPort: 3000\r\n\r\n",
         {}},
        {"octet with a leading zero",
         Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.04\r\nPort: 3000\r\n\r\n",
         {}},
        {"BRIDGE where a response is read", Context::response, "BRIDGE\r\nclientID: u\r\n\r\n", {}},
        {"REGACK where a request is read",
         Context::request,
         "REGACK\r\nclientID: u\r\nIP: 1.2.3.4\r\nPort: 3000\r\n\r\n",
         {}},
        {"a partly empty BRIDGEACK",
         Context::response,
         "BRIDGEACK\r\nclientID: u\r\nIP: \r\nPort: \r\n\r\n",
         {}},
        {"a Reason starting with a space",
         Context::response,
         "ERROR\r\nCode: 400\r\nReason:  Bad\r\n\r\n",
         {}},
        {"a Reason ending with a tab",
         Context::response,
         "ERROR\r\nCode: 400\r\nReason: Bad\t\r\n\r\n",
         {}},
        {"a message above MAX-MESSAGE", Context::request, reg, tight_message},
        {"a line above MAX-LINE", Context::request, reg, tight_line},
        {"more headers than MAX-HEADERS", Context::request, reg, few_headers},
        {"a clientID above MAX-ID", Context::request, reg, short_id},
        {"a CR last after MAX-HEADERS header lines", Context::request,
         "REGISTER\r\nclientID: u\r\nIP: 1.2.3.4\r\n\r", few_headers},
        {"a control byte at MAX-LINE", Context::request, "REGISTER\r\nclientID\x01", tight_line},
        {"QUIT", Context::chat, "QUIT\r\n\r\n", {}},
        {"a bare QUIT line", Context::chat, "QUIT\r\nhello\r\n", {}},
        {"a CHAT line", Context::chat, "CHAT\r\nMESSAGE:hi\r\n\r\n", {}},
        {"a text line above MAX-LINE", Context::chat, std::string(1025, 'x') + "\r\n", {}},
        {"a text line above a tight MAX-LINE", Context::chat, "123456789\r\n", tight_line},
        {"a text line with DEL", Context::chat, "abcdefg\x7Fh\r\n", {}},
        {"a text line with a control byte", Context::chat, "abcdefgh\x01\r\n", {}},
        {"a text line with a bare LF", Context::chat, "abcdefghij\nk\r\n", {}},
        {"a text line with a CR inside", Context::chat, "abc\rdefghijk\r\n", {}},
        {"an unfinished text line", Context::chat, "abcdefghijk\r", {}},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.what);
        for (const Leniency l : {Leniency::all, Leniency::none}) {
            expect_same_as_grammar({row.context, row.bytes}, DecodeOptions{l, row.limits});
        }
    }
}

// Every single-byte change, deletion and insertion of canonical messages: the canonical match and
// the grammar decide alike, in both profiles and under tight limits. (fuzz_decode checks the same
// on whatever inputs libFuzzer finds.)
TEST(CanonicalPath, AgreesWithTheGrammarOnNearbyInputs) {
    const std::string bytes = "\r\n :.\t0123456789AFaf!~\x7F\x80\xFF";
    Limits tight;
    tight.line_length = 30;
    tight.message_size = 60;
    tight.header_count = 3;
    tight.id_length = 8;
    std::vector<Case> cases;
    const std::vector<Case> all = canonical_cases();
    for (std::size_t i = 0; i < all.size(); ++i) {
        // Every 19th message with contact details (every type and host, several ports), and
        // all the BRIDGE, empty BRIDGEACK and ERROR messages at the end.
        if (i % 19 == 0 || i + 20 >= all.size()) {
            cases.push_back(all[i]);
        }
    }
    std::size_t decoded = 0;
    for (const Case& c : cases) {
        std::vector<std::string> variants;
        for (std::size_t i = 0; i < c.bytes.size(); ++i) {
            std::string erased = c.bytes;
            erased.erase(i, 1);
            variants.push_back(erased);
            for (const char b : bytes) {
                std::string changed = c.bytes;
                changed[i] = b;
                variants.push_back(changed);
                std::string inserted = c.bytes;
                inserted.insert(i, 1, b);
                variants.push_back(inserted);
            }
        }
        for (const std::string& v : variants) {
            for (const DecodeOptions& o :
                 {lenient_profile, strict_profile, DecodeOptions{Leniency::all, tight}}) {
                if (test::parsed(c.context, v, o, false).status == Status::message) {
                    ++decoded;
                }
                expect_same_as_grammar({c.context, v}, o);
            }
        }
    }
    EXPECT_GT(decoded, 1000U) << decoded; // the check above ran on inputs that matter
}

// The canonical match's IPv4address against the ordered choice of dec-octet as RFC 3986 writes it
// (the grammar's), for every 0-4 digit octet in first and last place.
TEST(IPv4address, MatchesLikeTheOrderedChoice) {
    std::vector<std::string> octets = {""};
    for (std::size_t digits = 1; digits <= 4; ++digits) {
        std::size_t count = 1;
        for (std::size_t i = 0; i < digits; ++i) {
            count *= 10;
        }
        for (std::size_t n = 0; n < count; ++n) {
            std::string s = std::to_string(n);
            octets.push_back(std::string(digits - s.size(), '0') + s);
        }
    }
    std::size_t matched = 0;
    for (const std::string& octet : octets) {
        for (const char* tail : {"", "\r\n", ".", ":", "a", "0"}) {
            for (const std::string& text : {octet + ".1.22.3" + tail, "4.55.6." + octet + tail}) {
                const char* fast = detail::ipv4_end(text.data(), text.data() + text.size());
                pegtl::memory_input<> choice(text, "");
                const bool b = pegtl::parse<g::IPv4address>(choice);
                ASSERT_EQ(fast != nullptr, b) << text;
                if (b) {
                    ASSERT_EQ(fast, choice.current()) << text;
                }
                matched += b ? 1 : 0;
            }
        }
    }
    EXPECT_GT(matched, 2000U);
}

} // namespace
} // namespace tcpchat
