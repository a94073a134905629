// The incremental, sans-I/O decoder (spec §4.1): fed whatever chunks the network delivers, it
// yields each message as soon as its last byte arrives. Transport code is a loop around it:
//
//     for (std::string_view data = chunk;;) {
//         const tcpchat::Step step = decoder.feed(data);
//         data.remove_prefix(step.consumed);
//         if (step.status == tcpchat::Status::message) handle(decoder.message());
//         else if (step.status == tcpchat::Status::error) { report(decoder.error()); break; }
//         else break; // need_more: read the next chunk
//     }
//     // at end of stream: decoder.finish() until it returns Status::end or Status::error
//
// A complete message in the input is decoded in place (its views point into the input); only the
// unfinished tail of a chunk is copied, into a buffer that is reused, so steady-state decoding
// does not allocate. The chunk that completes that message is parsed with it in the buffer, and
// its bytes past the message's end are not consumed: the caller's next feed() decodes them in
// place. Limits are enforced while bytes arrive, before the message is complete.
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/parsed.hpp"
#include "tcpchat/progress.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tcpchat {

class StreamDecoder {
  public:
    explicit StreamDecoder(Context context = Context::request, DecodeOptions options = {});

    // Consumes bytes of `input` until a message is complete, an error is found, or `input` is used
    // up (Status::need_more, consumed == input.size()). After a message, call again with the rest
    // of the input, even when it is empty: bytes already taken may hold further messages. A
    // message's views stay valid until the next call on this decoder, and no longer than `input`
    // does. After an error, every call returns Status::error again and consumes nothing, and
    // error() keeps saying what it was.
    [[nodiscard]] Step feed(std::string_view input) {
        // Bytes that only go on with the unfinished line of the message pending_ holds, proving
        // no limit exceeded (spec §7): nothing to decide, the bytes are only kept. What most
        // small chunks are, so it costs a compare, a scan for LF and the copy. (An empty input
        // wraps around to the largest size: never this way.)
        if (input.size() - 1 < room_) {
            if (input.size() == 1) {
                if (input[0] != '\n') {
                    pending_.push_back(input[0]);
                    --room_;
                    return Step{Status::need_more, 1};
                }
            } else if (std::memchr(input.data(), '\n', input.size()) == nullptr) {
                pending_.append(input);
                room_ -= input.size();
                return Step{Status::need_more, input.size()};
            }
        }
        return decide(input);
    }

    // The peer closed the connection. Returns a message completed by the end of the stream
    // (call again), Status::end if nothing was pending, or Errc::truncated inside a message.
    [[nodiscard]] Step finish();

    // The peer's turn ended: no byte arrived for a pause (spec §5.6; the transport's timer says
    // so, the decoder decides what it means). In the chat contexts, returns a message that the
    // bytes pending make as a whole turn under the leniencies of §9.2 (an unterminated line, a
    // bare QUIT; call again), or Status::need_more when they make none and more bytes must
    // decide. Like feed(), an error is final. Anywhere else it changes nothing.
    [[nodiscard]] Step pause();

    // After a call returned Status::message: the message, valid until the next call on this
    // decoder (its views point into that call's input or the decoder's buffer).
    [[nodiscard]] const Message& message() const noexcept { return parsed_.message; }
    // With that message, in a chat context: how the turn came (spec §5.6, §9.2).
    [[nodiscard]] Framing framing() const noexcept { return parsed_.framing; }
    // After a call returned Status::error: what and where (stream offset), until reset().
    [[nodiscard]] const DecodeError& error() const noexcept { return parsed_.error; }

    // The context for the next message: chat_open becomes chat once CHAT was decoded.
    [[nodiscard]] Context context() const noexcept { return context_; }
    // Stream offset of the next byte to consume (the sum of all `consumed` so far).
    [[nodiscard]] std::uint64_t offset() const noexcept { return offset_ + pending_.size(); }
    // Stream offset one past the last message yielded: with the previous one's, its span.
    [[nodiscard]] std::uint64_t message_end() const noexcept { return offset_ + yielded_; }
    // True when no byte of a further message is buffered.
    [[nodiscard]] bool idle() const noexcept { return pending_.size() == yielded_; }
    [[nodiscard]] const DecodeOptions& options() const noexcept { return options_; }

    // Starts a new stream in `context`, keeping the buffer's capacity.
    void reset(Context context);

  private:
    // How many bytes feed() may append to the unfinished line pending_ ends with before a limit
    // could be proved exceeded (spec §7): 0 unless the bytes pending are a message's start that
    // waits for its line to end. Kept true by every call that decides (RoomKeeper).
    [[nodiscard]] std::size_t room() const noexcept;
    struct RoomKeeper;
    [[nodiscard]] Step decide(std::string_view input);
    Step take(std::string_view input);
    Step fail(const DecodeError& error, std::size_t consumed);
    Step fail_here(std::size_t consumed);
    Step data_after_quit(std::size_t consumed);
    void drop_line_ends_after_quit(std::string_view& input, std::size_t& skipped);
    [[nodiscard]] Step judge_opening(std::string_view bytes, Step step);
    [[nodiscard]] Step yield(std::size_t consumed, std::size_t buffered = 0);
    void drop_yielded();
    [[nodiscard]] std::size_t unfinished_line(std::string_view bytes) const noexcept;

    Context context_;
    DecodeOptions options_;
    std::string pending_;        // bytes of an unfinished message (and what followed it)
    std::size_t yielded_ = 0;    // bytes at the front of pending_ that made the last message
    std::size_t line_start_ = 0; // where the last line in pending_ starts
    bool dirty_ = false;         // pending_ changed since it was last decoded
    std::uint64_t offset_ = 0;   // stream offset of pending_[0], or of the next input byte
    bool quit_seen_ = false;
    detail::Progress progress_; // how far the lines of the message at pending_[0] were checked
    bool failed_ = false;
    detail::Parsed parsed_; // what the last call yielded: its message, or the error
    std::size_t room_ = 0;  // room() after the last call that decided
    // decode_stream() is this decoder fed once; it moves the views of a message decoded in the
    // buffer to the same bytes of its input.
    friend StreamResult decode_stream(Context, std::string_view, const DecodeOptions&);
};

} // namespace tcpchat
