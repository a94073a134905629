// Encoding (spec §4.4, §9.1): values to canonical bytes. A value the grammar would not accept is
// refused with the error a decoder would report, so that what we send always decodes.
#include "tcpchat/encode.hpp"

#include "tcpchat/error.hpp"
#include "tcpchat/grammar.hpp"
#include "text.hpp"

#include <charconv>
#include <string_view>

namespace tcpchat {
namespace {

namespace pegtl = tao::pegtl;

// Why `text` is no line text, if it is not (spec §4.4).
Errc check_text(std::string_view text) {
    const std::size_t bad = detail::first_non_text(text);
    if (bad == text.size()) {
        return {};
    }
    return text[bad] == '\n' ? Errc::bare_lf : Errc::invalid_byte;
}

Errc check_id(std::string_view id, const Limits& limits) {
    if (id.empty()) {
        return Errc::bad_client_id;
    }
    for (const char c : id) {
        if (c < 0x21 || c > 0x7E) {
            return Errc::bad_client_id;
        }
    }
    return id.size() > limits.id_length ? Errc::id_too_long : Errc{};
}

bool is_ip(std::string_view host) {
    pegtl::memory_input<pegtl::tracking_mode::lazy, pegtl::eol::crlf, const char*> in(
        host.data(), host.data() + host.size(), "");
    return pegtl::parse<pegtl::seq<grammar::ip, pegtl::eof>>(in);
}

Errc check_contact(const Contact& c, const Limits& limits) {
    if (const Errc e = check_id(c.id, limits); e != Errc{}) {
        return e;
    }
    if (!is_ip(c.host)) {
        return Errc::bad_ip;
    }
    return c.port == 0 ? Errc::bad_port : Errc{};
}

// Appends the pieces, growing `out` once: each byte is written once (a resize would fill first).
template <typename... Pieces>
void put(std::string& out, const Pieces&... pieces) {
    out.reserve(out.size() + (std::string_view(pieces).size() + ...));
    (out.append(std::string_view(pieces)), ...);
}

// A method line, the contact headers and whatever ends the message, in canonical form (§4.4).
void put_contact_message(std::string& out, std::string_view method, const Contact& c,
                         std::string_view tail) {
    char digits[8];
    const auto end = std::to_chars(digits, digits + sizeof digits, c.port).ptr;
    put(out, method, "\r\nclientID: ", c.id, "\r\nIP: ", c.host,
        "\r\nPort: ", std::string_view(digits, std::size_t(end - digits)), "\r\n", tail);
}

// Each message's check, then its bytes.
struct Encoder {
    std::string& out;
    const Limits& limits;

    Errc operator()(const Register& m) const {
        if (const Errc e = check_contact(m.self, limits); e != Errc{}) {
            return e;
        }
        put_contact_message(out, "REGISTER", m.self, "\r\n");
        return {};
    }
    Errc operator()(const RegAck& m) const {
        if (const Errc e = check_contact(m.self, limits); e != Errc{}) {
            return e;
        }
        put_contact_message(out, "REGACK", m.self,
                            m.status ? "Status: registered\r\n\r\n" : "\r\n");
        return {};
    }
    Errc operator()(const Bridge& m) const {
        if (const Errc e = check_id(m.id, limits); e != Errc{}) {
            return e;
        }
        put(out, "BRIDGE\r\nclientID: ", m.id, "\r\n\r\n");
        return {};
    }
    Errc operator()(const BridgeAck& m) const {
        if (!m.peer) {
            out.append("BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n");
            return {};
        }
        if (const Errc e = check_contact(*m.peer, limits); e != Errc{}) {
            return e;
        }
        put_contact_message(out, "BRIDGEACK", *m.peer, "\r\n");
        return {};
    }
    Errc operator()(const Chat& m) const {
        if (const Errc e = check_contact(m.self, limits); e != Errc{}) {
            return e;
        }
        put_contact_message(out, "CHAT", m.self, "\r\n");
        return {};
    }
    Errc operator()(const Text& m) const {
        if (const Errc e = check_text(m.text); e != Errc{}) {
            return e;
        }
        // QUIT-stuffing (spec §5.6): `\`*`QUIT` gets one more backslash.
        const std::size_t slashes = m.text.find_first_not_of('\\');
        const bool stuff = slashes != std::string_view::npos && m.text.substr(slashes) == "QUIT";
        if (m.text.size() + (stuff ? 1 : 0) > limits.line_length) {
            return Errc::line_too_long;
        }
        put(out, stuff ? "\\" : "", m.text, "\r\n");
        return {};
    }
    Errc operator()(const Quit& /*m*/) const {
        out.append("QUIT\r\n\r\n");
        return {};
    }
    Errc operator()(const ErrorReply& m) const {
        if (m.code > 999) {
            return Errc::bad_code;
        }
        if (const Errc e = check_text(m.reason); e != Errc{}) {
            return e;
        }
        if (!m.reason.empty() && (m.reason.front() == ' ' || m.reason.front() == '\t')) {
            return Errc::malformed_header;
        }
        if (!m.reason.empty() && (m.reason.back() == ' ' || m.reason.back() == '\t')) {
            return Errc::trailing_whitespace;
        }
        if (std::string_view("Reason: ").size() + m.reason.size() > limits.line_length) {
            return Errc::line_too_long;
        }
        const char code[3] = {char('0' + m.code / 100), char('0' + m.code / 10 % 10),
                              char('0' + m.code % 10)};
        put(out, "ERROR\r\nCode: ", std::string_view(code, 3), "\r\nReason: ", m.reason,
            "\r\n\r\n");
        return {};
    }
};

} // namespace

std::error_code encode(const Message& message, std::string& out, const Limits& limits) {
    const std::size_t before = out.size();
    Errc e = std::visit(Encoder{out, limits}, message);
    if (e == Errc{} && out.size() - before > limits.message_size) {
        out.resize(before); // a receiver with the same limits would refuse it (spec §7)
        e = Errc::message_too_large;
    }
    return e == Errc{} ? std::error_code{} : make_error_code(e);
}

// §5.6, §9.2: a turn for a peer that frames its turns otherwise. The text is checked as for a
// CRLF line; only the bytes around it differ.
std::error_code encode_turn(const Message& turn, Framing framing, std::string& out,
                            const Limits& limits) {
    const auto* text = std::get_if<Text>(&turn);
    if (framing == Framing::crlf || (text == nullptr && framing == Framing::message)) {
        return encode(turn, out, limits);
    }
    if (text == nullptr) {
        out.append("QUIT"); // bare: the QUIT its peers recognise, then the close says the rest
        return {};
    }
    const std::size_t before = out.size();
    if (const auto error = encode(*text, out, limits)) {
        return error;
    }
    if (framing == Framing::bare) {
        out.resize(out.size() - 2); // the stuffed text without its CRLF
        return {};
    }
    // Message-framed peers do not stuff: the text goes as typed, after "MESSAGE:".
    out.resize(before);
    if (std::string_view("MESSAGE:").size() + text->text.size() > limits.line_length) {
        return make_error_code(Errc::line_too_long);
    }
    put(out, "CHAT\r\nMESSAGE:", text->text, "\r\n\r\n");
    return {};
}

std::string to_wire(const Message& message) {
    std::string out;
    return encode(message, out) ? std::string{} : out;
}

} // namespace tcpchat
