// fuzz_roundtrip: decoding and encoding are inverse (spec §4.4, §9.1). Two directions, on the
// same input:
//
// Bytes first: whatever decodes (every context; lenient, strict and the input's options, see
// fuzz_input.hpp) encodes without error (but for a lenient line that outgrows MAX-LINE once
// canonical), the canonical bytes decode with the strict profile to an
// equal value, and encode(decode(encode(m))) == encode(m). What the strict profile accepts is
// already canonical: it encodes back to the very input bytes.
//
// Values first: the input also builds a Message value field by field. If encode() accepts it, the
// bytes decode (strict) to an equal value; if it refuses it, the output buffer is left unchanged
// (encode.hpp). A host the C library takes for an IP address must not be refused as bad_ip.
#include "check.hpp"

#include <fuzzer/FuzzedDataProvider.h>
#include <string>

namespace {

using namespace tcpchat;
using namespace tcpchat::fuzz;

// encode() appends: whatever was in the buffer stays in front.
constexpr std::string_view sentinel = "<before>";

std::string escaped(std::string_view bytes) {
    std::string out;
    for (const char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        if (b >= 0x20 && b < 0x7F && b != '\\') {
            out += ch;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", b);
            out += hex;
        }
    }
    return out;
}

// The canonical bytes of `m` decode to `m` and encode to themselves.
void check_canonical(const Message& m, std::string_view bytes, Context c, const DecodeOptions& o) {
    const Context receiver = receiving_context(m);
    const Decoded again = decode(receiver, bytes, strict_profile);
    require(again.ok() && again.value() == m, "encoded bytes do not decode to the value", c, o,
            to_string(m) + " -> \"" + escaped(bytes) + "\" -> " + describe(again));
    std::string twice;
    require(!encode(again.value(), twice), "re-encoding a decoded canonical message failed", c, o,
            to_string(again.value()));
    require(twice == bytes, "encode(decode(encode(m))) != encode(m)", c, o,
            "\"" + escaped(bytes) + "\" vs \"" + escaped(twice) + "\"");
}

void bytes_first(Context c, std::string_view wire, const DecodeOptions& o) {
    const Decoded d = decode(c, wire, o);
    if (!d.ok()) {
        return;
    }
    std::string out(sentinel);
    const std::error_code ec = encode(d.value(), out);
    if (ec) {
        // The canonical form may be longer than what a lenient decoder accepted ("Reason:x" gains
        // a space, spec §9.2), so a line at MAX-LINE may not fit once canonical; nothing else may
        // be refused.
        require(ec == Errc::line_too_long && o.leniency != Leniency::none,
                "a decoded message does not encode", c, o,
                to_string(d.value()) + ": " + ec.message() + " (from \"" + escaped(wire) + "\")");
        require(out == sentinel, "a refused encode() changed the buffer", c, o);
        return;
    }
    require(out.starts_with(sentinel), "encode() changed bytes already in the buffer", c, o);
    const std::string_view bytes = std::string_view(out).substr(sentinel.size());
    check_canonical(d.value(), bytes, c, o);
    if (o.leniency == Leniency::none) {
        require(bytes == wire, "the strict profile accepted non-canonical bytes", c, o,
                "input \"" + escaped(wire) + "\" canonical \"" + escaped(bytes) + "\"");
    }
}

// A Message built from the input: arbitrary strings and numbers in every field.
Message build_value(FuzzedDataProvider& p, std::string& a, std::string& b) {
    const auto contact = [&]() {
        a = p.ConsumeRandomLengthString(96);
        b = p.ConsumeRandomLengthString(64);
        return Contact{a, b, p.ConsumeIntegral<std::uint16_t>()};
    };
    switch (p.ConsumeIntegralInRange<int>(0, 8)) {
    case 0: return Register{contact()};
    case 1: return RegAck{contact(), p.ConsumeBool()};
    case 2: a = p.ConsumeRandomLengthString(96); return Bridge{a};
    case 3: return BridgeAck{contact()};
    case 4: return BridgeAck{};
    case 5: return Chat{contact()};
    case 6: a = p.ConsumeRandomLengthString(2048); return Text{a};
    case 7: return Quit{};
    default:
        a = p.ConsumeRandomLengthString(2048);
        return ErrorReply{p.ConsumeIntegralInRange<std::uint16_t>(0, 1100), a};
    }
}

bool looks_like_ip(std::string_view host) {
    if (host.find('\0') != std::string_view::npos) {
        return false; // inet_pton would see only the bytes before the NUL
    }
    const std::string text(host);
    unsigned char addr[16];
    return inet_pton(AF_INET, text.c_str(), addr) == 1 ||
           inet_pton(AF_INET6, text.c_str(), addr) == 1;
}

const Contact* contact_of(const Message& m) {
    if (const auto* r = std::get_if<Register>(&m)) {
        return &r->self;
    }
    if (const auto* r = std::get_if<RegAck>(&m)) {
        return &r->self;
    }
    if (const auto* r = std::get_if<Chat>(&m)) {
        return &r->self;
    }
    if (const auto* r = std::get_if<BridgeAck>(&m); r != nullptr && r->peer) {
        return &*r->peer;
    }
    return nullptr;
}

void values_first(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider p(data, size);
    std::string a;
    std::string b;
    const Message m = build_value(p, a, b);
    const Context c = receiving_context(m);
    std::string out(sentinel);
    const std::error_code ec = encode(m, out);
    if (ec) {
        require(out == sentinel, "a refused encode() changed the buffer", c, lenient_profile,
                to_string(m));
        const Contact* contact = contact_of(m);
        if (ec == Errc::bad_ip && contact != nullptr) {
            require(!looks_like_ip(contact->host), "encode() refused a valid IP address", c,
                    lenient_profile, "host \"" + escaped(contact->host) + "\"");
        }
        return;
    }
    require(out.starts_with(sentinel), "encode() changed bytes already in the buffer", c,
            lenient_profile);
    check_canonical(m, std::string_view(out).substr(sentinel.size()), c, lenient_profile);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const FuzzInput in = read_options_input(data, size);
    for (const Context c : all_contexts) {
        bytes_first(c, in.wire, lenient_profile);
        bytes_first(c, in.wire, strict_profile);
        bytes_first(c, in.wire, in.options);
    }
    values_first(data, size);
    return 0;
}
