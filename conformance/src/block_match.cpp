#include "block_match.hpp"

#include "tcpchat/codec.hpp"

#include <algorithm>

namespace tcpchat::conformance {

namespace tt = transcript;

Context lenient_context(const Link& link, int direction) {
    const bool to_server = link.acceptor == tt::server_actor;
    Context context = to_server ? (direction == 0 ? Context::request : Context::response)
                                : (direction == 0 ? Context::chat_open : Context::chat);
    if (context == Context::chat_open && link.blocks_read[direction] > 0) {
        context = Context::chat;
    }
    return context;
}

BlockMatch::BlockMatch(std::string bytes, std::optional<Context> lenient)
    : bytes_(std::move(bytes)), context_(lenient) {
    if (context_) {
        for (const Message& m : decode_stream(*context_, bytes_).messages) {
            expected_.push_back(describe(m));
        }
    }
}

bool BlockMatch::settled(const Link& link) {
    if (context_) {
        return decode(link);
    }
    const std::string& inbox = link.inbox;
    const std::size_t n = std::min(inbox.size(), bytes_.size());
    return inbox.size() >= bytes_.size() || inbox.compare(0, n, bytes_, 0, n) != 0;
}

// Decodes the inbox afresh; true when that settles the match.
bool BlockMatch::decode(const Link& link) {
    actual_.clear();
    error_.reset();
    consumed_ = 0;
    StreamDecoder d(*context_);
    std::string_view data = link.inbox;
    // After a message the decoder is called again even with no input left: bytes it took
    // already may hold the next message (stream_decoder.hpp).
    while (actual_.size() < expected_.size()) {
        const Step st = d.feed(data);
        data.remove_prefix(st.consumed);
        consumed_ += st.consumed;
        if (st.status == Status::message) {
            actual_.push_back(describe(d.message()));
        } else if (st.status == Status::error) {
            error_ = d.error();
            return true;
        } else {
            break;
        }
    }
    if (link.eof && actual_.size() < expected_.size() && !error_) {
        const Step st = d.finish();
        if (st.status == Status::message) {
            actual_.push_back(describe(d.message()));
        } else if (st.status == Status::error) {
            error_ = d.error();
        }
        return true;
    }
    return actual_.size() >= expected_.size();
}

std::optional<Failure> BlockMatch::verdict(std::size_t line, const Link& link) {
    const std::string& inbox = link.inbox;
    if (!context_) {
        const std::size_t n = std::min(inbox.size(), bytes_.size());
        if (inbox.compare(0, n, bytes_, 0, n) != 0 || inbox.size() < bytes_.size()) {
            std::string why = inbox.size() < bytes_.size() && inbox.compare(0, n, bytes_, 0, n) == 0
                                  ? (link.eof ? "the connection closed before all bytes arrived"
                                              : "not all bytes arrived within the timeout")
                                  : "the bytes differ";
            return Failure{line, why, bytes_, inbox.substr(0, std::max(bytes_.size(), n)), true};
        }
        consumed_ = bytes_.size();
        return std::nullopt;
    }
    decode(link);
    bool ok = !error_ && actual_.size() == expected_.size();
    for (std::size_t i = 0; ok && i < expected_.size(); ++i) {
        ok = same(expected_[i], actual_[i], true);
    }
    if (ok) {
        return std::nullopt;
    }
    std::string want_text;
    for (const Described& d : expected_) {
        want_text += render(d) + "\n";
    }
    std::string got_text;
    for (const Described& d : actual_) {
        got_text += render(d) + "\n";
    }
    if (error_) {
        got_text += "decode error " + std::string(errc_name(error_->code)) + " at " +
                    std::to_string(error_->offset) + " in " + transcript::quote(inbox) + "\n";
    } else if (actual_.size() < expected_.size()) {
        got_text += link.eof ? "(connection closed)\n" : "(nothing more within the timeout)\n";
    }
    return Failure{line, "a different message arrived (compared by the lenient rule)", want_text,
                   got_text, false};
}

} // namespace tcpchat::conformance
