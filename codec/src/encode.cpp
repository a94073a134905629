// Encoding (spec §4.4, §9.1): values to canonical bytes. A value the grammar would not accept is
// refused with the error a decoder would report, so that what we send always decodes.
#include "tcpchat/encode.hpp"

#include "tcpchat/error.hpp"
#include "tcpchat/grammar.hpp"

#include <charconv>

namespace tcpchat {
namespace {

namespace pegtl = tao::pegtl;

bool is_text_byte(unsigned char b) {
    return (b >= 0x20 && b != 0x7F) || b == '\t';
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
    pegtl::memory_input<pegtl::tracking_mode::lazy> in(host.data(), host.size(), "");
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

void put_port(std::string& out, std::uint16_t port) {
    char digits[8];
    const auto end = std::to_chars(digits, digits + sizeof digits, port).ptr;
    out.append(digits, std::size_t(end - digits));
}

void put_contact(std::string& out, const Contact& c) {
    out.append("clientID: ").append(c.id).append("\r\nIP: ").append(c.host).append("\r\nPort: ");
    put_port(out, c.port);
    out.append("\r\n");
}

// Each message's check, then its bytes.
struct Encoder {
    std::string& out;
    const Limits& limits;

    Errc operator()(const Register& m) const {
        if (const Errc e = check_contact(m.self, limits); e != Errc{}) {
            return e;
        }
        out.append("REGISTER\r\n");
        put_contact(out, m.self);
        out.append("\r\n");
        return {};
    }
    Errc operator()(const RegAck& m) const {
        if (const Errc e = check_contact(m.self, limits); e != Errc{}) {
            return e;
        }
        out.append("REGACK\r\n");
        put_contact(out, m.self);
        out.append(m.status ? "Status: registered\r\n\r\n" : "\r\n");
        return {};
    }
    Errc operator()(const Bridge& m) const {
        if (const Errc e = check_id(m.id, limits); e != Errc{}) {
            return e;
        }
        out.append("BRIDGE\r\nclientID: ").append(m.id).append("\r\n\r\n");
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
        out.append("BRIDGEACK\r\n");
        put_contact(out, *m.peer);
        out.append("\r\n");
        return {};
    }
    Errc operator()(const Chat& m) const {
        if (const Errc e = check_contact(m.self, limits); e != Errc{}) {
            return e;
        }
        out.append("CHAT\r\n");
        put_contact(out, m.self);
        out.append("\r\n");
        return {};
    }
    Errc operator()(const Text& m) const {
        for (const char c : m.text) {
            if (!is_text_byte(static_cast<unsigned char>(c))) {
                return c == '\n' ? Errc::bare_lf : Errc::invalid_byte;
            }
        }
        // QUIT-stuffing (spec §5.6): `\`*`QUIT` gets one more backslash.
        const std::size_t slashes = m.text.find_first_not_of('\\');
        const bool stuff = slashes != std::string_view::npos && m.text.substr(slashes) == "QUIT";
        if (m.text.size() + (stuff ? 1 : 0) > limits.line_length) {
            return Errc::line_too_long;
        }
        if (stuff) {
            out.push_back('\\');
        }
        out.append(m.text).append("\r\n");
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
        for (const char c : m.reason) {
            const auto b = static_cast<unsigned char>(c);
            if (!is_text_byte(b)) {
                return c == '\n' ? Errc::bare_lf : Errc::invalid_byte;
            }
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
        out.append("ERROR\r\nCode: ").append(code, 3).append("\r\nReason: ").append(m.reason);
        out.append("\r\n\r\n");
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

std::string to_wire(const Message& message) {
    std::string out;
    return encode(message, out) ? std::string{} : out;
}

} // namespace tcpchat
