// Decoding (spec §4-§7): bytes -> Message values, in the context of who is reading.
//
// One-shot: decode() for one complete message, decode_stream() for a whole stream held in memory.
// Incremental: StreamDecoder (stream_decoder.hpp), fed arbitrary chunks. All give the same
// messages and the same error at the same offset however the bytes are split (spec §4.1).
// Nothing here throws, does I/O or keeps global state.
#pragma once

#include "tcpchat/error.hpp"
#include "tcpchat/framing.hpp"
#include "tcpchat/limits.hpp"
#include "tcpchat/message.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

namespace tcpchat {

// Who is reading, hence which messages may arrive (spec §6).
enum class Context : std::uint8_t {
    request,   // the server reads REGISTER or BRIDGE
    response,  // a client reads REGACK, BRIDGEACK or ERROR from the server
    chat_open, // the waiting client reads CHAT first; then the context becomes `chat`
    chat,      // either peer reads text lines and QUIT
};

// Individually switchable leniencies for the installed base's variants (spec §9.2).
// The lenient profile (all of them) is the default for receiving; `none` is the strict profile.
enum class Leniency : std::uint32_t {
    none = 0,
    optional_space = 1U << 0,     // "clientID:user1" (no space after the colon)
    extra_whitespace = 1U << 1,   // several spaces/tabs after the colon, whitespace before CRLF
    any_order = 1U << 2,          // known headers in any order
    unknown_headers = 1U << 3,    // headers a message does not define are skipped
    port_leading_zeros = 1U << 4, // "Port: 03000"
    unstuffed_quit = 1U << 5,     // a text line "QUIT" not followed by an empty line is text
    unterminated_turn = 1U << 6,  // chat: a turn's bytes without CRLF, then a pause: one line
    quit_forms = 1U << 7,         // chat: "QUIT" alone as a turn, "QUIT\r\nGoodbye!\r\n\r\n"
    message_turns = 1U << 8,      // chat: "CHAT\r\nMESSAGE:text\r\n\r\n" as a turn
    no_handshake = 1U << 9,       // chat_open: one unterminated line, then a pause, for CHAT
    all = (1U << 10) - 1,
};

[[nodiscard]] constexpr Leniency operator|(Leniency a, Leniency b) noexcept {
    return Leniency(std::uint32_t(a) | std::uint32_t(b));
}
[[nodiscard]] constexpr Leniency operator&(Leniency a, Leniency b) noexcept {
    return Leniency(std::uint32_t(a) & std::uint32_t(b));
}
[[nodiscard]] constexpr Leniency operator~(Leniency a) noexcept {
    return Leniency(~std::uint32_t(a) & std::uint32_t(Leniency::all));
}
[[nodiscard]] constexpr bool allows(Leniency set, Leniency one) noexcept {
    return (std::uint32_t(set) & std::uint32_t(one)) != 0;
}

struct DecodeOptions {
    Leniency leniency = Leniency::all;
    Limits limits{};
};

inline constexpr DecodeOptions lenient_profile{Leniency::all, {}};
inline constexpr DecodeOptions strict_profile{Leniency::none, {}};

// The outcome of one decoding step.
enum class Status : std::uint8_t {
    message,   // a message is complete; `consumed` bytes made it
    need_more, // every byte given was consumed; the message is not complete yet
    error,     // the stream cannot go on
    end,       // finish(): the stream ended cleanly between messages
};

// What a call on the StreamDecoder did. The message it yielded, or the error that stopped the
// stream, is read from the decoder (StreamDecoder::message(), error()), so a step fits in two
// registers.
struct Step {
    Status status = Status::need_more;
    std::size_t consumed = 0; // bytes taken from the input given to this call
};
static_assert(sizeof(Step) <= 16, "a Step is returned in registers");

// The result of a one-shot decode: a message or an error.
class Decoded {
  public:
    Decoded(Message m) : v_(m) {}
    Decoded(DecodeError e) : v_(e) {}

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] const Message& value() const { return std::get<0>(v_); }
    [[nodiscard]] const DecodeError& error() const { return std::get<1>(v_); }

  private:
    std::variant<Message, DecodeError> v_;
};

// Decodes exactly one message that spans all of `bytes`; bytes after it are Errc::trailing_data.
// A `chat_open` context decodes the CHAT message only.
[[nodiscard]] Decoded decode(Context context, std::string_view bytes,
                             const DecodeOptions& options = {});

// Decodes a whole stream held in memory, its end being the end of the stream: every message in
// order, then the error that stopped decoding, if any (Errc::truncated for a cut-off message).
// It is a StreamDecoder fed `bytes` once and finished; the messages' views point into `bytes`.
struct StreamResult {
    std::vector<Message> messages;
    std::optional<DecodeError> error;
};
[[nodiscard]] StreamResult decode_stream(Context context, std::string_view bytes,
                                         const DecodeOptions& options = {});

} // namespace tcpchat
