#include "value.hpp"

#include "tcpchat/conformance.hpp"

#include <array>

namespace tcpchat::conformance {

namespace {

void contact(Described& d, const Contact& c) {
    d.fields["clientID"] = std::string(c.id);
    d.fields["IP"] = std::string(c.host);
    d.fields["Port"] = std::to_string(c.port);
}

bool needs_quotes(const std::string& s) {
    if (s.empty()) {
        return true;
    }
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == '"' || u == '\\' || u >= 0x7F) {
            return true;
        }
    }
    return false;
}

} // namespace

std::optional<Described> describe(const transcript::Value& v, const transcript::Bindings& b,
                                  std::string* missing) {
    Described d;
    d.method = v.method;
    for (const auto& [name, value] : v.fields) {
        auto s = transcript::resolve(value, b, missing);
        if (!s) {
            return std::nullopt;
        }
        d.fields[name] = std::move(*s);
    }
    if (v.text) {
        auto s = transcript::resolve(*v.text, b, missing);
        if (!s) {
            return std::nullopt;
        }
        d.text = std::move(*s);
    }
    return d;
}

Described describe(const Message& m) {
    Described d;
    std::visit(
        [&d](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Register>) {
                d.method = "REGISTER";
                contact(d, x.self);
            } else if constexpr (std::is_same_v<T, RegAck>) {
                d.method = "REGACK";
                contact(d, x.self);
                if (x.status) {
                    d.fields["Status"] = "registered";
                }
            } else if constexpr (std::is_same_v<T, Bridge>) {
                d.method = "BRIDGE";
                d.fields["clientID"] = std::string(x.id);
            } else if constexpr (std::is_same_v<T, BridgeAck>) {
                d.method = "BRIDGEACK";
                if (x.peer) {
                    contact(d, *x.peer);
                }
            } else if constexpr (std::is_same_v<T, Chat>) {
                d.method = "CHAT";
                contact(d, x.self);
            } else if constexpr (std::is_same_v<T, Text>) {
                d.method = "TEXT";
                d.text = std::string(x.text);
            } else if constexpr (std::is_same_v<T, Quit>) {
                d.method = "QUIT";
            } else if constexpr (std::is_same_v<T, ErrorReply>) {
                d.method = "ERROR";
                d.fields["Code"] = std::to_string(x.code);
                d.fields["Reason"] = std::string(x.reason);
            }
        },
        m);
    return d;
}

bool same(const Described& expected, const Described& actual, bool lenient) {
    if (!lenient) {
        return expected == actual;
    }
    Described e = expected;
    Described a = actual;
    for (Described* d : {&e, &a}) {
        if (d->method == "ERROR") {
            d->fields.erase("Reason");
        }
        if (d->method == "REGACK") {
            d->fields.erase("Status");
        }
    }
    return e == a;
}

std::string render(const Described& d) {
    static constexpr std::array<std::string_view, 6> order{"clientID", "IP",   "Port",
                                                           "Status",   "Code", "Reason"};
    std::string out = d.method;
    for (const auto name : order) {
        const auto it = d.fields.find(std::string(name));
        if (it == d.fields.end()) {
            continue;
        }
        out += ' ';
        out += name;
        out += '=';
        out += needs_quotes(it->second) ? transcript::quote(it->second) : it->second;
    }
    if (d.text) {
        out += ' ';
        out += transcript::quote(*d.text);
    }
    return out;
}

} // namespace tcpchat::conformance
