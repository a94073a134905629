// Shared by the codec's tests: escapes as the spec writes bytes, and decoding a stream split
// into given chunks.
#pragma once

#include "tcpchat/codec.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tcpchat::test {

// C-style escapes as in the spec's ```wire blocks: \r \n \t \\ \xHH.
inline std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out.push_back(s[i]);
            continue;
        }
        const char c = s[++i];
        switch (c) {
        case 'r': out.push_back('\r'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case '0': out.push_back('\0'); break;
        case 'x':
            out.push_back(char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
            break;
        default: out.push_back(c);
        }
    }
    return out;
}

// What a decoder made of a stream: each message printed, then the error if any.
struct Outcome {
    std::vector<std::string> messages;
    std::optional<DecodeError> error;
    friend bool operator==(const Outcome&, const Outcome&) = default;
};

inline Outcome one_shot(Context c, std::string_view bytes, const DecodeOptions& o = {}) {
    StreamResult r = decode_stream(c, bytes, o);
    Outcome out;
    for (const Message& m : r.messages) {
        out.messages.push_back(to_string(m));
    }
    out.error = r.error;
    return out;
}

// Feeds `bytes` to a StreamDecoder in chunks ending at each of `cuts` (ascending offsets).
inline Outcome chunked(Context c, std::string_view bytes, const std::vector<std::size_t>& cuts,
                       const DecodeOptions& o = {}) {
    StreamDecoder decoder(c, o);
    Outcome out;
    std::size_t from = 0;
    auto drain = [&](std::string_view chunk, bool last) {
        for (;;) {
            const Step step = last ? decoder.finish() : decoder.feed(chunk);
            chunk.remove_prefix(step.consumed);
            if (step.status == Status::message) {
                out.messages.push_back(to_string(step.message)); // views die at the next call
                continue;
            }
            if (step.status == Status::error) {
                out.error = step.error;
                return false;
            }
            return true;
        }
    };
    for (std::size_t cut : cuts) {
        if (!drain(bytes.substr(from, cut - from), false)) {
            return out;
        }
        from = cut;
    }
    if (drain(bytes.substr(from), false)) {
        drain({}, true);
    }
    return out;
}

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    for (const std::string& m : o.messages) {
        os << m << "; ";
    }
    if (o.error) {
        os << "error " << *o.error;
    }
    return os;
}

} // namespace tcpchat::test
