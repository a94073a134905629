// Encoding (spec §4.4, §9.1): canonical bytes, refusal of values the wire cannot carry, and the
// round-trip property over generated values.
#include "tcpchat/grammar.hpp"
#include "test_support.hpp"

#include <deque>
#include <gtest/gtest.h>
#include <random>

namespace tcpchat {
namespace {

using test::unescape;

struct EncodeRow {
    Message value;
    const char* bytes; // escaped
};

// clang-format off
const EncodeRow canonical[] = {
    {Register{{"user1", "127.0.0.1", 3000}}, R"(REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n)"},
    {RegAck{{"user1", "127.0.0.1", 3000}, false}, R"(REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n)"},
    {RegAck{{"user1", "127.0.0.1", 3000}, true}, R"(REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\nStatus: registered\r\n\r\n)"},
    {Bridge{"user1"}, R"(BRIDGE\r\nclientID: user1\r\n\r\n)"},
    {BridgeAck{Contact{"user2", "127.0.0.1", 3001}}, R"(BRIDGEACK\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n)"},
    {BridgeAck{}, R"(BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n)"},
    {Chat{{"user2", "::1", 65535}}, R"(CHAT\r\nclientID: user2\r\nIP: ::1\r\nPort: 65535\r\n\r\n)"},
    {Text{"hello there"}, R"(hello there\r\n)"},
    {Text{""}, R"(\r\n)"},
    {Text{"QUIT"}, R"(\\QUIT\r\n)"},
    {Text{"\\QUIT"}, R"(\\\\QUIT\r\n)"},
    {Text{"QUIT!"}, R"(QUIT!\r\n)"},
    {Quit{}, R"(QUIT\r\n\r\n)"},
    {ErrorReply{404, "clientID user9 is not registered"}, R"(ERROR\r\nCode: 404\r\nReason: clientID user9 is not registered\r\n\r\n)"},
};
// clang-format on

TEST(Encode, CanonicalBytes) {
    for (const EncodeRow& row : canonical) {
        std::string out = "prefix";
        ASSERT_FALSE(encode(row.value, out)) << row.value;
        EXPECT_EQ(out, "prefix" + unescape(row.bytes)) << row.value; // appends
    }
}

template <typename Rule>
bool matches(std::string_view bytes) {
    namespace pegtl = tao::pegtl;
    pegtl::memory_input<> in(bytes.data(), bytes.size(), "");
    return pegtl::parse<pegtl::seq<Rule, pegtl::eof>>(in);
}

// What the encoder writes is what §4.4's canonical grammar describes.
TEST(Encode, OutputMatchesTheCanonicalGrammar) {
    namespace g = grammar;
    for (const EncodeRow& row : canonical) {
        const std::string bytes = to_wire(row.value);
        const bool ok = std::visit(
            [&](const auto& m) {
                using T = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<T, Register>)
                    return matches<g::register_message>(bytes);
                if constexpr (std::is_same_v<T, RegAck>)
                    return matches<g::regack_message>(bytes);
                if constexpr (std::is_same_v<T, Bridge>)
                    return matches<g::bridge_message>(bytes);
                if constexpr (std::is_same_v<T, BridgeAck>)
                    return matches<g::bridgeack_message>(bytes);
                if constexpr (std::is_same_v<T, Chat>)
                    return matches<g::chat_message>(bytes);
                if constexpr (std::is_same_v<T, Text>)
                    return matches<g::text_line>(bytes);
                if constexpr (std::is_same_v<T, Quit>)
                    return matches<g::quit_message>(bytes);
                if constexpr (std::is_same_v<T, ErrorReply>)
                    return matches<g::error_message>(bytes);
            },
            row.value);
        EXPECT_TRUE(ok) << row.value;
    }
}

TEST(Encode, RefusesWhatTheWireCannotCarry) {
    struct Refused {
        Message value;
        Errc expected;
    };
    static const std::string long_id(65, 'a');
    static const std::string long_text(1025, 'x');
    const Refused refused[] = {
        {Register{{"", "127.0.0.1", 1}}, Errc::bad_client_id},
        {Register{{"us er", "127.0.0.1", 1}}, Errc::bad_client_id},
        {Register{{std::string_view("u\0", 2), "127.0.0.1", 1}}, Errc::bad_client_id},
        {Register{{std::string_view("u\xC3\xA9"), "127.0.0.1", 1}}, Errc::bad_client_id},
        {Bridge{long_id}, Errc::id_too_long},
        {Register{{"a", "localhost", 1}}, Errc::bad_ip},
        {Register{{"a", "1.2.3.256", 1}}, Errc::bad_ip},
        {Register{{"a", "", 1}}, Errc::bad_ip},
        {Chat{{"a", "[::1]", 1}}, Errc::bad_ip},
        {Register{{"a", "1.2.3.4", 0}}, Errc::bad_port},
        {BridgeAck{Contact{"", "", 0}}, Errc::bad_client_id},
        {Text{"two\r\nlines"}, Errc::invalid_byte},
        {Text{"bare\nlf"}, Errc::bare_lf},
        {Text{"\x1B[31mred"}, Errc::invalid_byte},
        {Text{long_text}, Errc::line_too_long},
        {ErrorReply{1000, "x"}, Errc::bad_code},
        {ErrorReply{400, "trailing "}, Errc::trailing_whitespace},
        {ErrorReply{400, " leading"}, Errc::malformed_header},
        {ErrorReply{400, std::string_view(long_text).substr(0, 1017)}, Errc::line_too_long},
    };
    for (const Refused& r : refused) {
        std::string out = "kept";
        EXPECT_EQ(encode(r.value, out), make_error_code(r.expected)) << r.value;
        EXPECT_EQ(out, "kept") << r.value;
    }
    // Within the limits the receiver has, or refused (spec §7): here a 100-byte MAX-MESSAGE.
    Limits small;
    small.message_size = 100;
    std::string out;
    EXPECT_FALSE(encode(ErrorReply{400, std::string_view(long_text).substr(0, 60)}, out, small));
    out.clear();
    EXPECT_EQ(encode(ErrorReply{400, std::string_view(long_text).substr(0, 80)}, out, small),
              make_error_code(Errc::message_too_large));
    EXPECT_TRUE(out.empty());
}

// Generated values: every valid value encodes, decodes back to itself in the strict profile,
// and re-encodes to the same bytes.
class Generator {
  public:
    explicit Generator(unsigned seed) : rng_(seed) {}

