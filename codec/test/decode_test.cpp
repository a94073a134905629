// One-shot decoding, table-driven from the spec (§4, §5, §8, §9.2): each row is the bytes, the
// context and profile, and the value or the error with its exact offset.
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace tcpchat {
namespace {

// Transcripts name codes (`decode error bare_lf at 8`): every code is found by its name.
TEST(Errc, EveryCodeIsFoundByItsName) {
    for (int i = int(Errc::truncated); i <= int(Errc::id_too_long); ++i) {
        const auto name = errc_name(Errc(i));
        EXPECT_NE(name, "unknown") << i;
        EXPECT_EQ(errc_from_name(name), Errc(i)) << name;
    }
    EXPECT_EQ(errc_from_name("truncated"), Errc::truncated);
    EXPECT_EQ(errc_from_name("id_too_long"), Errc::id_too_long);
    EXPECT_EQ(errc_from_name("unknown"), std::nullopt);
    EXPECT_EQ(errc_from_name("bare_LF"), std::nullopt);
    EXPECT_EQ(errc_from_name(""), std::nullopt);
}

using test::unescape;

struct Row {
    const char* name;
    Context context;
    const char* bytes;   // escaped as in the spec
    const char* lenient; // printed value, or "error:<errc>@<offset>"
    const char* strict;  // same for the strict profile; nullptr: same as lenient
};

std::string outcome(Context c, std::string_view bytes, const DecodeOptions& o) {
    const Decoded d = decode(c, bytes, o);
    if (d) {
        return to_string(d.value());
    }
    std::ostringstream os;
    os << "error:" << d.error().code << '@' << d.error().offset;
    return os.str();
}

// clang-format off
const Row rows[] = {
    // §5.1-§5.8: canonical messages decode in both profiles
    {"register", Context::request, R"(REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n)",
     "REGISTER{clientID=user1 IP=127.0.0.1 Port=3000}", nullptr},
    {"bridge", Context::request, R"(BRIDGE\r\nclientID: user1\r\n\r\n)", "BRIDGE{clientID=user1}", nullptr},
    {"regack", Context::response, R"(REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n)",
     "REGACK{clientID=user1 IP=127.0.0.1 Port=3000}", nullptr},
    {"regack_status", Context::response,
     R"(REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\nStatus: registered\r\n\r\n)",
     "REGACK{clientID=user1 IP=127.0.0.1 Port=3000 Status=registered}", nullptr},
    {"bridgeack_peer", Context::response, R"(BRIDGEACK\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n)",
     "BRIDGEACK{clientID=user2 IP=127.0.0.1 Port=3001}", nullptr},
    {"bridgeack_empty", Context::response, R"(BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n)", "BRIDGEACK{}", nullptr},
    {"chat", Context::chat_open, R"(CHAT\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n)",
     "CHAT{clientID=user2 IP=127.0.0.1 Port=3001}", nullptr},
    {"text", Context::chat, R"(hello there\r\n)", R"(Text{"hello there"})", nullptr},
    {"text_empty", Context::chat, R"(\r\n)", R"(Text{""})", nullptr},
    {"text_utf8_tab", Context::chat, R"(caf\xC3\xA9\tok\r\n)", R"(Text{"caf\xC3\xA9\tok"})", nullptr},
    {"text_stuffed_quit", Context::chat, R"(\\QUIT\r\n)", R"(Text{"QUIT"})", nullptr},
    {"text_double_stuffed", Context::chat, R"(\\\\QUIT\r\n)", R"(Text{"\\QUIT"})", nullptr},
    {"text_backslash_other", Context::chat, R"(\\o/\r\n)", R"(Text{"\\o/"})", nullptr},
    {"text_method_like", Context::chat, R"(CHAT\r\n)", R"(Text{"CHAT"})", nullptr},
    {"quit", Context::chat, R"(QUIT\r\n\r\n)", "QUIT{}", nullptr},
    {"error", Context::response, R"(ERROR\r\nCode: 404\r\nReason: clientID user9 is not registered\r\n\r\n)",
     R"(ERROR{Code=404 Reason="clientID user9 is not registered"})", nullptr},
    {"ipv6", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: fe80::1:2\r\nPort: 1\r\n\r\n)",
     "REGISTER{clientID=a IP=fe80::1:2 Port=1}", nullptr},
    {"ipv4_in_ipv6", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: ::ffff:10.0.0.1\r\nPort: 65535\r\n\r\n)",
     "REGISTER{clientID=a IP=::ffff:10.0.0.1 Port=65535}", nullptr},

    // §9.2: installed-base variants, accepted by the lenient profile only
    {"no_space_after_colon", Context::request, R"(REGISTER\r\nclientID:user1\r\nIP:127.0.0.1\r\nPort:3000\r\n\r\n)",
     "REGISTER{clientID=user1 IP=127.0.0.1 Port=3000}", "error:bad_separator@19"},
    {"extra_spaces", Context::request, R"(BRIDGE\r\nclientID:   user1  \r\n\r\n)",
     "BRIDGE{clientID=user1}", "error:bad_separator@17"},
    {"trailing_space", Context::request, R"(BRIDGE\r\nclientID: user1 \r\n\r\n)",
     "BRIDGE{clientID=user1}", "error:trailing_whitespace@23"},
    {"other_order", Context::request, R"(REGISTER\r\nPort: 3000\r\nIP: 127.0.0.1\r\nclientID: user1\r\n\r\n)",
     "REGISTER{clientID=user1 IP=127.0.0.1 Port=3000}", "error:header_order@22"},
    {"unknown_header", Context::request, R"(BRIDGE\r\nclientID: user1\r\nX-Client: py\r\n\r\n)",
     "BRIDGE{clientID=user1}", "error:unknown_header@25"},
    {"header_of_other_message", Context::request, R"(BRIDGE\r\nclientID: user1\r\nPort: 3000\r\n\r\n)",
     "BRIDGE{clientID=user1}", "error:unknown_header@25"},
    {"empty_bridgeack_no_space", Context::response, R"(BRIDGEACK\r\nclientID:\r\nIP:\r\nPort:\r\n\r\n)",
     "BRIDGEACK{}", "error:bad_separator@20"},
    {"port_leading_zero", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 03000\r\n\r\n)",
     "REGISTER{clientID=a IP=1.2.3.4 Port=3000}", "error:bad_port@42"},
    {"quit_line_ends_the_turn", Context::chat, R"(QUIT\r\n)", "QUIT{}", "error:truncated@6"},
    {"bare_quit_turn", Context::chat, "QUIT", "QUIT{}", "error:truncated@4"},
    {"quit_with_farewell", Context::chat, R"(QUIT\r\nGoodbye!\r\n\r\n)", "QUIT{}", "error:unstuffed_quit@0"},
    {"unterminated_turn", Context::chat, "hello there", R"(Text{"hello there"})", "error:truncated@11"},
    {"unterminated_stuffed_quit", Context::chat, R"(\\QUIT)", R"(Text{"QUIT"})", "error:truncated@5"},
    {"message_turn", Context::chat, R"(CHAT\r\nMESSAGE:hi there\r\n\r\n)", R"(Text{"hi there"})", "error:trailing_data@6"},
    {"message_turn_empty", Context::chat, R"(CHAT\r\nMESSAGE:\r\n\r\n)", R"(Text{""})", "error:trailing_data@6"},
    {"message_turn_opens", Context::chat_open, R"(CHAT\r\nMESSAGE:hi\r\n\r\n)", R"(Text{"hi"})", "error:bad_separator@14"},
    {"opening_without_handshake", Context::chat_open, "hello", R"(Text{"hello"})", "error:unknown_method@0"},
    {"opening_line_without_handshake", Context::chat_open, R"(hello\r\n)", "error:unknown_method@0", nullptr},
    {"unterminated_control_byte", Context::chat, R"(hi\x01)", "error:invalid_byte@2", nullptr},
    {"unstuffed_quit_then_text", Context::chat, R"(QUIT\r\nX)", "error:trailing_data@6", "error:unstuffed_quit@0"},

    // §8: errors in both profiles, with their exact offsets
    {"bare_lf_method", Context::request, R"(REGISTER\n)", "error:bare_lf@8", nullptr},
    {"bare_lf_header", Context::request, R"(BRIDGE\r\nclientID: a\n\r\n)", "error:bare_lf@19", nullptr},
    {"bare_lf_text", Context::chat, R"(hi\n)", "error:bare_lf@2", nullptr},
    {"cr_without_lf", Context::chat, R"(hi\rthere\r\n)", "error:invalid_byte@2", nullptr},
    {"nul_in_id", Context::request, R"(BRIDGE\r\nclientID: us\x00r\r\n\r\n)", "error:invalid_byte@20", nullptr},
    {"escape_in_text", Context::chat, R"(red \x1B[31m\r\n)", "error:invalid_byte@4", nullptr},
    {"del_in_text", Context::chat, R"(a\x7F\r\n)", "error:invalid_byte@1", nullptr},
    {"unknown_method", Context::request, R"(HELLO\r\n\r\n)", "error:unknown_method@0", nullptr},
    {"method_lowercase", Context::request, R"(register\r\n\r\n)", "error:unknown_method@0", nullptr},
    {"method_with_suffix", Context::request, R"(REGISTERED\r\n\r\n)", "error:unknown_method@0", nullptr},
    {"method_then_space", Context::request, R"(BRIDGE \r\n\r\n)", "error:unknown_method@6", nullptr},
    {"empty_method_line", Context::request, R"(\r\n)", "error:unknown_method@0", nullptr},
    {"chat_to_server", Context::request, R"(CHAT\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 1\r\n\r\n)", "error:unexpected_method@0", nullptr},
    {"quit_to_server", Context::request, R"(QUIT\r\n\r\n)", "error:unexpected_method@0", nullptr},
    {"regack_to_server", Context::request, R"(REGACK\r\n\r\n)", "error:unexpected_method@0", nullptr},
    {"register_to_client", Context::response, R"(REGISTER\r\n\r\n)", "error:unexpected_method@0", nullptr},
    {"text_instead_of_chat", Context::chat_open, R"(hello\r\n)", "error:unknown_method@0", nullptr},
    {"bridge_instead_of_chat", Context::chat_open, R"(BRIDGE\r\nclientID: a\r\n\r\n)", "error:unexpected_method@0", nullptr},
    {"header_without_colon", Context::request, R"(BRIDGE\r\nclientID user1\r\n\r\n)", "error:malformed_header@8", nullptr},
    {"header_leading_space", Context::request, R"(BRIDGE\r\n clientID: a\r\n\r\n)", "error:malformed_header@8", nullptr},
    {"missing_final_line", Context::request, R"(BRIDGE\r\nclientID: a\r\n)", "error:truncated@21", nullptr},
    {"duplicate", Context::request, R"(BRIDGE\r\nclientID: a\r\nclientID: b\r\n\r\n)", "error:duplicate_header@21", nullptr},
    {"missing_port", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\n\r\n)", "error:missing_header@36", nullptr},
    {"missing_id", Context::request, R"(BRIDGE\r\n\r\n)", "error:missing_header@8", nullptr},
    {"empty_id", Context::request, R"(BRIDGE\r\nclientID: \r\n\r\n)", "error:empty_value@18", nullptr},
    {"empty_port_register", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: \r\n\r\n)", "error:empty_value@42", nullptr},
    {"partly_empty_bridgeack", Context::response, R"(BRIDGEACK\r\nclientID: b\r\nIP: \r\nPort: \r\n\r\n)", "error:empty_value@28", nullptr},
    // Any header order: the empty value that comes first in the message, not first by name (§5.4).
    {"partly_empty_bridgeack_any_order", Context::response, R"(BRIDGEACK\r\nPort: 3001\r\nIP: \r\nclientID: \r\n\r\n)", "error:empty_value@27", "error:header_order@23"},
    {"space_in_id", Context::request, R"(BRIDGE\r\nclientID: us er\r\n\r\n)", "error:bad_client_id@21", "error:trailing_whitespace@20"},
    {"port_zero", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 0\r\n\r\n)", "error:bad_port@42", nullptr},
    {"port_65536", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 65536\r\n\r\n)", "error:bad_port@42", nullptr},
    {"port_letters", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 30a\r\n\r\n)", "error:bad_port@44", nullptr},
    {"port_negative", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: -1\r\n\r\n)", "error:bad_port@42", nullptr},
    {"ip_octet_256", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.256\r\nPort: 1\r\n\r\n)", "error:bad_ip@27", nullptr},
    {"ip_three_octets", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3\r\nPort: 1\r\n\r\n)", "error:bad_ip@27", nullptr},
    {"ip_hostname", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: localhost\r\nPort: 1\r\n\r\n)", "error:bad_ip@27", nullptr},
    {"ip_bracketed_v6", Context::request, R"(REGISTER\r\nclientID: a\r\nIP: [::1]\r\nPort: 1\r\n\r\n)", "error:bad_ip@27", nullptr},
    {"bad_status", Context::response, R"(REGACK\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 1\r\nStatus: ok\r\n\r\n)", "error:bad_status@51", nullptr},
    {"bad_code", Context::response, R"(ERROR\r\nCode: 40\r\nReason: x\r\n\r\n)", "error:bad_code@13", nullptr},
    {"trailing_data", Context::request, R"(BRIDGE\r\nclientID: a\r\n\r\nX)", "error:trailing_data@23", nullptr},
    {"empty_input", Context::request, "", "error:truncated@0", nullptr},
    {"cut_in_method", Context::request, "REGIS", "error:truncated@5", nullptr},
    {"cut_in_name", Context::request, R"(REGISTER\r\ncli)", "error:truncated@13", nullptr},
    {"cut_in_value", Context::request, R"(BRIDGE\r\nclientID: us)", "error:truncated@20", nullptr},
    {"cut_after_cr", Context::chat, R"(hi\r)", "error:truncated@3", nullptr},
    {"text_without_crlf", Context::chat, "hi", R"(Text{"hi"})", "error:truncated@2"},
};
// clang-format on

