// Shared by the codec's tests: escapes as the spec writes bytes, and decoding a stream split
// into given chunks.
#pragma once

#include "reference_stream.hpp"
#include "tcpchat/codec.hpp"

#include <algorithm>
#include <gtest/gtest.h>
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

// What the reference (reference_stream.hpp) makes of the whole stream.
inline Outcome one_shot(Context c, std::string_view bytes, const DecodeOptions& o = {}) {
    StreamResult r = reference_stream(c, bytes, o);
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
                out.messages.push_back(to_string(decoder.message())); // views die at the next call
                continue;
            }
            if (step.status == Status::error) {
                out.error = decoder.error();
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

// What a StreamDecoder has yielded once `bytes` were fed in chunks ending at each of `cuts`, and
// drained, without finish(): one Outcome per chunk, the last one for the rest of `bytes`.
inline std::vector<Outcome> fed(Context c, std::string_view bytes,
                                const std::vector<std::size_t>& cuts, const DecodeOptions& o = {}) {
    StreamDecoder decoder(c, o);
    std::vector<Outcome> after;
    Outcome out;
    std::size_t from = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t to = i < cuts.size() ? cuts[i] : bytes.size();
        std::string_view chunk = bytes.substr(from, to - from);
        from = to;
        while (!out.error) {
            const Step step = decoder.feed(chunk);
            chunk.remove_prefix(step.consumed);
            if (step.status == Status::message) {
                out.messages.push_back(to_string(decoder.message()));
            } else if (step.status == Status::error) {
                out.error = decoder.error();
            } else {
                break;
            }
        }
        after.push_back(out);
    }
    return after;
}

// Every message comes out as soon as the lines fed so far decide it, before the next chunk is
// read: a chat turn must be shown before the peer's reply arrives (spec §4.1, §5.6). After each
// chunk, the decoder has yielded at least the messages that the complete lines fed so far make
// when fed in one piece (it judges a line once the line is complete), and no message that the
// whole prefix fed in one piece does not make.
inline ::testing::AssertionResult prompt(Context c, std::string_view bytes,
                                         const std::vector<std::size_t>& cuts,
                                         const DecodeOptions& o = {}) {
    const auto starts = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        return a.size() >= b.size() && std::equal(b.begin(), b.end(), a.begin());
    };
    const std::vector<Outcome> after = fed(c, bytes, cuts, o);
    for (std::size_t i = 0; i < after.size(); ++i) {
        const std::size_t to = i < cuts.size() ? cuts[i] : bytes.size();
        const std::size_t lines = bytes.substr(0, to).rfind('\n') + 1; // 0 when there is none
        const Outcome least = fed(c, bytes.substr(0, lines), {}, o).back();
        const Outcome most = fed(c, bytes.substr(0, to), {}, o).back();
        if (!starts(after[i].messages, least.messages) ||
            !starts(most.messages, after[i].messages)) {
            return ::testing::AssertionFailure()
                   << "after the chunk ending at " << to << ": " << after[i]
                   << "against, fed in one piece: its complete lines " << least << "all of it "
                   << most;
        }
    }
    return ::testing::AssertionSuccess();
}

} // namespace tcpchat::test
