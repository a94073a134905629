// fuzz_decode: one-shot decoding of arbitrary bytes, in every context, with the lenient profile,
// the strict profile and options taken from the input (fuzz_input.hpp).
//
// Beyond "no crash, no leak, no out-of-bounds read" (ASan, UBSan), it checks that:
// - every error has a known code and an offset inside the input (spec §8);
// - every decoded value obeys the value rules (clientID, IP, Port, text; spec §4.3, §5) and
//   points into the input;
// - leniencies and limits only widen what is accepted: what decodes with the strict profile or
//   with smaller limits decodes to the same value with the lenient profile (spec §7, §9.2);
// - decode() and decode_stream() agree: a whole message is the stream's only message, trailing
//   data means the stream's first message ends there, and any other error is the stream's error;
// - the canonical line match is only a shortcut: decoding with it gives what the grammar alone
//   gives (the same message and length, or the same error at the same offset), whether or not
//   more bytes may follow (spec §4.4, codec/src/parse.hpp).
#include "check.hpp"
#include "parse.hpp"
#include "reference_stream.hpp"

#include <string>

namespace {

using namespace tcpchat;
using namespace tcpchat::fuzz;

Decoded decode_checked(Context c, std::string_view wire, const DecodeOptions& o) {
    Decoded d = decode(c, wire, o);
    if (d.ok()) {
        ValueCheck{c, o, wire}(d.value());
        (void)to_string(d.value()); // printing must cope with any decoded value
    } else {
        check_error(d.error(), wire.size(), c, o);
    }
    return d;
}

// quit_forms is the one leniency that reads an input another way: a turn of only `QUIT` is the
// text QUIT without it, and the peer quitting with it (spec §5.7, §9.2).
bool quit_turn_read_as_quit(const Message& as_text, const Message& as_quit) {
    const auto* text = std::get_if<Text>(&as_text);
    return text && text->text == "QUIT" && std::holds_alternative<Quit>(as_quit);
}

void check_stream_agrees(Context c, std::string_view wire, const DecodeOptions& o,
                         const Decoded& one) {
    const StreamResult s = decode_stream(c, wire, o);
    if (s.error) {
        check_error(*s.error, wire.size(), c, o);
    }
    if (wire.empty()) {
        require(s.messages.empty() && !s.error, "decode_stream of no bytes is not a clean end", c,
                o);
        return;
    }
    const std::string detail = "decode: " + describe(one);
    if (one.ok()) {
        require(s.messages.size() == 1 && s.messages[0] == one.value() && !s.error,
                "decode_stream differs from decode of one whole message", c, o, detail);
    } else if (one.error().code == Errc::trailing_data) {
        require(!s.messages.empty(), "decode_stream found no message where decode found one", c, o,
                detail);
        // Cut after its first message, the input is a turn of its own: `QUIT\r\n` followed by a
        // line is the text QUIT, alone it is QUIT (spec §5.6).
        const Decoded first = decode(c, wire.substr(0, one.error().offset), o);
        const bool own_turn = first.ok() && allows(o.leniency, Leniency::quit_forms) &&
                              quit_turn_read_as_quit(s.messages[0], first.value());
        require(first.ok() && (first.value() == s.messages[0] || own_turn),
                "the message before trailing data differs from decode_stream's first", c, o,
                detail + "; prefix: " + describe(first) + "; stream: " + to_string(s.messages[0]));
    } else {
        std::ostringstream got;
        if (s.error) {
            got << *s.error;
        }
        require(s.messages.empty() && s.error == one.error(),
                "decode_stream's error differs from decode's", c, o,
                detail + "; decode_stream: " + std::to_string(s.messages.size()) +
                    " message(s), error " + got.str());
    }
}

// What decodes with narrower options decodes to the same value with the lenient profile.
void check_wider(Context c, const Decoded& narrow, const Decoded& lenient, const DecodeOptions& o,
                 std::string_view which) {
    if (!narrow.ok() || (lenient.ok() && !allows(o.leniency, Leniency::quit_forms) &&
                         quit_turn_read_as_quit(narrow.value(), lenient.value()))) {
        return;
    }
    require(lenient.ok() && lenient.value() == narrow.value(),
            std::string("accepted by ") + std::string(which) + " but not the same by lenient", c, o,
            describe(narrow) + " vs lenient " + describe(lenient));
}

// The canonical line match and the grammar alone decide alike, as the stream would see the bytes
// and at their end.
void check_canonical_agrees(Context c, std::string_view wire, const DecodeOptions& o) {
    for (const bool final : {false, true}) {
        const tcpchat::detail::Parsed fast = tcpchat::test::parsed(c, wire, o, final);
        const tcpchat::detail::Parsed grammar =
            tcpchat::test::parsed(c, wire, o, final, tcpchat::detail::Matching::grammar);
        const auto show = [](const tcpchat::detail::Parsed& s) {
            std::ostringstream out;
            if (s.status == Status::message) {
                out << s.message << " (" << s.consumed << " bytes)";
            } else if (s.status == Status::error) {
                out << s.error;
            } else {
                out << "need more";
            }
            return out.str();
        };
        const bool same = fast.status == grammar.status && fast.consumed == grammar.consumed &&
                          (fast.status != Status::message ||
                           (fast.message == grammar.message && fast.framing == grammar.framing)) &&
                          (fast.status != Status::error || fast.error == grammar.error);
        require(same, "the canonical match and the grammar disagree", c, o,
                "canonical: " + show(fast) + "; grammar: " + show(grammar));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const FuzzInput in = read_options_input(data, size);
    for (const Context c : all_contexts) {
        const Decoded lenient = decode_checked(c, in.wire, lenient_profile);
        const Decoded strict = decode_checked(c, in.wire, strict_profile);
        const Decoded custom = decode_checked(c, in.wire, in.options);
        check_canonical_agrees(c, in.wire, lenient_profile);
        check_canonical_agrees(c, in.wire, strict_profile);
        check_canonical_agrees(c, in.wire, in.options);
        check_wider(c, strict, lenient, strict_profile, "strict");
        check_wider(c, custom, lenient, in.options, "the input's options");
        check_stream_agrees(c, in.wire, lenient_profile, lenient);
        check_stream_agrees(c, in.wire, in.options, custom);
    }
    return 0;
}
