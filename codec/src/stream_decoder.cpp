// The incremental decoder (spec §4.1). It decodes in place whatever complete messages a chunk
// holds, and keeps only an unfinished message's bytes, re-decoding them when a line completes
// or a limit is crossed. Every decision is parse_one()'s, on the same bytes a one-shot decode
// would see, so the result does not depend on how the stream was split.
#include "tcpchat/stream_decoder.hpp"

#include "parse.hpp"

#include <algorithm>

namespace tcpchat {

StreamDecoder::StreamDecoder(Context context, DecodeOptions options)
    : context_(context), options_(options) {}

void StreamDecoder::reset(Context context) {
    context_ = context;
    pending_.clear();
    yielded_ = 0;
    line_start_ = 0;
    dirty_ = false;
    offset_ = 0;
    quit_seen_ = false;
    failed_.reset();
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

Step StreamDecoder::fail(DecodeError error, std::size_t consumed) {
    failed_ = error;
    Step step;
    step.status = Status::error;
    step.consumed = consumed;
    step.error = error;
    return step;
}

void StreamDecoder::yield(Step& step, std::size_t consumed) {
    context_ = detail::next_context(context_, step.message);
    quit_seen_ = std::holds_alternative<Quit>(step.message);
    step.consumed = consumed;
}

Step StreamDecoder::feed(std::string_view input) {
    if (failed_) {
        return fail(*failed_, 0);
    }
    drop_yielded();

    if (pending_.empty()) {
        if (input.empty()) {
            return Step{};
        }
        if (quit_seen_) {
            return fail({Errc::data_after_quit, offset_, "nothing after QUIT"}, 0);
        }
        Step step = detail::parse_one(context_, input, options_, false);
        switch (step.status) {
        case Status::message: {
            const std::size_t used = step.consumed;
            offset_ += used;
            yield(step, used);
            return step;
        }
        case Status::error: step.error.offset += offset_; return fail(step.error, 0);
        default: break;
        }
        pending_.assign(input);
        const std::size_t lf = pending_.rfind('\n');
        line_start_ = lf == std::string::npos ? 0 : lf + 1;
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
            // Take the rest of the current line, and no more than a limit can need.
            const std::size_t room = bound > pending_.size() ? bound - pending_.size() : 1;
            std::string_view piece = input.substr(0, room);
            const std::size_t lf = piece.find('\n');
            if (lf != std::string_view::npos) {
                piece = piece.substr(0, lf + 1);
            }
            pending_.append(piece);
            input.remove_prefix(piece.size());
            consumed += piece.size();
            if (lf != std::string_view::npos) {
                line_start_ = pending_.size();
                dirty_ = true;
            } else {
                dirty_ = pending_.size() - line_start_ > limits.line_length ||
                         pending_.size() > limits.message_size;
            }
            continue;
        }
        if (quit_seen_) {
            return fail({Errc::data_after_quit, offset_, "nothing after QUIT"}, consumed);
        }
        dirty_ = false;
        Step step = detail::parse_one(context_, pending_, options_, false);
        if (step.status == Status::message) {
            yielded_ = step.consumed;
            yield(step, consumed);
            return step;
        }
        if (step.status == Status::error) {
            step.error.offset += offset_;
            return fail(step.error, consumed);
        }
    }
}

Step StreamDecoder::finish() {
    if (failed_) {
        return fail(*failed_, 0);
    }
    drop_yielded();
    if (pending_.empty()) {
        return Step{Status::end, 0};
    }
    if (quit_seen_) {
        return fail({Errc::data_after_quit, offset_, "nothing after QUIT"}, 0);
    }
    Step step = detail::parse_one(context_, pending_, options_, true);
    if (step.status == Status::message) {
        yielded_ = step.consumed;
        yield(step, 0);
        return step;
    }
    step.error.offset += offset_;
    return fail(step.error, 0);
}

} // namespace tcpchat