class DecodeTable : public ::testing::TestWithParam<Row> {};

TEST_P(DecodeTable, LenientAndStrictProfiles) {
    const Row& row = GetParam();
    const std::string bytes = unescape(row.bytes);
    EXPECT_EQ(outcome(row.context, bytes, lenient_profile), row.lenient) << row.bytes;
    EXPECT_EQ(outcome(row.context, bytes, strict_profile), row.strict ? row.strict : row.lenient)
        << row.bytes;
}

INSTANTIATE_TEST_SUITE_P(Spec, DecodeTable, ::testing::ValuesIn(rows),
                         [](const auto& info) { return std::string(info.param.name); });

// Each leniency is switchable on its own (spec §9.2): with all others on, turning one off
// rejects exactly its variant.
TEST(Leniency, EachSwitchAlone) {
    struct Case {
        Leniency off;
        Context context;
        const char* bytes;
        Errc expected;
    };
    const Case cases[] = {
        {Leniency::optional_space, Context::request, R"(BRIDGE\r\nclientID:a\r\n\r\n)",
         Errc::bad_separator},
        {Leniency::extra_whitespace, Context::request, R"(BRIDGE\r\nclientID:  a\r\n\r\n)",
         Errc::bad_separator},
        {Leniency::extra_whitespace, Context::request, R"(BRIDGE\r\nclientID: a\t\r\n\r\n)",
         Errc::trailing_whitespace},
        {Leniency::any_order, Context::request,
         R"(REGISTER\r\nIP: 1.2.3.4\r\nclientID: a\r\nPort: 1\r\n\r\n)", Errc::header_order},
        {Leniency::unknown_headers, Context::request, R"(BRIDGE\r\nclientID: a\r\nX: 1\r\n\r\n)",
         Errc::unknown_header},
        {Leniency::port_leading_zeros, Context::request,
         R"(REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 01\r\n\r\n)", Errc::bad_port},
        {Leniency::unstuffed_quit, Context::chat, R"(QUIT\r\nX\r\nY\r\n)", Errc::unstuffed_quit},
        {Leniency::unterminated_turn, Context::chat, "hi", Errc::truncated},
        {Leniency::quit_forms, Context::chat, R"(QUIT\r\n\r\n\r\n)", Errc::data_after_quit},
        {Leniency::message_turns, Context::chat_open, R"(CHAT\r\nMESSAGE:hi\r\n\r\n)",
         Errc::missing_header},
        {Leniency::no_handshake, Context::chat_open, "hi", Errc::unknown_method},
    };
    for (const Case& c : cases) {
        const std::string bytes = unescape(c.bytes);
        EXPECT_FALSE(decode_stream(c.context, bytes, lenient_profile).error) << c.bytes;
        const StreamResult r = decode_stream(c.context, bytes, {Leniency::all & ~c.off, {}});
        ASSERT_TRUE(r.error) << c.bytes;
        EXPECT_EQ(r.error->code, c.expected) << c.bytes;
    }
}

TEST(DecodeError, ComposesWithStdErrorCode) {
    const std::error_code ec = Errc::line_too_long;
    EXPECT_EQ(ec.category().name(), std::string("tcpchat.codec"));
    EXPECT_EQ(ec.message(), "a line longer than MAX-LINE");
    std::ostringstream os;
    os << DecodeError{Errc::bad_port, 40, "a port number 1-65535"};
    EXPECT_EQ(os.str(), "bad_port at byte 40 (expected a port number 1-65535)");
}

} // namespace
} // namespace tcpchat
