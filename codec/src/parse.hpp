// The one routine every decoder is built on: decode the message at the start of a byte range.
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/progress.hpp"

#include <string_view>

namespace tcpchat::detail {

// Decodes the message at the start of `bytes` (spec §4.5) with the grammar of `context`.
//
// `final` says whether `bytes` runs to the end of the stream, or, in the chat contexts, to the end
// of the peer's turn (a pause, §5.6). When it does not, a result that depends on bytes not yet
// seen is Status::need_more; when it does, it is final (a message cut short is Errc::truncated at
// the end) and the rules of a whole turn apply (§9.2). A limit is reported as soon as `bytes` prove
// it exceeded (spec §7), whether or not the message is complete. Offsets are relative to `bytes`.
//
// Not final, a line is judged once it is complete (or proves a limit exceeded): valid input cut
// anywhere costs no exception. With `progress`, a framed message's lines are checked from where
// the last call on the same message stopped, and need_more records where that is.
[[nodiscard]] Step parse_general(Context context, std::string_view bytes,
                                 const DecodeOptions& options, bool final,
                                 Progress* progress = nullptr);

// The canonical path (spec §4.4): true when `bytes` start with a complete canonical message that
// meets §4.4's constraints and `limits`; `step` is then that message, exactly as parse_general()
// decodes it in either profile. False says nothing about the bytes.
[[nodiscard]] bool parse_canonical(Context context, std::string_view bytes, const Limits& limits,
                                   Step& step);

// What every decoder calls: the canonical path, else the general one. A message whose lines were
// partly checked already goes on where it stopped.
[[nodiscard]] inline Step parse_one(Context context, std::string_view bytes,
                                    const DecodeOptions& options, bool final,
                                    Progress* progress = nullptr) {
    Step step;
    const bool resumed = progress != nullptr && progress->checked != 0;
    if (resumed || !parse_canonical(context, bytes, options.limits, step)) {
        step = parse_general(context, bytes, options, final, progress);
    }
    return step;
}

// After QUIT, the line ends some installed-base peers add (`QUIT\r\n\r\n\r\n`) are dropped under
// the quit_forms leniency (§5.7): how many of the bytes at the start of `bytes` those are.
[[nodiscard]] inline std::size_t line_ends_after_quit(std::string_view bytes,
                                                      const DecodeOptions& options) noexcept {
    if (!allows(options.leniency, Leniency::quit_forms)) {
        return 0;
    }
    const std::size_t n = bytes.find_first_not_of("\r\n");
    return n == std::string_view::npos ? bytes.size() : n;
}

// The context for the message after `m` (spec §6): chat_open becomes chat once CHAT arrived.
[[nodiscard]] inline Context next_context(Context context, const Message& m) noexcept {
    // A message-framed or unterminated first turn opens the chat without CHAT (§9.2).
    const bool opens = std::holds_alternative<Chat>(m) || std::holds_alternative<Text>(m);
    return context == Context::chat_open && opens ? Context::chat : context;
}

} // namespace tcpchat::detail
