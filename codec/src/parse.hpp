// The one routine every decoder is built on: decode the message at the start of a byte range.
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/parsed.hpp"
#include "tcpchat/progress.hpp"

#include <cstdint>
#include <string_view>

namespace tcpchat::detail {

// How the bytes of a line are matched. `fast`: a line in its canonical form (spec §4.4) by
// comparing bytes, any other with the grammar; `grammar`: every line with the grammar, for tests
// that check the two ways of matching against each other. Both run the same value rules and
// give the same result.
enum class Matching : std::uint8_t { fast, grammar };

// Decodes the message at the start of `bytes` (spec §4.5) with the grammar of `context`: what
// every decoder calls.
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
//
// The message, its framing or the error are written to `out`, whose head is what is returned;
// the rest of `out` is left as it was, or is scratch.
[[nodiscard]] Step parse_one(Context context, std::string_view bytes, const DecodeOptions& options,
                             bool final, Parsed& out, Progress* progress = nullptr,
                             Matching matching = Matching::fast);

// IPv4address (RFC 3986 §3.2.2) at `p` by a few comparisons per octet, as the ordered choice of
// dec-octet matches it: three digits when they make 100-255, else two when the first is not 0,
// else one. Returns one past the match, or nullptr. `Bounded`: each byte is compared with `end`
// before it is read; not needed when the 15 bytes of the longest address are there.
template <bool Bounded>
[[nodiscard, gnu::always_inline]] inline const char* ipv4_match(const char* p,
                                                                const char* end) noexcept {
    const auto digit = [&](const char* q) {
        return (!Bounded || q != end) && unsigned(*q - '0') < 10U;
    };
    // One past the dec-octet at `q`, or nullptr.
    const auto octet = [&](const char* q) -> const char* {
        if (!digit(q)) {
            return nullptr;
        }
        if (*q == '0' || !digit(q + 1)) {
            return q + 1;
        }
        const bool three =
            digit(q + 2) && (q[0] - '0') * 100 + (q[1] - '0') * 10 + (q[2] - '0') <= 255;
        return q + (three ? 3 : 2);
    };
    // The dec-octet after the '.' at `q`.
    const auto next = [&](const char* q) -> const char* {
        return q == nullptr || (Bounded && q == end) || *q != '.' ? nullptr : octet(q + 1);
    };
    return next(next(next(octet(p))));
}
[[nodiscard, gnu::always_inline]] inline const char* ipv4_end(const char* p,
                                                              const char* end) noexcept {
    return end - p >= 15 ? ipv4_match<false>(p, end) : ipv4_match<true>(p, end);
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
