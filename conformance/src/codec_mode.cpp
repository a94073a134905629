// codec mode (spec/transcript-format.md §T.9.1): every byte stream of a transcript is decoded by
// our codec, whole and one byte at a time, in the context its connection gives it, in the lenient
// and the strict profile; the outcome must match the transcript's expectations, and every decoded
// message must re-encode to its bytes (or to the canonical bytes the case gives).
#include "codec_mode.hpp"

#include "tcpchat/codec.hpp"
#include "value.hpp"

#include <chrono>
#include <map>
#include <sstream>

namespace tcpchat::conformance {

namespace tt = transcript;

transcript::Bindings codec_bindings(const Case& c) {
    tt::Bindings b;
    b["run"] = "00000000";
    b["server"] = "127.0.0.2:5555";
    b["server.ip"] = "127.0.0.2";
    b["server.port"] = "5555";
    std::map<std::string, bool> other;
    for (const tt::Step& s : c.steps) {
        if (const auto* x = std::get_if<tt::Connect>(&s.action); x && x->other_address) {
            other[x->from] = true;
        }
    }
    int index = 0;
    for (const std::string& a : c.actors()) {
        b[a + ".id"] = a + "-" + b["run"];
        b[a + ".ip"] = other[a] ? "127.0.0.3" : "127.0.0.1";
        b[a + ".port"] = std::to_string(3000 + index++);
    }
    return b;
}

std::vector<ByteStream> collect_streams(const Case& c) {
    std::vector<ByteStream> streams;
    std::map<std::pair<std::string, std::string>, std::size_t> current; // pair -> first stream
    auto key = [](const std::string& a, const std::string& b) {
        return a < b ? std::pair(a, b) : std::pair(b, a);
    };
    ByteStream* last = nullptr;
    for (const tt::Step& s : c.steps) {
        if (const auto* x = std::get_if<tt::Connect>(&s.action)) {
            const bool to_server = x->to == tt::server_actor;
            current[key(x->from, x->to)] = streams.size();
            streams.push_back({x->from,
                               x->to,
                               to_server ? Context::request : Context::chat_open,
                               s.line,
                               {},
                               {}});
            streams.push_back(
                {x->to, x->from, to_server ? Context::response : Context::chat, s.line, {}, {}});
            last = nullptr;
        } else if (const auto* x = std::get_if<tt::Send>(&s.action)) {
            const std::size_t first = current.at(key(x->from, x->to));
            last = &streams[streams[first].from == x->from ? first : first + 1];
            last->pieces.push_back({s.line, &x->bytes});
        } else if (std::holds_alternative<tt::ExpectMessage>(s.action) ||
                   std::holds_alternative<tt::ExpectError>(s.action)) {
            if (last != nullptr) {
                last->expectations.push_back(&s);
            }
        }
    }
    return streams;
}

namespace {

struct Decoded {
    std::vector<Described> messages;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans; // [begin, end) of each message
    std::vector<std::string> encoded; // each message encoded again by our encoder
    std::optional<DecodeError> error;
};

Decoded decode_all(Context context, std::string_view bytes, const DecodeOptions& options,
                   std::size_t chunk) {
    Decoded out;
    StreamDecoder decoder(context, options);
    std::uint64_t begin = 0;
    auto take = [&](const Step& step) {
        if (step.status == Status::message) {
            out.messages.push_back(describe(decoder.message()));
            out.spans.emplace_back(begin, decoder.message_end());
            std::string bytes;
            if (const std::error_code ec = encode(decoder.message(), bytes)) {
                bytes = "(the encoder refuses the value: " + ec.message() + ")";
            }
            out.encoded.push_back(std::move(bytes));
            begin = decoder.message_end();
        } else if (step.status == Status::error) {
            out.error = decoder.error();
        }
    };
    for (std::size_t at = 0; at < bytes.size() && !out.error;) {
        std::string_view data = bytes.substr(at, chunk);
        at += data.size();
        while (!data.empty() && !out.error) {
            const Step step = decoder.feed(data);
            data.remove_prefix(step.consumed);
            take(step);
            if (step.status == Status::need_more) {
                break;
            }
        }
    }
    while (!out.error) {
        const Step step = decoder.finish();
        if (step.status == Status::end) {
            break;
        }
        take(step);
        if (step.status != Status::message) {
            break;
        }
    }
    return out;
}

std::string show_error(const DecodeError& e) {
    return "decode error " + std::string(errc_name(e.code)) + " at " + std::to_string(e.offset);
}

std::string show(const Decoded& d) {
    std::string out;
    for (const Described& m : d.messages) {
        out += render(m) + "\n";
    }
    if (d.error) {
        out += show_error(*d.error) + "\n";
    }
    return out;
}

const char* context_name(Context c) {
    switch (c) {
    case Context::request: return "request";
    case Context::response: return "response";
    case Context::chat_open: return "chat opening";
    case Context::chat: return "chat";
    }
    return "?";
}

// Checks one stream in one profile; the first mismatch becomes the failure.
std::optional<Failure> check(const ByteStream& s, const std::string& bytes, bool strict,
                             const tt::Bindings& b) {
    const DecodeOptions options = strict ? strict_profile : lenient_profile;
    const char* profile = strict ? "strict" : "lenient";
    const std::string where =
        s.from + " -> " + s.to + " (" + context_name(s.context) + ", " + profile + " profile)";

    std::vector<const tt::Step*> expected;
    for (const tt::Step* e : s.expectations) {
        const bool e_strict = std::holds_alternative<tt::ExpectMessage>(e->action)
                                  ? std::get<tt::ExpectMessage>(e->action).strict
                                  : std::get<tt::ExpectError>(e->action).strict;
        if (e_strict == strict) {
            expected.push_back(e);
        }
    }
    if (strict && expected.empty()) { // §T.6.2: the strict profile expects what the lenient does
        for (const tt::Step* e : s.expectations) {
            expected.push_back(e);
        }
    }

    const Decoded whole = decode_all(s.context, bytes, options, bytes.size() + 1);
    const Decoded drip = decode_all(s.context, bytes, options, 1);
    const std::size_t line = s.pieces.empty() ? s.connect_line : s.pieces.front().first;
    if (show(whole) != show(drip)) {
        return Failure{line, where + ": one byte at a time decodes differently (§4.1)", show(whole),
                       show(drip), false};
    }

    // What the transcript expects, rendered like the outcome.
    std::string want;
    std::optional<std::size_t> error_line;
    for (const tt::Step* e : expected) {
        if (const auto* m = std::get_if<tt::ExpectMessage>(&e->action)) {
            std::string missing;
            const auto d = describe(m->value, b, &missing);
            want += (d ? render(*d) : "${" + missing + "}?") + "\n";
        } else {
            const auto& x = std::get<tt::ExpectError>(e->action);
            want += show_error({x.code, x.offset, {}}) + "\n";
            error_line = e->line;
        }
    }
    if (expected.empty()) {
        // No expectation: the stream must be well-formed; what it decodes to is not pinned.
        if (whole.error) {
            return Failure{line, where + ": decodes with an error the transcript does not expect",
                           "(messages only)", show(whole), false};
        }
    } else if (show(whole) != want) {
        const std::size_t at = expected.empty() ? line : expected.front()->line;
        return Failure{at, where + ": decodes differently", want, show(whole), false};
    }

    if (strict) {
        return std::nullopt; // re-encoding is checked once, on the lenient decode
    }
    std::size_t value_index = 0;
    for (std::size_t i = 0; i < whole.messages.size(); ++i) {
        const tt::ExpectMessage* m = nullptr;
        const tt::Step* step = nullptr;
        for (; value_index < expected.size(); ++value_index) {
            if ((m = std::get_if<tt::ExpectMessage>(&expected[value_index]->action)) != nullptr) {
                step = expected[value_index++];
                break;
            }
        }
        const auto [begin, end] = whole.spans[i];
        std::string want_bytes = bytes.substr(begin, end - begin);
        if (m != nullptr && m->encodes) {
            want_bytes = tt::resolve(*m->encodes, b).value_or("");
        }
        const std::string& got = whole.encoded[i];
        if (got != want_bytes) {
            return Failure{
                step != nullptr ? step->line : line,
                where + ": message " + std::to_string(i + 1) + " does not re-encode to " +
                    (m != nullptr && m->encodes ? "the canonical bytes given" : "its own bytes"),
                want_bytes, got, true};
        }
    }
    return std::nullopt;
}

} // namespace

CaseResult run_codec(const Case& c) {
    const auto start = std::chrono::steady_clock::now();
    CaseResult result;
    result.test = &c;
    const tt::Bindings b = codec_bindings(c);
    for (const ByteStream& s : collect_streams(c)) {
        std::string bytes;
        for (const auto& [line, t] : s.pieces) {
            std::string missing;
            auto r = tt::resolve(*t, b, &missing);
            if (!r) {
                result.failure =
                    Failure{line, "placeholder ${" + missing + "} has no value", {}, {}, false};
                break;
            }
            bytes += *r;
        }
        if (result.failure) {
            break;
        }
        if (s.pieces.empty() && s.expectations.empty()) {
            continue;
        }
        for (const bool strict : {false, true}) {
            if (auto f = check(s, bytes, strict, b)) {
                result.failure = std::move(f);
                break;
            }
        }
        if (result.failure) {
            break;
        }
    }
    result.passed = !result.failure;
    result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
}

} // namespace tcpchat::conformance
