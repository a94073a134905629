#include "tcpchat/framing.hpp"

namespace tcpchat {

std::string_view framing_name(Framing framing) noexcept {
    switch (framing) {
    case Framing::crlf: return "crlf";
    case Framing::bare: return "bare";
    case Framing::message: return "message";
    }
    return "crlf";
}

std::optional<Framing> parse_framing(std::string_view name) noexcept {
    for (const Framing f : {Framing::crlf, Framing::bare, Framing::message}) {
        if (name == framing_name(f)) {
            return f;
        }
    }
    return std::nullopt;
}

} // namespace tcpchat
