// The incremental decoder (spec §4.1). It decodes in place whatever complete messages a chunk
// holds, and keeps only an unfinished message's bytes, going on with them when a line completes
// or a limit is crossed: the lines of a framed message already checked are not checked again
// (detail::Progress), and the bytes of that chunk after the message go back to the caller. Every
// decision is parse_one()'s, on the same bytes a one-shot decode would see, so the result does not
// depend on how the stream was split.
#include "tcpchat/stream_decoder.hpp"

#include "parse.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <type_traits>

namespace tcpchat {

StreamDecoder::StreamDecoder(Context context, DecodeOptions options)
    : context_(context), options_(options) {}

namespace {

// Where the last line of `bytes` starts: one past its last LF, or 0. The C library's memrchr
// where there is one (a byte loop otherwise, and in std::string::rfind).
std::size_t after_last_lf(std::string_view bytes) noexcept {
#if defined(__GLIBC__)
    const void* lf = bytes.empty() ? nullptr : ::memrchr(bytes.data(), '\n', bytes.size());
    return lf == nullptr ? 0 : std::size_t(static_cast<const char*>(lf) - bytes.data()) + 1;
#else
    const std::size_t lf = bytes.rfind('\n');
    return lf == std::string_view::npos ? 0 : lf + 1;
#endif
}

} // namespace

// parse_one() just needed more bytes than `bytes`, the message so far: where its last, unfinished
// line starts. A framed message's checked lines end there; anything else, after the last LF.
std::size_t StreamDecoder::unfinished_line(std::string_view bytes) const noexcept {
    return progress_.checked != 0 ? progress_.checked : after_last_lf(bytes);
}

// Sets room_ when a call that decides returns, whichever way it does.
struct StreamDecoder::RoomKeeper {
    explicit RoomKeeper(StreamDecoder& d) : decoder(d) {}
    RoomKeeper(const RoomKeeper&) = delete;
    RoomKeeper& operator=(const RoomKeeper&) = delete;
    ~RoomKeeper() { decoder.room_ = decoder.room(); }
    StreamDecoder& decoder;
};

std::size_t StreamDecoder::room() const noexcept {
    if (pending_.empty() || yielded_ != 0 || dirty_ || quit_seen_ || failed_) {
        return 0;
    }
    const Limits& limits = options_.limits;
    const std::size_t line_end =
        limits.line_length > SIZE_MAX - line_start_ ? SIZE_MAX : line_start_ + limits.line_length;
    const std::size_t most = std::min(line_end, limits.message_size);
    return most > pending_.size() ? most - pending_.size() : 0;
}

void StreamDecoder::reset(Context context) {
    const RoomKeeper keeper(*this);
    context_ = context;
    pending_.clear();
    yielded_ = 0;
    line_start_ = 0;
    dirty_ = false;
    offset_ = 0;
    quit_seen_ = false;
    progress_ = {};
    failed_ = false;
}

void StreamDecoder::drop_yielded() {
    if (yielded_ == 0) {
        return;
    }
    pending_.erase(0, yielded_);
    offset_ += yielded_;
    line_start_ -= std::min(line_start_, yielded_);
    yielded_ = 0;
    dirty_ = !pending_.empty();
}

Step StreamDecoder::fail(const DecodeError& error, std::size_t consumed) {
    failed_ = true;
    parsed_.error = error;
    return Step{Status::error, consumed};
}

// parse_one() just found the error in parsed_, at an offset in the bytes it was given: where it
// is in the stream, and the stream cannot go on.
Step StreamDecoder::fail_here(std::size_t consumed) {
    parsed_.error.offset += offset_;
    failed_ = true;
    return Step{Status::error, consumed};
}

// Bytes of a further message after QUIT (spec §5.7): the stream cannot go on.
Step StreamDecoder::data_after_quit(std::size_t consumed) {
    return fail({Errc::data_after_quit, offset_, "nothing after QUIT"}, consumed);
}

// parse_one() just decoded a message into parsed_: `consumed` bytes of this call's input went
// into it, and `buffered` bytes at the front of pending_ (when it was decoded there) made it.
Step StreamDecoder::yield(std::size_t consumed, std::size_t buffered) {
    yielded_ = buffered;
    progress_.checked = 0;
    context_ = detail::next_context(context_, parsed_.message);
    quit_seen_ = std::holds_alternative<Quit>(parsed_.message);
    return Step{Status::message, consumed};
}

void StreamDecoder::drop_line_ends_after_quit(std::string_view& input, std::size_t& skipped) {
    const std::size_t held = detail::line_ends_after_quit(pending_, options_);
    pending_.erase(0, held);
    offset_ += held;
    line_start_ -= std::min(line_start_, held);
    dirty_ = !pending_.empty();
    if (pending_.empty()) {
        skipped = detail::line_ends_after_quit(input, options_);
        input.remove_prefix(skipped);
        offset_ += skipped;
    }
}

// §9.2 no_handshake: first bytes of a connection that are not CHAT may still be a whole
// unterminated turn, which only a pause can tell (need_more); a line end decides, and so does a
// limit, judged on the bytes as a whole turn, as the end of the stream would (§7).
Step StreamDecoder::judge_opening(std::string_view bytes, Step step) {
    if (context_ != Context::chat_open || !allows(options_.leniency, Leniency::no_handshake)) {
        return step;
    }
    detail::Parsed whole; // parsed_ keeps the error of `step`
    const Step verdict = detail::parse_one(context_, bytes, options_, true, whole);
    const bool limit =
        verdict.status == Status::error &&
        (whole.error.code == Errc::line_too_long || whole.error.code == Errc::message_too_large);
    if (limit) {
        parsed_.error = whole.error;
        return verdict;
    }
    return bytes.find('\n') == std::string_view::npos ? Step{} : step;
}

Step StreamDecoder::decide(std::string_view input) {
    const RoomKeeper keeper(*this);
    if (failed_) {
        return Step{Status::error, 0};
    }
    drop_yielded();
    std::size_t skipped = 0;
    if (quit_seen_) {
        drop_line_ends_after_quit(input, skipped);
    }
    Step step = take(input);
    step.consumed += skipped;
    return step;
}

Step StreamDecoder::take(std::string_view input) {
    if (pending_.empty()) {
        if (input.empty()) {
            return Step{};
        }
        if (quit_seen_) {
            return data_after_quit(0);
        }
        progress_.checked = 0;
        Step step = detail::parse_one(context_, input, options_, false, parsed_, &progress_);
        switch (step.status) {
        case Status::message: offset_ += step.consumed; return yield(step.consumed);
        case Status::error:
            step = judge_opening(input, step);
            if (step.status != Status::error) {
                break;
            }
            return fail_here(0);
        default: break;
        }
        pending_.assign(input);
        line_start_ = unfinished_line(input);
        dirty_ = false;
        return Step{Status::need_more, input.size()};
    }

    const Limits& limits = options_.limits;
    const std::size_t bound = std::max(limits.line_length, limits.message_size) + 2;
    std::size_t consumed = 0;
    for (;;) {
        if (!dirty_) {
            if (input.empty()) {
                return Step{Status::need_more, consumed};
            }
            // No more than a limit can need. feed() keeps the bytes that only go on with the
            // current line within the limits; any others complete a line or prove a limit
            // exceeded, so the message so far is parsed with all of them, and what it does not
            // take goes back to the caller.
            const std::size_t room = bound > pending_.size() ? bound - pending_.size() : 1;
            const std::string_view piece = input.substr(0, room);
            pending_.append(piece);
            input.remove_prefix(piece.size());
            consumed += piece.size();
            dirty_ = true;
            continue;
        }
        if (quit_seen_) {
            return data_after_quit(consumed);
        }
        dirty_ = false;
        Step step = detail::parse_one(context_, pending_, options_, false, parsed_, &progress_);
        if (step.status == Status::message) {
            // Bytes of this call after the message are the caller's again (those kept from
            // before this call stay: a turn ended by a pause may leave some).
            const std::size_t lent = std::min(pending_.size() - step.consumed, consumed);
            pending_.resize(pending_.size() - lent);
            return yield(consumed - lent, step.consumed);
        }
        if (step.status == Status::error) {
            step = judge_opening(pending_, step);
        }
        if (step.status == Status::error) {
            return fail_here(consumed);
        }
        line_start_ = unfinished_line(pending_);
    }
}

Step StreamDecoder::pause() {
    const RoomKeeper keeper(*this);
    if (failed_) {
        return Step{Status::error, 0};
    }
    drop_yielded();
    const bool chatting = context_ == Context::chat || context_ == Context::chat_open;
    if (pending_.empty() || quit_seen_ || !chatting) {
        return Step{};
    }
    // The bytes so far are the whole turn (§5.6): decided as at the end of the stream, except
    // that a turn cut short may still be completed by more bytes.
    const Step step = detail::parse_one(context_, pending_, options_, true, parsed_);
    if (step.status == Status::message) {
        return yield(0, step.consumed);
    }
    if (step.status == Status::error && parsed_.error.code != Errc::truncated) {
        return fail_here(0);
    }
    return Step{};
}

Step StreamDecoder::finish() {
    const RoomKeeper keeper(*this);
    if (failed_) {
        return Step{Status::error, 0};
    }
    drop_yielded();
    if (quit_seen_) {
        std::string_view none;
        std::size_t skipped = 0;
        drop_line_ends_after_quit(none, skipped);
    }
    if (pending_.empty()) {
        return Step{Status::end, 0};
    }
    if (quit_seen_) {
        return data_after_quit(0);
    }
    const Step step = detail::parse_one(context_, pending_, options_, true, parsed_);
    if (step.status == Status::message) {
        return yield(0, step.consumed);
    }
    return fail_here(0);
}

namespace {

// Moves the views of `m` that point into `from` to the same offsets of `to`.
void move_views(Message& m, std::string_view from, const char* to) {
    const auto move = [&](std::string_view& v) {
        const std::less<const char*> before;
        if (!before(v.data(), from.data()) && before(v.data(), from.data() + from.size())) {
            v = {to + (v.data() - from.data()), v.size()};
        }
    };
    const auto contact = [&](Contact& c) {
        move(c.id);
        move(c.host);
    };
    std::visit(
        [&](auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, Register> || std::is_same_v<T, RegAck> ||
                          std::is_same_v<T, Chat>) {
                contact(v.self);
            } else if constexpr (std::is_same_v<T, BridgeAck>) {
                if (v.peer) {
                    contact(*v.peer);
                }
            } else if constexpr (std::is_same_v<T, Bridge>) {
                move(v.id);
            } else if constexpr (std::is_same_v<T, Text>) {
                move(v.text);
            } else if constexpr (std::is_same_v<T, ErrorReply>) {
                move(v.reason);
            }
        },
        m);
}

} // namespace

StreamResult decode_stream(Context context, std::string_view bytes, const DecodeOptions& options) {
    StreamDecoder decoder(context, options);
    StreamResult result;
    // A message completed by the end of the stream was decoded in the decoder's buffer, which
    // holds the input's bytes from offset_ on.
    const auto keep = [&] {
        Message& m = result.messages.emplace_back(decoder.message());
        move_views(m, decoder.pending_, bytes.data() + decoder.offset_);
    };
    Step step;
    for (std::string_view data = bytes;;) {
        step = decoder.feed(data);
        data.remove_prefix(step.consumed);
        if (step.status != Status::message) {
            break;
        }
        keep();
    }
    while (step.status == Status::need_more || step.status == Status::message) {
        step = decoder.finish();
        if (step.status == Status::message) {
            keep();
        }
    }
    if (step.status == Status::error) {
        result.error = decoder.error();
    }
    return result;
}

} // namespace tcpchat
