// What the first bytes of a connection to a waiting client are (spec §10.3, §9.2): the one
// decision WAIT mode takes on an incoming connection's bytes, with the codec's chat_open decoder.
#pragma once

#include "tcpchat/framing.hpp"
#include "tcpchat/message.hpp"
#include "tcpchat/stream_decoder.hpp"

#include <string>
#include <string_view>

namespace tcpchat::detail {

struct Opening {
    enum class Kind : std::uint8_t {
        need_more,      // nothing decided yet: read on (or wait for a pause)
        chat,           // CHAT: `peer` is its contact
        unframed_text,  // no handshake: `text` is the peer's first turn, unterminated (§9.2)
        message_framed, // `CHAT\r\nMESSAGE:` turn in place of CHAT: `text` is the first turn
        reject,         // anything else: `why` says what
    };
    Kind kind = Kind::need_more;
    ContactRecord peer;
    std::string text;
    Framing framing = Framing::crlf;
    std::string why;
};

// Feeds `data` to `decoder` (in Context::chat_open) until the opening is decided; removes what it
// consumed from `data`, so that what is left arrived after the opening.
[[nodiscard]] Opening classify_opening(StreamDecoder& decoder, std::string_view& data);

// No byte arrived for a pause: whether the bytes so far are a whole first turn (§9.2).
[[nodiscard]] Opening classify_opening_at_pause(StreamDecoder& decoder);

} // namespace tcpchat::detail
