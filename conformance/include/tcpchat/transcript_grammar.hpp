// The grammar of conformance transcripts (spec/transcript-format.md §T.3-§T.6), one PEGTL rule per
// ABNF production, named like the production with '-' -> '_'. It holds no semantics: the reader's
// actions (transcript.cpp) build the data model of transcript.hpp.
#pragma once

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/abnf.hpp>

namespace tcpchat::transcript::grammar {

namespace pegtl = tao::pegtl;
using pegtl::at;
using pegtl::eof;
using pegtl::if_must;
using pegtl::must;
using pegtl::not_at;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::range;
using pegtl::ranges;
using pegtl::rep;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;
using pegtl::until;
using pegtl::abnf::ALPHA;
using pegtl::abnf::DIGIT;
using pegtl::abnf::DQUOTE;
using pegtl::abnf::HEXDIG;
using pegtl::abnf::SP;
using pegtl::abnf::WSP;

// clang-format off

// §T.3 Lines of the file
struct OWS : star<WSP> {};
struct obs_text : range<char(0x80), char(0xFF)> {};
struct text_char : sor<range<0x20, 0x7E>, pegtl::abnf::HTAB, obs_text> {};
struct eol : seq<opt<one<'\r'>>, one<'\n'>> {};
struct blank_line : seq<OWS, eol> {};

// §T.4 File structure
struct title_text : plus<text_char> {};
struct title : seq<one<'#'>, SP, title_text, eol> {};
struct meta_name : plus<ALPHA> {};
struct meta_value : plus<text_char> {};
struct meta_line : seq<one<'-'>, SP, meta_name, one<':'>, plus<SP>, meta_value, eol> {};
struct metadata : plus<meta_line> {};
struct fence : TAO_PEGTL_STRING("```") {};
struct fence_open : seq<fence, TAO_PEGTL_STRING("transcript"), OWS, eol> {};
struct fence_close : seq<fence, OWS, sor<eol, eof>> {};
struct prose_line : seq<not_at<fence>, not_at<blank_line>, plus<text_char>, eol> {};
struct why : plus<prose_line> {};
struct prose : sor<blank_line, prose_line> {};
struct any_line : seq<plus<text_char>, sor<eol, eof>> {};
struct trailer : sor<blank_line, any_line> {};

// §T.7 Byte strings
struct number : plus<DIGIT> {};
struct actor : seq<ALPHA, star<sor<ALPHA, DIGIT, one<'-', '_'>>>> {};
struct actor_field : sor<TAO_PEGTL_STRING("id"), TAO_PEGTL_STRING("ip"), TAO_PEGTL_STRING("port")> {};
struct actor_placeholder : seq<actor, one<'.'>, actor_field> {};
struct global_placeholder : sor<TAO_PEGTL_STRING("run"), TAO_PEGTL_STRING("server")> {};
struct placeholder_name : sor<actor_placeholder, global_placeholder> {};
struct placeholder : if_must<TAO_PEGTL_STRING("${"), placeholder_name, one<'}'>> {};
struct dollar : seq<one<'$'>, not_at<one<'{'>>> {};
struct plain : sor<one<0x20, 0x21>, one<0x23>, range<0x25, 0x5B>, range<0x5D, 0x7E>, obs_text, dollar> {};
struct hex_escape : seq<one<'x'>, rep<2, HEXDIG>> {};
struct escape : if_must<one<'\\'>, sor<one<'r', 'n', 't', '\\', '"', '$'>, hex_escape>> {};
struct quoted : if_must<DQUOTE, until<DQUOTE, sor<escape, placeholder, plain>>> {};
struct repeat : if_must<one<'*'>, number> {};
struct piece : seq<quoted, opt<repeat>> {};
struct payload : seq<piece, star<SP, piece>> {};

// §T.8 Values
struct value_method : sor<TAO_PEGTL_STRING("REGISTER"), TAO_PEGTL_STRING("REGACK"),
                          TAO_PEGTL_STRING("BRIDGEACK"), TAO_PEGTL_STRING("BRIDGE"),
                          TAO_PEGTL_STRING("CHAT"), TAO_PEGTL_STRING("TEXT"),
                          TAO_PEGTL_STRING("QUIT"), TAO_PEGTL_STRING("ERROR")> {};
struct token_char : sor<one<0x21>, one<0x23>, range<0x25, 0x7E>, dollar> {};
struct token : plus<sor<placeholder, token_char>> {};
struct field_key : seq<plus<ALPHA>, one<'='>> {};
struct field_value : sor<quoted, token> {};
struct value_field : seq<field_key, must<field_value>> {};
struct value : seq<value_method, star<SP, value_field>, opt<SP, payload>> {};

// §T.5 Directives
struct duration : seq<number, SP, TAO_PEGTL_STRING("ms")> {};
struct other_address : TAO_PEGTL_STRING("from another address") {};
struct connect : if_must<TAO_PEGTL_STRING("connect "), actor, SP, actor, opt<SP, other_address>> {};
struct lenient : TAO_PEGTL_STRING("lenient") {};
struct drip : TAO_PEGTL_STRING("drip") {};
struct send_option : sor<lenient, drip> {};
struct send_options : seq<one<'('>, send_option, star<one<','>, SP, send_option>, one<')'>> {};
struct send : if_must<TAO_PEGTL_STRING("->"), SP, actor, opt<SP, send_options>, one<':'>, SP, payload> {};
struct close : if_must<TAO_PEGTL_STRING("closes "), actor> {};
struct half_close : if_must<TAO_PEGTL_STRING("half-closes "), actor> {};
struct silence : if_must<TAO_PEGTL_STRING("sends nothing to "), actor, SP, TAO_PEGTL_STRING("for"), SP, duration> {};
struct type : if_must<TAO_PEGTL_STRING("types: "), payload> {};
struct show : if_must<TAO_PEGTL_STRING("shows: "), payload> {};
struct exit_status : if_must<TAO_PEGTL_STRING("exits with status "), number> {};
struct actor_verb : sor<send, close, half_close, silence, type, show, exit_status> {};
struct subject : actor {};
struct actor_directive : seq<subject, SP, must<actor_verb>> {};
struct errc_name : plus<sor<range<'a', 'z'>, one<'_'>>> {};
struct strict : TAO_PEGTL_STRING("strict ") {};
struct decodes : if_must<TAO_PEGTL_STRING("decodes to "), value> {};
struct decode_error : if_must<TAO_PEGTL_STRING("decode error "), errc_name, SP, TAO_PEGTL_STRING("at"), SP, number> {};
struct expectation : sor<if_must<strict, sor<decodes, decode_error>>, decodes, decode_error> {};
struct encodes : if_must<TAO_PEGTL_STRING("encodes to: "), payload> {};
struct pause : if_must<TAO_PEGTL_STRING("pause "), duration> {};
struct directive : sor<connect, expectation, encodes, pause, actor_directive> {};
struct comment : seq<one<'#'>, star<text_char>> {};
struct exchange_line : sor<blank_line, seq<OWS, sor<comment, directive>, OWS, eol>> {};
struct unclosed : not_at<eof> {};
struct exchange : if_must<fence_open, until<fence_close, must<unclosed>, must<exchange_line>>> {};

// §T.4 The whole file
struct case_file : must<title, star<blank_line>, metadata, plus<blank_line>, why, star<prose>,
                        exchange, star<trailer>, eof> {};

// clang-format on

// Messages for the points after which the input is committed (must<> / if_must<>).
template <typename Rule>
inline constexpr const char* error_message = nullptr;

// clang-format off
template <> inline constexpr const char* error_message<title> = "expected the title line '# ...'";
template <> inline constexpr const char* error_message<star<blank_line>> = "expected blank lines";
template <> inline constexpr const char* error_message<metadata> = "expected metadata lines '- Name: value' after the title";
template <> inline constexpr const char* error_message<plus<blank_line>> = "expected a blank line after the metadata";
template <> inline constexpr const char* error_message<why> = "expected the sentence saying why (one paragraph) after the metadata";
template <> inline constexpr const char* error_message<star<prose>> = "expected prose";
template <> inline constexpr const char* error_message<exchange> = "expected the exchange block opened by ```transcript";
template <> inline constexpr const char* error_message<star<trailer>> = "expected text after the exchange block";
template <> inline constexpr const char* error_message<eof> = "expected the end of the file";
template <> inline constexpr const char* error_message<unclosed> = "the exchange block is not closed by ```";
template <> inline constexpr const char* error_message<exchange_line> = "expected a directive, a comment or a blank line";
template <> inline constexpr const char* error_message<actor_verb> = "expected '->', 'closes', 'half-closes', 'sends nothing to', 'types:', 'shows:' or 'exits with status' after the actor";
template <> inline constexpr const char* error_message<actor> = "expected an actor name (a letter, then letters, digits, '-' or '_')";
template <> inline constexpr const char* error_message<SP> = "expected one space";
template <> inline constexpr const char* error_message<one<':'>> = "expected ':' after the receiving actor";
template <> inline constexpr const char* error_message<payload> = "expected a quoted byte string";
template <> inline constexpr const char* error_message<number> = "expected a decimal number";
template <> inline constexpr const char* error_message<duration> = "expected a duration 'N ms'";
template <> inline constexpr const char* error_message<TAO_PEGTL_STRING("for")> = "expected 'for'";
template <> inline constexpr const char* error_message<TAO_PEGTL_STRING("at")> = "expected 'at'";
template <> inline constexpr const char* error_message<errc_name> = "expected a codec error name such as bare_lf";
template <> inline constexpr const char* error_message<value> = "expected a message value such as 'REGISTER clientID=... IP=... Port=...'";
template <> inline constexpr const char* error_message<field_value> = "expected a field value (a token or a quoted string)";
template <> inline constexpr const char* error_message<sor<decodes, decode_error>> = "expected 'decodes to' or 'decode error' after 'strict'";
template <> inline constexpr const char* error_message<placeholder_name> = "expected a placeholder name: run, server, or ACTOR.id / ACTOR.ip / ACTOR.port";
template <> inline constexpr const char* error_message<one<'}'>> = "expected '}' closing the placeholder";
template <> inline constexpr const char* error_message<sor<one<'r', 'n', 't', '\\', '"', '$'>, hex_escape>> = "expected an escape: \\r \\n \\t \\\\ \\\" \\$ or \\xHH";
template <> inline constexpr const char* error_message<until<DQUOTE, sor<escape, placeholder, plain>>> = "unterminated or invalid quoted string (control bytes must be escaped)";
template <> inline constexpr const char* error_message<DQUOTE> = "expected '\"'";
// clang-format on

// The control class the reader parses with: when a committed rule (inside must<> / if_must<>)
// fails, parse_error carries the message above; rules without one are named by PEGTL.
template <typename Rule>
struct control : pegtl::normal<Rule> {
    template <typename Input, typename... States>
    [[noreturn]] static void raise(const Input& in, States&&... st) {
        if constexpr (error_message<Rule> != nullptr) {
            throw pegtl::parse_error(error_message<Rule>, in);
        } else {
            pegtl::normal<Rule>::raise(in, st...);
        }
    }
};

} // namespace tcpchat::transcript::grammar
