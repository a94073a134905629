#include "tcpchat/message.hpp"

#include <cstdio>
#include <ostream>
#include <sstream>

namespace tcpchat {
namespace {

// A quoted string with C-style escapes, so that any byte prints as readable ASCII.
void quote(std::ostream& os, std::string_view s) {
    os << '"';
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        switch (c) {
        case '"': os << "\\\""; break;
        case '\\': os << "\\\\"; break;
        case '\r': os << "\\r"; break;
        case '\n': os << "\\n"; break;
        case '\t': os << "\\t"; break;
        default:
            if (b < 0x20 || b >= 0x7F) {
                char hex[5];
                std::snprintf(hex, sizeof hex, "\\x%02X", unsigned(b));
                os << hex;
            } else {
                os << c;
            }
        }
    }
    os << '"';
}

} // namespace

std::string_view method_name(const Message& m) noexcept {
    static constexpr std::string_view names[] = {"REGISTER", "REGACK", "BRIDGE", "BRIDGEACK",
                                                 "CHAT",     "",       "QUIT",   "ERROR"};
    return names[m.index()];
}

std::ostream& operator<<(std::ostream& os, const Contact& c) {
    return os << "clientID=" << c.id << " IP=" << c.host << " Port=" << c.port;
}

std::ostream& operator<<(std::ostream& os, const Register& m) {
    return os << "REGISTER{" << m.self << '}';
}

std::ostream& operator<<(std::ostream& os, const RegAck& m) {
    os << "REGACK{" << m.self;
    if (m.status) {
        os << " Status=registered";
    }
    return os << '}';
}

std::ostream& operator<<(std::ostream& os, const Bridge& m) {
    return os << "BRIDGE{clientID=" << m.id << '}';
}

std::ostream& operator<<(std::ostream& os, const BridgeAck& m) {
    os << "BRIDGEACK{";
    if (m.peer) {
        os << *m.peer;
    }
    return os << '}';
}

std::ostream& operator<<(std::ostream& os, const Chat& m) {
    return os << "CHAT{" << m.self << '}';
}

std::ostream& operator<<(std::ostream& os, const Text& m) {
    os << "Text{";
    quote(os, m.text);
    return os << '}';
}

std::ostream& operator<<(std::ostream& os, const Quit& /*m*/) {
    return os << "QUIT{}";
}

std::ostream& operator<<(std::ostream& os, const ErrorReply& m) {
    os << "ERROR{Code=" << m.code << " Reason=";
    quote(os, m.reason);
    return os << '}';
}

std::ostream& operator<<(std::ostream& os, const Message& m) {
    std::visit([&os](const auto& v) { os << v; }, m);
    return os;
}

std::string to_string(const Message& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

} // namespace tcpchat