    Message next() {
        switch (pick(8)) {
        case 0: return Register{contact()};
        case 1: return RegAck{contact(), pick(2) == 1};
        case 2: return Bridge{id()};
        case 3: return pick(2) ? BridgeAck{contact()} : BridgeAck{};
        case 4: return Chat{contact()};
        case 5: return Text{text()};
        case 6: return Quit{};
        default: return ErrorReply{std::uint16_t(100 + pick(900)), reason()};
        }
    }

  private:
    std::size_t pick(std::size_t n) { return rng_() % n; }

    std::string_view keep(std::string s) { return store_.emplace_back(std::move(s)); }

    std::string_view id() {
        std::string s;
        const std::size_t n = 1 + pick(64);
        for (std::size_t i = 0; i < n; ++i) {
            s.push_back(char(0x21 + pick(0x7E - 0x21 + 1)));
        }
        return keep(s);
    }
    std::string_view host() {
        if (pick(3) == 0) {
            static const char* v6[] = {
                "::1", "fe80::1", "2001:db8::8a2e:370:7334", "::ffff:10.1.2.3", "1:2:3:4:5:6:7:8",
                "::"};
            return v6[pick(6)];
        }
        return keep(std::to_string(pick(256)) + '.' + std::to_string(pick(256)) + '.' +
                    std::to_string(pick(256)) + '.' + std::to_string(pick(256)));
    }
    Contact contact() { return {id(), host(), std::uint16_t(1 + pick(65535))}; }
    std::string_view text() {
        static const char* special[] = {"QUIT", "\\QUIT", "\\\\QUIT", "", "CHAT", "QUIT ", "\\"};
        if (pick(4) == 0) {
            return special[pick(7)];
        }
        std::string s;
        const std::size_t n = pick(80);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = pick(10);
            s.push_back(k == 0 ? '\t' : k == 1 ? char(0x80 + pick(0x80)) : char(0x20 + pick(0x5F)));
        }
        return keep(s);
    }
    std::string_view reason() {
        std::string s = std::string(text());
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.pop_back();
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
            s.erase(0, 1);
        return keep(s);
    }

    std::mt19937 rng_;
    std::deque<std::string> store_;
};

Context context_of(const Message& m) {
    return std::visit(
        [](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, Register> || std::is_same_v<T, Bridge>)
                return Context::request;
            if constexpr (std::is_same_v<T, Chat>)
                return Context::chat_open;
            if constexpr (std::is_same_v<T, Text> || std::is_same_v<T, Quit>)
                return Context::chat;
            return Context::response;
        },
        m);
}

TEST(RoundTrip, GeneratedMessages) {
    Generator gen(20261129);
    for (int i = 0; i < 20000; ++i) {
        const Message m = gen.next();
        std::string bytes;
        ASSERT_FALSE(encode(m, bytes)) << m;
        const Decoded d = decode(context_of(m), bytes, strict_profile);
        ASSERT_TRUE(d) << m << " -> " << d.error();
        ASSERT_EQ(d.value(), m);
        std::string again;
        ASSERT_FALSE(encode(d.value(), again));
        ASSERT_EQ(again, bytes);
    }
}

} // namespace
} // namespace tcpchat
