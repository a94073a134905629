// What the fuzz targets assert beyond "no crash": a failed check prints what went wrong and
// aborts, which libFuzzer reports as a finding and saves the input for.
#pragma once

#include "fuzz_input.hpp"
#include "tcpchat/codec.hpp"

#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

namespace tcpchat::fuzz {

inline std::string_view context_name(Context c) {
    switch (c) {
    case Context::request:
        return "request";
    case Context::response:
        return "response";
    case Context::chat_open:
        return "chat_open";
    case Context::chat:
        return "chat";
    }
    return "?";
}

inline std::string describe(const DecodeOptions& o) {
    std::ostringstream os;
    os << "leniency=0x" << std::hex << std::uint32_t(o.leniency) << std::dec
       << " MAX-LINE=" << o.limits.line_length << " MAX-HEADERS=" << o.limits.header_count
       << " MAX-MESSAGE=" << o.limits.message_size << " MAX-ID=" << o.limits.id_length;
    return os.str();
}

inline std::string describe(const Decoded& d) {
    std::ostringstream os;
    if (d.ok()) {
        os << d.value();
    } else {
        os << d.error();
    }
    return os.str();
}

// Prints the failed property with its context and aborts.
[[noreturn]] inline void fail(std::string_view what, Context c, const DecodeOptions& o,
                              std::string_view detail = {}) {
    std::cerr << "\nFUZZ CHECK FAILED: " << what << "\n  context " << context_name(c) << ", "
              << describe(o) << '\n';
    if (!detail.empty()) {
        std::cerr << "  " << detail << '\n';
    }
    std::cerr.flush();
    std::abort();
}

inline void require(bool ok, std::string_view what, Context c, const DecodeOptions& o,
                    std::string_view detail = {}) {
    if (!ok) {
        fail(what, c, o, detail);
    }
}

// An error from decoding `size` bytes: a known code, an offset inside the input (spec §8).
inline void check_error(const DecodeError& e, std::size_t size, Context c, const DecodeOptions& o) {
    std::ostringstream os;
    os << e << " (input of " << size << " bytes)";
    require(e.code >= Errc::truncated && e.code <= Errc::id_too_long, "error code out of range", c,
            o, os.str());
    require(!errc_name(e.code).empty(), "error code without a name", c, o, os.str());
    require(e.offset <= size, "error offset past the end of the input", c, o, os.str());
}

// The value rules of spec §4.3 and §5 that a decoded message must satisfy, whatever the input.
class ValueCheck {
  public:
    ValueCheck(Context c, const DecodeOptions& o, std::string_view input)
        : context_(c), options_(o), input_(input) {}

    void operator()(const Message& m) const {
        std::visit([this](const auto& v) { check(v); }, m);
    }

  private:
    void fail_value(std::string_view what, std::string_view value) const {
        std::string detail = "value \"";
        for (const char ch : value) {
            const auto b = static_cast<unsigned char>(ch);
            if (b >= 0x20 && b < 0x7F) {
                detail += ch;
            } else {
                char hex[8];
                std::snprintf(hex, sizeof hex, "\\x%02x", b);
                detail += hex;
            }
        }
        detail += '"';
        fail(what, context_, options_, detail);
    }

    // One-shot decoding hands out views into the bytes decoded (message.hpp).
    void in_input(std::string_view v) const {
        if (!input_.empty() && !v.empty() &&
            (v.data() < input_.data() || v.data() + v.size() > input_.data() + input_.size())) {
            fail_value("a decoded value does not point into the input", v);
        }
    }

    void check_id(std::string_view id) const {
        in_input(id);
        if (id.empty() || id.size() > options_.limits.id_length) {
            fail_value("clientID empty or over MAX-ID", id);
        }
        for (const char ch : id) {
            if (ch < 0x21 || ch > 0x7E) {
                fail_value("clientID byte outside VCHAR", id);
            }
        }
    }

    // The IP field holds an IPv4 or IPv6 address (spec §4.3); the C library is the oracle.
    void check_host(std::string_view host) const {
        in_input(host);
        const std::string text(host);
        unsigned char addr[16];
        const int family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
        if (host.empty() || host.find('\0') != std::string_view::npos ||
            inet_pton(family, text.c_str(), addr) != 1) {
            fail_value("decoded IP is not an address inet_pton accepts", host);
        }
    }

    void check_contact(const Contact& c) const {
        check_id(c.id);
        check_host(c.host);
        if (c.port == 0) {
            fail(std::string("decoded Port 0 for ") + to_string(Message{Register{c}}), context_,
                 options_);
        }
    }

    void check_text(std::string_view text, bool reason) const {
        in_input(text);
        for (const char ch : text) {
            const auto b = static_cast<unsigned char>(ch);
            if ((b < 0x20 && b != '\t') || b == 0x7F) {
                fail_value("control byte in decoded text", text);
            }
        }
        if (text.size() > options_.limits.line_length) {
            fail_value("decoded text longer than MAX-LINE", text);
        }
        if (reason && !text.empty() &&
            (text.front() == ' ' || text.front() == '\t' || text.back() == ' ' ||
             text.back() == '\t')) {
            fail_value("decoded Reason keeps surrounding whitespace", text);
        }
    }

    void check(const Register& m) const { check_contact(m.self); }
    void check(const RegAck& m) const { check_contact(m.self); }
    void check(const Bridge& m) const { check_id(m.id); }
    void check(const BridgeAck& m) const {
        if (m.peer) {
            check_contact(*m.peer);
        }
    }
    void check(const Chat& m) const { check_contact(m.self); }
    void check(const Text& m) const { check_text(m.text, false); }
    void check(const Quit& /*m*/) const {}
    void check(const ErrorReply& m) const {
        if (m.code > 999) {
            fail("decoded Code over 999", context_, options_);
        }
        check_text(m.reason, true);
    }

    Context context_;
    DecodeOptions options_;
    std::string_view input_;
};

// Which context receives a message (spec §6), for decoding what was encoded.
inline Context receiving_context(const Message& m) {
    switch (m.index()) {
    case 0: // Register
    case 2: // Bridge
        return Context::request;
    case 1: // RegAck
    case 3: // BridgeAck
    case 7: // ErrorReply
        return Context::response;
    case 4: // Chat
        return Context::chat_open;
    default: // Text, Quit
        return Context::chat;
    }
}

} // namespace tcpchat::fuzz
