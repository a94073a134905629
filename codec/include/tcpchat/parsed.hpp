// What the routine every decoder is built on (codec/src/parse.hpp) decodes, written where the
// caller keeps it: the Step it returns is this one's head; with Status::message the message and
// how its turn came, with Status::error the error. The stream decoder keeps one, so no message
// travels by value through its calls. Part of StreamDecoder's state; nothing outside the codec
// reads it.
#pragma once

#include "tcpchat/decode.hpp"

namespace tcpchat::detail {

struct Parsed : Step {
    Message message{};
    DecodeError error{};
    Framing framing = Framing::crlf; // with a message in a chat context: how the turn came
};

} // namespace tcpchat::detail
