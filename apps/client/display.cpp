#include "display.hpp"

#include <cstdint>
#include <cstdio>

namespace tcpchat::client {

namespace {

void escape_byte(std::string& out, unsigned char byte) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "\\x%02X", byte);
    out += buffer;
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlongs, no
// surrogates, nothing past U+10FFFF) and its code point; 0 when there is none.
std::size_t utf8_sequence(std::string_view s, char32_t& code_point) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char first = byte(0);
    std::size_t length = 0;
    char32_t min = 0;
    if (first >= 0xC2 && first <= 0xDF) {
        length = 2, min = 0x80, code_point = first & 0x1F;
    } else if (first >= 0xE0 && first <= 0xEF) {
        length = 3, min = 0x800, code_point = first & 0x0F;
    } else if (first >= 0xF0 && first <= 0xF4) {
        length = 4, min = 0x10000, code_point = first & 0x07;
    } else {
        return 0;
    }
    if (s.size() < length) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return 0;
        }
        code_point = (code_point << 6) | (byte(i) & 0x3F);
    }
    if (code_point < min || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
        return 0;
    }
    return length;
}

// Code points a terminal does not show but that change how the rest of the line is shown: the
// bidirectional embeddings, overrides and isolates, the zero-width and directional marks, the
// Arabic letter mark and the byte order mark (the "Trojan Source" characters, CVE-2021-42574).
bool is_invisible_format(char32_t c) {
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
           (c >= 0x200B && c <= 0x200F) || c == 0x061C || c == 0xFEFF;
}

} // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const auto byte = static_cast<unsigned char>(text.front());
        if (byte < 0x80) {
            if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
                escape_byte(out, byte);
            } else {
                out += static_cast<char>(byte);
            }
            text.remove_prefix(1);
            continue;
        }
        char32_t code_point = 0;
        const std::size_t length = utf8_sequence(text, code_point);
        if (length == 0) {
            escape_byte(out, byte);
            text.remove_prefix(1);
            continue;
        }
        if (code_point <= 0x9F || is_invisible_format(code_point)) {
            char buffer[12];
            std::snprintf(buffer, sizeof buffer, "\\u%04X", static_cast<unsigned>(code_point));
            out += buffer;
        } else {
            out.append(text.substr(0, length));
        }
        text.remove_prefix(length);
    }
    return out;
}

} // namespace tcpchat::client
