// The case model of tcpchat/transcript.hpp: templates and their placeholders, a case's modes and
// actors.
#include "tcpchat/transcript.hpp"

#include <algorithm>

namespace tcpchat::transcript {

std::string Placeholder::key() const {
    return actor.empty() ? field : actor + "." + field;
}

void Template::append(std::string_view bytes) {
    if (bytes.empty()) {
        return;
    }
    if (!parts.empty()) {
        if (auto* s = std::get_if<std::string>(&parts.back())) {
            s->append(bytes);
            return;
        }
    }
    parts.emplace_back(std::string(bytes));
}

void Template::append(const Placeholder& p) {
    parts.emplace_back(p);
}

void Template::append(const Template& t) {
    for (const auto& part : t.parts) {
        std::visit([this](const auto& x) { append(x); }, part);
    }
}

std::optional<std::string> resolve(const Template& t, const Bindings& b, std::string* missing) {
    std::string out;
    for (const auto& part : t.parts) {
        if (const auto* s = std::get_if<std::string>(&part)) {
            out += *s;
            continue;
        }
        const std::string key = std::get<Placeholder>(part).key();
        const auto it = b.find(key);
        if (it == b.end()) {
            if (missing != nullptr) {
                *missing = key;
            }
            return std::nullopt;
        }
        out += it->second;
    }
    return out;
}

std::string quote(std::string_view bytes) {
    // §T.7.1: every control byte and every byte of 0x80 or more as an escape, so that a quoted
    // string is ASCII whatever it holds (a report stays valid UTF-8, a width is a byte count),
    // and `$` before `{` as `\$`, so that it does not read back as a placeholder.
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "\"";
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        switch (c) {
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '$': out += (i + 1 < bytes.size() && bytes[i + 1] == '{') ? "\\$" : "$"; break;
        default:
            if (c < 0x20 || c >= 0x7F) {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0xF];
            } else {
                out += char(c);
            }
        }
    }
    return out + "\"";
}

std::string to_source(const Template& t) {
    std::string out = "\"";
    for (const auto& part : t.parts) {
        if (const auto* p = std::get_if<Placeholder>(&part)) {
            out += "${" + p->key() + "}";
        } else {
            const std::string quoted = quote(std::get<std::string>(part));
            out.append(quoted, 1, quoted.size() - 2);
        }
    }
    return out + "\"";
}

std::string_view mode_name(Mode m) noexcept {
    switch (m) {
    case Mode::codec: return "codec";
    case Mode::server: return "server";
    case Mode::client: return "client";
    }
    return "?";
}

bool Case::applies_to(Mode m) const noexcept {
    return std::find(modes.begin(), modes.end(), m) != modes.end();
}

std::vector<std::string> Case::actors() const {
    std::vector<std::string> out;
    auto note = [&](const std::string& a) {
        if (a != server_actor && std::find(out.begin(), out.end(), a) == out.end()) {
            out.push_back(a);
        }
    };
    auto note_template = [&](const Template& t) {
        for (const auto& part : t.parts) {
            if (const auto* p = std::get_if<Placeholder>(&part); p && !p->actor.empty()) {
                note(p->actor);
            }
        }
    };
    for (const Step& s : steps) {
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, Connect>) {
                    note(x.from);
                    note(x.to);
                } else if constexpr (std::is_same_v<T, Send>) {
                    note(x.from);
                    note(x.to);
                    note_template(x.bytes);
                } else if constexpr (std::is_same_v<T, Close>) {
                    note(x.by);
                    note(x.peer);
                } else if constexpr (std::is_same_v<T, Silence>) {
                    note(x.from);
                    note(x.to);
                } else if constexpr (std::is_same_v<T, Type> || std::is_same_v<T, Show> ||
                                     std::is_same_v<T, Exit>) {
                    note(x.actor);
                }
            },
            s.action);
    }
    return out;
}

} // namespace tcpchat::transcript
