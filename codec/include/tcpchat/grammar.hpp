// The TCP-Chat grammar: spec/tcp-chat.md's ABNF transcribed into PEGTL rules, one struct per
// production, named like the production ('-' becomes '_'), in the spec's order. The grammar holds
// no semantics: actions and error mapping live in codec/src. A test checks that every production
// of the spec has a rule here, so the two cannot drift.
//
// `if_must<>` marks where the input is committed: past it a failure is an error at an exact
// position, not a backtrack. Literals use `str<>`, which (unlike pegtl::string) fails at the first
// differing byte even when the input ends early, which tells "this input is wrong" from "this
// input is not finished yet" (spec §4.1).
#pragma once

#include <algorithm>
#include <cstring>
#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/abnf.hpp>
#include <tao/pegtl/contrib/uint8.hpp>

namespace tcpchat::grammar {

using namespace tao::pegtl; // NOLINT(google-build-using-namespace): a grammar namespace

// A case-sensitive literal (RFC 7405 %s"...") that fails as soon as a present byte differs and
// asks for more input only when every present byte matches.
template <char... Cs>
struct str {
    using rule_t = str;
    using subs_t = empty_list;

    template <typename ParseInput>
    [[nodiscard]] static bool match(ParseInput& in) {
        static constexpr char text[] = {Cs...};
        constexpr std::size_t length = sizeof...(Cs);
        if (in.size(0) >= length && std::memcmp(in.current(), text, length) == 0) {
            in.bump_in_this_line(length); // the common case, in one comparison
            return true;
        }
        const std::size_t available = std::min(in.size(0), length);
        std::size_t same = 0;
        while (same < available && in.current()[same] == text[same]) {
            ++same;
        }
        if (same < available) {
            return false;
        }
        if (in.size(length) < length) {
            return false; // a prefix of the literal: more input decides
        }
        in.bump_in_this_line(length);
        return true;
    }
};

// clang-format off

// §4.1 Framing (CRLF, SP, HTAB, WSP, DIGIT, ALPHA, VCHAR, HEXDIG: RFC 5234 Appendix B)
struct CRLF : str< '\r', '\n' > {};
struct OWS : star< abnf::WSP > {};
struct obs_text : uint8::range< 0x80, 0xFF > {};

// §4.2 Method line
struct register_method : str< 'R', 'E', 'G', 'I', 'S', 'T', 'E', 'R' > {};
struct regack_method : str< 'R', 'E', 'G', 'A', 'C', 'K' > {};
struct bridgeack_method : str< 'B', 'R', 'I', 'D', 'G', 'E', 'A', 'C', 'K' > {};
struct bridge_method : str< 'B', 'R', 'I', 'D', 'G', 'E' > {};
struct chat_method : str< 'C', 'H', 'A', 'T' > {};
struct quit_method : str< 'Q', 'U', 'I', 'T' > {};
struct error_method : str< 'E', 'R', 'R', 'O', 'R' > {};
struct method : sor< register_method, regack_method, bridgeack_method, bridge_method,
                     chat_method, quit_method, error_method > {};

// §4.3 Header fields
struct tchar : sor< abnf::ALPHA, abnf::DIGIT,
                    one< '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' > > {};
struct method_token : seq< method, not_at< tchar > > {};   // a method is a whole token
struct method_end : CRLF {};
struct method_line : seq< must< method_token >, must< method_end > > {};

struct field_sep : seq< one< ':' >, OWS > {};
struct trailing_ows : OWS {};
struct field_end : seq< trailing_ows, CRLF > {};
struct field_name : plus< tchar > {};
// A field-name other than the six of §4.3 (the spec's prose-val). header_field also tries the six
// first, and each commits at its name and colon.
struct known_name : sor< str< 'c', 'l', 'i', 'e', 'n', 't', 'I', 'D' >, str< 'I', 'P' >, str< 'P', 'o', 'r', 't' >,
                         str< 'S', 't', 'a', 't', 'u', 's' >, str< 'C', 'o', 'd', 'e' >, str< 'R', 'e', 'a', 's', 'o', 'n' > > {};
struct extension_name : seq< not_at< known_name, not_at< tchar > >, field_name > {};
struct field_vchar : sor< abnf::VCHAR, obs_text > {};
// field-vchar *( *WSP field-vchar ): the repetition backtracks over whitespace not followed by a
// field-vchar, which is left to field-end.
struct field_content : seq< field_vchar, star< star< abnf::WSP >, field_vchar > > {};
struct field_value : opt< field_content > {};
struct id_char : range< 0x21, 0x7E > {};
struct client_id : plus< id_char > {};

// IP addresses, RFC 3986 §3.2.2 (written out here: the dec-octet of PEGTL's uri.hpp reads
// past the end of an input that ends inside the last octet).
struct dec_octet : sor< seq< str< '2', '5' >, range< '0', '5' > >,
                        seq< one< '2' >, range< '0', '4' >, abnf::DIGIT >,
                        seq< one< '1' >, abnf::DIGIT, abnf::DIGIT >,
                        seq< range< '1', '9' >, abnf::DIGIT >,
                        abnf::DIGIT > {};
struct IPv4address : seq< dec_octet, one< '.' >, dec_octet, one< '.' >, dec_octet, one< '.' >, dec_octet > {};

struct h16 : rep_min_max< 1, 4, abnf::HEXDIG > {};
struct h16_colon : seq< h16, one< ':' >, not_at< one< ':' > > > {};
struct ls32 : sor< IPv4address, seq< h16, one< ':' >, h16 > > {};
struct dcolon : str< ':', ':' > {};
struct IPv6address : sor< seq<                                                  rep< 6, h16_colon >, ls32 >,
                          seq<                                          dcolon, rep< 5, h16_colon >, ls32 >,
                          seq< opt< h16 >,                              dcolon, rep< 4, h16_colon >, ls32 >,
                          seq< opt< rep_max< 1, h16_colon >, h16 >,     dcolon, rep< 3, h16_colon >, ls32 >,
                          seq< opt< rep_max< 2, h16_colon >, h16 >,     dcolon, rep< 2, h16_colon >, ls32 >,
                          seq< opt< rep_max< 3, h16_colon >, h16 >,     dcolon,      h16_colon,      ls32 >,
                          seq< opt< rep_max< 4, h16_colon >, h16 >,     dcolon,                      ls32 >,
                          seq< opt< rep_max< 5, h16_colon >, h16 >,     dcolon,                      h16 >,
                          seq< opt< rep_max< 6, h16_colon >, h16 >,     dcolon > > {};
// IPv6 first: an IPv4 prefix of an IPv6 address ("1:..." is not) cannot mislead it, and IPv6's
// last alternative ls32 already covers the IPv4-in-IPv6 forms.
struct ip : sor< seq< IPv4address, not_at< sor< one< ':' >, abnf::HEXDIG > > >, IPv6address > {};

struct port : plus< abnf::DIGIT > {};
struct status : str< 'r', 'e', 'g', 'i', 's', 't', 'e', 'r', 'e', 'd' > {};
struct code : rep< 3, abnf::DIGIT > {};
struct reason : opt< field_content > {};

struct client_id_key : seq< str< 'c', 'l', 'i', 'e', 'n', 't', 'I', 'D' >, field_sep > {};
struct ip_key : seq< str< 'I', 'P' >, field_sep > {};
struct port_key : seq< str< 'P', 'o', 'r', 't' >, field_sep > {};
struct status_key : seq< str< 'S', 't', 'a', 't', 'u', 's' >, field_sep > {};
struct code_key : seq< str< 'C', 'o', 'd', 'e' >, field_sep > {};
struct reason_key : seq< str< 'R', 'e', 'a', 's', 'o', 'n' >, field_sep > {};
struct extension_key : seq< extension_name, field_sep > {};

struct client_id_end : CRLF {};
struct ip_end : CRLF {};
struct port_end : CRLF {};
struct status_end : CRLF {};
struct code_end : CRLF {};
struct reason_end : CRLF {};

struct client_id_field : if_must< client_id_key, opt< client_id >, trailing_ows, client_id_end > {};
struct ip_field : if_must< ip_key, opt< ip >, trailing_ows, ip_end > {};
struct port_field : if_must< port_key, opt< port >, trailing_ows, port_end > {};
struct status_field : if_must< status_key, status, trailing_ows, status_end > {};
struct code_field : if_must< code_key, code, trailing_ows, code_end > {};
struct reason_field : if_must< reason_key, reason, trailing_ows, reason_end > {};
struct extension_field : if_must< extension_key, field_value, field_end > {};
struct header_field : sor< client_id_field, ip_field, port_field, status_field,
                           code_field, reason_field, extension_field > {};

// §4.4 Canonical messages: what a sender produces (the encoder's output is checked against
// these); receivers use §4.5.
struct canonical_client_id : seq< str< 'c', 'l', 'i', 'e', 'n', 't', 'I', 'D', ':', ' ' >, client_id, CRLF > {};
struct canonical_ip : seq< str< 'I', 'P', ':', ' ' >, ip, CRLF > {};
struct port_number : seq< range< '1', '9' >, rep_max< 4, abnf::DIGIT > > {};
struct canonical_port : seq< str< 'P', 'o', 'r', 't', ':', ' ' >, port_number, CRLF > {};
struct contact_fields : seq< canonical_client_id, canonical_ip, canonical_port > {};
struct empty_contact_fields : seq< str< 'c', 'l', 'i', 'e', 'n', 't', 'I', 'D', ':', ' ' >, CRLF,
                                   str< 'I', 'P', ':', ' ' >, CRLF,
                                   str< 'P', 'o', 'r', 't', ':', ' ' >, CRLF > {};
struct register_message : seq< register_method, CRLF, contact_fields, CRLF > {};
struct regack_message : seq< regack_method, CRLF, contact_fields,
                             opt< str< 'S', 't', 'a', 't', 'u', 's', ':', ' ' >, status, CRLF >, CRLF > {};
struct bridge_message : seq< bridge_method, CRLF, canonical_client_id, CRLF > {};
struct bridgeack_message : seq< bridgeack_method, CRLF, sor< contact_fields, empty_contact_fields >, CRLF > {};
struct chat_message : seq< chat_method, CRLF, contact_fields, CRLF > {};
struct quit_message : seq< quit_method, CRLF, CRLF > {};
struct error_message : seq< error_method, CRLF, str< 'C', 'o', 'd', 'e', ':', ' ' >, code, CRLF,
                            str< 'R', 'e', 'a', 's', 'o', 'n', ':', ' ' >, reason, CRLF, CRLF > {};
struct text_char : sor< range< 0x20, 0x7E >, abnf::HTAB, obs_text > {};
struct line_text : star< text_char > {};
struct text_end : CRLF {};
struct text_line : seq< line_text, must< text_end > > {};

// §4.6 The peer connection as a conforming peer writes it, one rule per direction. A stuffed
// text line is never the line QUIT, so the first `QUIT\r\n\r\n` is the QUIT message.
struct chat_line : seq< not_at< quit_method, CRLF >, not_at< eof >, text_line > {};
struct initiator_stream : seq< chat_message, star< chat_line >, opt< quit_message > > {};
struct waiter_stream : seq< star< chat_line >, opt< quit_message > > {};

// §4.5 Accepted messages, per decoding context
struct header_start : success {};   // where each header line begins: MAX-HEADERS is counted here
struct header_line : seq< not_at< CRLF >, header_start, header_field > {};
struct blank_line : CRLF {};
struct framed_message : seq< method_line, star< header_line >, must< blank_line > > {};
struct request : seq< framed_message > {};
struct response : seq< framed_message > {};
struct chat_handshake : seq< framed_message > {};

// §9.2 The installed base's chat framings, each behind its leniency (decode.cpp's controls skip
// a rule whose leniency is off). A turn's end (a pause, or the end of the stream, §5.6) is the
// end of the input given to the parse: the *-turn rules only match there.
struct message_text : line_text {};
struct message_turn : seq< chat_method, CRLF, str< 'M', 'E', 'S', 'S', 'A', 'G', 'E', ':' >, message_text, CRLF, CRLF > {};
struct quit_farewell : seq< quit_method, CRLF, plus< text_char >, CRLF, CRLF > {};
struct turn_end : eof {};
struct quit_turn : seq< quit_method, star< CRLF >, turn_end > {};
struct unterminated_turn : seq< line_text, turn_end > {};

struct chat_opening : sor< message_turn, chat_handshake > {};
struct chat_item : sor< quit_message, quit_farewell, message_turn, text_line > {};
struct opening_turn_end : sor< unterminated_turn, chat_opening > {};
struct chat_turn_end : sor< quit_turn, unterminated_turn, chat_item > {};

// clang-format on

} // namespace tcpchat::grammar
