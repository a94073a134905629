#include "opening.hpp"

#include <sstream>

namespace tcpchat::detail {

namespace {

// What `step` of `decoder` said of the opening.
Opening judge(const StreamDecoder& decoder, Step step) {
    Opening opening;
    if (step.status == Status::error) {
        std::ostringstream os;
        os << "expected CHAT: " << decoder.error();
        opening.kind = Opening::Kind::reject;
        opening.why = os.str();
    } else if (step.status == Status::message) {
        if (const auto* chat = std::get_if<Chat>(&decoder.message())) {
            opening.kind = Opening::Kind::chat;
            opening.peer = ContactRecord(chat->self);
        } else if (const auto* text = std::get_if<Text>(&decoder.message())) {
            opening.kind = decoder.framing() == Framing::message ? Opening::Kind::message_framed
                                                                 : Opening::Kind::unframed_text;
            opening.text = std::string(text->text);
            opening.framing = decoder.framing();
        }
    }
    return opening;
}

} // namespace

Opening classify_opening(StreamDecoder& decoder, std::string_view& data) {
    while (!data.empty()) {
        const Step step = decoder.feed(data);
        data.remove_prefix(step.consumed);
        if (step.status != Status::need_more) {
            return judge(decoder, step);
        }
    }
    return {};
}

Opening classify_opening_at_pause(StreamDecoder& decoder) {
    const Step step = decoder.pause();
    return judge(decoder, step);
}

} // namespace tcpchat::detail
