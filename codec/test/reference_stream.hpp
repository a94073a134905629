// The reference the stream decoder is checked against, for the codec's tests and fuzz_stream:
// a whole stream decoded one message after another, each by parse_one() on the rest of the
// stream as if it ended there (spec §4.1: how the stream is split must not matter), with the
// rule that nothing follows QUIT (§5.7). It shares parse_one() with StreamDecoder but none of its
// buffering, resuming or end-of-stream rules, so a fault in those shows as a difference.
// decode_stream() is a StreamDecoder, hence no reference.
#pragma once

#include "parse.hpp"
#include "tcpchat/decode.hpp"

#include <string_view>

namespace tcpchat::test {

// parse_one()'s whole result, the Step it returns at its head.
[[nodiscard]] inline detail::Parsed parsed(Context context, std::string_view bytes,
                                           const DecodeOptions& options, bool final,
                                           detail::Matching matching = detail::Matching::fast) {
    detail::Parsed out;
    static_cast<Step&>(out) =
        detail::parse_one(context, bytes, options, final, out, nullptr, matching);
    return out;
}

[[nodiscard]] inline StreamResult reference_stream(Context context, std::string_view bytes,
                                                   const DecodeOptions& options = {}) {
    StreamResult result;
    std::size_t offset = 0;
    bool quit = false;
    while (offset < bytes.size()) {
        if (quit) {
            offset += detail::line_ends_after_quit(bytes.substr(offset), options);
            if (offset == bytes.size()) {
                break;
            }
            result.error = DecodeError{Errc::data_after_quit, offset, "nothing after QUIT"};
            break;
        }
        detail::Parsed step = parsed(context, bytes.substr(offset), options, true);
        if (step.status == Status::error) {
            step.error.offset += offset;
            result.error = step.error;
            break;
        }
        offset += step.consumed;
        context = detail::next_context(context, step.message);
        quit = std::holds_alternative<Quit>(step.message);
        result.messages.push_back(step.message);
    }
    return result;
}

} // namespace tcpchat::test
