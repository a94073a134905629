// fuzz_stream: the incremental decoder against the reference (spec §4.1: the result must not
// depend on how the stream is split). The input's leading bytes give the options and a pattern of
// chunk sizes (fuzz_input.hpp); the rest is fed to a StreamDecoder in chunks of those sizes, as
// the loop in stream_decoder.hpp documents, then finish()ed. In every context, the messages and
// the error (code and offset) must equal those of the whole input decoded one message after
// another (codec/test/reference_stream.hpp; not decode_stream(), which is a StreamDecoder
// itself); each message is compared as it is yielded, while its views are valid.
//
// The decoder's own contract is checked on the way: `consumed` never exceeds the chunk,
// need_more means the chunk was used up, offset() is the sum of all `consumed`, an error repeats
// and consumes nothing, and a clean end leaves the decoder idle.
//
// A second run calls pause() after every chunk (the peer's turn ended, spec §5.6), which decides
// what the bytes alone cannot, so it is held to the contract rather than to the reference: a
// pause consumes nothing, yields only a chat turn (text or QUIT, with no CR or LF in a text),
// yields nothing outside the chat contexts, and an error it reports repeats.
#include "check.hpp"
#include "reference_stream.hpp"

#include <string>

namespace {

using namespace tcpchat;
using namespace tcpchat::fuzz;

struct Run {
    Context context;
    const DecodeOptions& options;
    const StreamResult& expected;
    std::size_t next = 0; // index of the next expected message
    std::string trace;    // chunk sizes fed so far, for the failure message

    void fail_with(std::string_view what, std::string_view detail) const {
        fail(what, context, options, std::string(detail) + "\n  chunks fed: " + trace);
    }

    void got_message(const Message& m) {
        if (next >= expected.messages.size()) {
            fail_with("StreamDecoder yielded a message the reference did not",
                      "extra: " + to_string(m));
        }
        if (!(m == expected.messages[next])) {
            fail_with("StreamDecoder's message differs from the reference's",
                      "message " + std::to_string(next) + ": " + to_string(m) +
                          " vs the reference " + to_string(expected.messages[next]));
        }
        ++next;
    }

    void got_end(const std::optional<DecodeError>& error) const {
        if (next != expected.messages.size()) {
            fail_with("StreamDecoder stopped before the reference's last message",
                      std::to_string(next) + " of " + std::to_string(expected.messages.size()));
        }
        if (error != expected.error) {
            std::ostringstream os;
            os << "StreamDecoder: ";
            if (error) {
                os << *error;
            } else {
                os << "clean end";
            }
            os << "; the reference: ";
            if (expected.error) {
                os << *expected.error;
            } else {
                os << "clean end";
            }
            fail_with("StreamDecoder's end differs from the reference's", os.str());
        }
    }
};

void check_stream(Context c, const FuzzInput& in) {
    const StreamResult expected = test::reference_stream(c, in.wire, in.options);
    Run run{c, in.options, expected, 0, {}};
    StreamDecoder decoder(c, in.options);
    std::uint64_t consumed_total = 0;
    std::optional<DecodeError> error;

    const auto step_checks = [&](const Step& step, std::size_t given) {
        if (step.consumed > given) {
            run.fail_with("Step.consumed exceeds the bytes given", {});
        }
        consumed_total += step.consumed;
        if (decoder.offset() != consumed_total) {
            run.fail_with("offset() is not the sum of all consumed",
                          std::to_string(decoder.offset()) + " vs " +
                              std::to_string(consumed_total));
        }
        if (step.status == Status::error) {
            const DecodeError first = decoder.error();
            check_error(first, in.wire.size(), c, in.options);
            const Step again = decoder.feed("x");
            if (again.status != Status::error || !(decoder.error() == first) ||
                again.consumed != 0) {
                run.fail_with("a call after an error does not repeat it", {});
            }
            error = first;
        }
    };

    std::string_view rest = in.wire;
    for (std::size_t i = 0; !error && !rest.empty(); ++i) {
        const std::size_t size = std::min(in.chunks[i % in.chunks.size()], rest.size());
        std::string_view chunk = rest.substr(0, size);
        rest.remove_prefix(size);
        run.trace += std::to_string(size) + ' ';
        for (;;) {
            const Step step = decoder.feed(chunk);
            step_checks(step, chunk.size());
            chunk.remove_prefix(step.consumed);
            if (step.status == Status::message) {
                run.got_message(decoder.message());
                continue; // bytes already taken may hold further messages
            }
            if (step.status == Status::need_more && !chunk.empty()) {
                run.fail_with("need_more before the chunk was used up", {});
            }
            if (step.status == Status::end) {
                run.fail_with("feed() returned Status::end", {});
            }
            break;
        }
    }
    while (!error) {
        const Step step = decoder.finish();
        step_checks(step, 0);
        if (step.status == Status::message) {
            run.got_message(decoder.message());
        } else if (step.status == Status::end) {
            if (!decoder.idle()) {
                run.fail_with("not idle after a clean end", {});
            }
            break;
        } else if (step.status == Status::need_more) {
            run.fail_with("finish() returned need_more", {});
        }
    }
    run.got_end(error);
}

void check_pauses(Context c, const FuzzInput& in) {
    StreamDecoder decoder(c, in.options);
    const auto fail_with = [&](std::string_view what) { fail(what, c, in.options, {}); };
    std::string_view rest = in.wire;
    bool failed = false;
    const auto yielded = [&](const Step& step, bool paused) {
        if (step.status == Status::error) {
            const DecodeError first = decoder.error();
            check_error(first, in.wire.size(), c, in.options);
            const Step again = decoder.pause();
            if (again.status != Status::error || !(decoder.error() == first)) {
                fail_with("a pause after an error does not repeat it");
            }
            failed = true;
            return false;
        }
        if (step.status != Status::message) {
            return false;
        }
        if (paused) {
            const auto* text = std::get_if<Text>(&decoder.message());
            if (c != Context::chat && c != Context::chat_open) {
                fail_with("pause() yielded outside the chat contexts");
            }
            if (!text && !std::holds_alternative<Quit>(decoder.message())) {
                fail_with("pause() yielded something other than a chat turn");
            }
            if (text && text->text.find_first_of("\r\n") != std::string_view::npos) {
                fail_with("a turn decided at a pause holds CR or LF");
            }
        }
        return true;
    };
    for (std::size_t i = 0; !failed && !rest.empty(); ++i) {
        const std::size_t size = std::min(in.chunks[i % in.chunks.size()], rest.size());
        std::string_view chunk = rest.substr(0, size);
        rest.remove_prefix(size);
        for (;;) {
            const Step step = decoder.feed(chunk);
            chunk.remove_prefix(step.consumed);
            if (!yielded(step, false)) {
                break;
            }
        }
        while (!failed) {
            const std::uint64_t before = decoder.offset();
            const Step step = decoder.pause();
            if (step.consumed != 0 || decoder.offset() != before) {
                fail_with("pause() consumed bytes");
            }
            if (!yielded(step, true)) {
                break;
            }
        }
    }
    while (!failed) {
        const Step step = decoder.finish();
        if (step.status == Status::end || !yielded(step, false)) {
            break;
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const FuzzInput in = read_stream_input(data, size);
    for (const Context c : all_contexts) {
        check_stream(c, in);
        check_pauses(c, in);
    }
    return 0;
}
