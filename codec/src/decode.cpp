// Decoding: the grammar plus the actions that turn matches into Message values and enforce the
// per-message rules (spec §5), the leniencies (spec §9.2) and the limits (spec §7).
//
// Errors inside the parse are thrown as `Failure` and caught in parse_one(): nothing throws
// across the codec's API. A complete, valid message throws nothing and allocates nothing.
#include "parse.hpp"
#include "tcpchat/grammar.hpp"
#include "text.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>

namespace tcpchat {
namespace {

namespace pegtl = tao::pegtl;
namespace g = tcpchat::grammar;

// An input over a byte range that remembers whether a rule asked for bytes past its end: a
// result reached that way may change when more bytes arrive, so it is provisional (spec §4.1).
// With `Track`, it also records the furthest byte any rule examined, on which limits are judged
// (spec §7) so that a decision does not depend on where the stream was cut; that costs a little
// on every byte, so a parse that fails is simply run again with tracking.
template <bool Track>
class Input
    : public pegtl::memory_input<pegtl::tracking_mode::lazy, pegtl::eol::crlf, const char*> {
    using base = pegtl::memory_input<pegtl::tracking_mode::lazy, pegtl::eol::crlf, const char*>;

  public:
    Input(const char* begin, const char* end) : base(begin, end, ""), seen_end_(begin) {}

    [[nodiscard]] bool empty() const noexcept {
        const bool e = base::empty();
        reached_end_ = reached_end_ || e;
        examined(1);
        return e;
    }
    [[nodiscard]] std::size_t size(std::size_t amount = 0) const noexcept {
        const std::size_t s = base::size(amount);
        reached_end_ = reached_end_ || s < amount;
        examined(amount);
        return s;
    }
    // Rules that compare bytes themselves say how many they looked at.
    void examined(std::size_t amount) const noexcept {
        if constexpr (Track) {
            const char* to = current() + std::min(amount, base::size(amount));
            seen_end_ = std::max(seen_end_, to);
        }
    }
    [[nodiscard]] bool reached_end() const noexcept { return reached_end_; }
    // One past the furthest byte examined (with Track).
    [[nodiscard]] const char* seen_end() const noexcept { return std::max(seen_end_, current()); }

  private:
    mutable bool reached_end_ = false;
    mutable const char* seen_end_;
};

struct Failure {
    Errc code;
    const char* at;
    std::string_view expected;
};

enum class Method : std::uint8_t { none, register_, regack, bridge, bridgeack, chat, quit, error };

// Header fields in canonical order (spec §4.3): the enumerator order is the order a strict
// receiver requires.
enum class Field : std::uint8_t { client_id, ip, port, status, code, reason };
constexpr std::uint8_t bit(Field f) {
    return std::uint8_t(1U << unsigned(f));
}
constexpr std::uint8_t contact_bits = bit(Field::client_id) | bit(Field::ip) | bit(Field::port);

constexpr std::array<std::string_view, 6> field_names = {"clientID", "IP",   "Port",
                                                         "Status",   "Code", "Reason"};

// The headers each message has (spec §5), and which of them are required.
constexpr std::uint8_t fields_of(Method m) {
    switch (m) {
    case Method::register_:
    case Method::bridgeack:
    case Method::chat: return contact_bits;
    case Method::regack: return contact_bits | bit(Field::status);
    case Method::bridge: return bit(Field::client_id);
    case Method::error: return bit(Field::code) | bit(Field::reason);
    default: return 0;
    }
}
constexpr std::uint8_t required_of(Method m) {
    return m == Method::regack ? contact_bits : fields_of(m);
}

// Which methods each context receives (spec §6).
constexpr bool allowed_in(Method m, Context c) {
    switch (c) {
    case Context::request: return m == Method::register_ || m == Method::bridge;
    case Context::response:
        return m == Method::regack || m == Method::bridgeack || m == Method::error;
    case Context::chat_open: return m == Method::chat;
    case Context::chat: return false;
    }
    return false;
}

struct ParseState {
    ParseState(const DecodeOptions& o, Context c, const char* b)
        : options(o), context(c), begin(b), line_start(b) {}

    const DecodeOptions& options;
    Context context;
    const char* begin;
    const char* line_start;

    Method method = Method::none;
    std::size_t headers = 0;
    std::uint8_t seen = 0;
    int last_field = -1;
    bool ignoring = false; // inside a header this message does not have (lenient)
    const char* value_at = nullptr;
    const char* blank_at = nullptr;
    std::array<const char*, 6> value_pos{};

    std::string_view id, host, reason;
    std::string_view turn_text; // a message-framed turn's text (§9.2)
    std::uint16_t port = 0;
    std::uint16_t code = 0;
    bool status = false;
    Framing framing = Framing::crlf;

    Message result;

    [[nodiscard]] bool allows(Leniency l) const noexcept {
        return tcpchat::allows(options.leniency, l);
    }
};

// The first limit the bytes examined prove exceeded, if any (spec §7). `seen_end` is one past
// the furthest byte the parse examined; a CR examined last may still be followed by its LF (at
// the end of the data, or where a rule stopped at the CR) and is not counted as line content. Of
// two limits, the earlier offset wins; on a tie, the line's.
std::optional<Failure> limit_exceeded(const Limits& lim, const char* begin, const char* line_start,
                                      const char* seen_end) {
    std::optional<Failure> found;
    const auto too_long = [&](const char* start, const char* content_end) {
        if (content_end > start && std::size_t(content_end - start) > lim.line_length) {
            found = Failure{Errc::line_too_long, start + lim.line_length,
                            "a line of at most MAX-LINE bytes"};
            return true;
        }
        return false;
    };
    // A rule that failed or stopped at the end (a §9.2 turn of several lines) may have examined
    // whole lines past the last one counted: each is judged, left to right, then the last one.
    for (;;) {
        const void* lf = line_start < seen_end
                             ? std::memchr(line_start, '\n', std::size_t(seen_end - line_start))
                             : nullptr;
        const char* at = static_cast<const char*>(lf);
        if (at == nullptr || at == line_start || at[-1] != '\r') {
            break; // no further CRLF (a bare LF is line content here, and an error later)
        }
        if (too_long(line_start, at - 1)) {
            break;
        }
        line_start = at + 1;
    }
    if (!found) {
        const char* content_end = seen_end;
        if (content_end > line_start && content_end[-1] == '\r') {
            --content_end;
        }
        too_long(line_start, content_end);
    }
    if (std::size_t(seen_end - begin) > lim.message_size) {
        const char* where = begin + lim.message_size;
        if (!found || where < found->at) {
            found =
                Failure{Errc::message_too_large, where, "a message of at most MAX-MESSAGE bytes"};
        }
    }
    return found;
}

// --- actions ------------------------------------------------------------------------------

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

// Every CRLF that ends a line of a framed message or a text line (spec §7: limits per line).
void line_end(const char* cr, const char* next, ParseState& st) {
    const Limits& lim = st.options.limits;
    std::optional<Failure> found;
    if (std::size_t(cr - st.line_start) > lim.line_length) {
        found = Failure{Errc::line_too_long, st.line_start + lim.line_length,
                        "a line of at most MAX-LINE bytes"};
    }
    if (std::size_t(next - st.begin) > lim.message_size) {
        const char* where = st.begin + lim.message_size;
        if (!found || where < found->at) {
            found =
                Failure{Errc::message_too_large, where, "a message of at most MAX-MESSAGE bytes"};
        }
    }
    if (found) {
        throw *found;
    }
    st.line_start = next;
}

struct on_line_end {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        line_end(in.begin(), in.end(), st);
    }
};

template <>
struct action<g::method_token> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        const std::string_view m = in.string_view();
        st.method = m == "REGISTER"    ? Method::register_
                    : m == "REGACK"    ? Method::regack
                    : m == "BRIDGE"    ? Method::bridge
                    : m == "BRIDGEACK" ? Method::bridgeack
                    : m == "CHAT"      ? Method::chat
                    : m == "QUIT"      ? Method::quit
                                       : Method::error;
        if (!allowed_in(st.method, st.context)) {
            throw Failure{Errc::unexpected_method, in.begin(),
                          st.context == Context::request    ? "REGISTER or BRIDGE"
                          : st.context == Context::response ? "REGACK, BRIDGEACK or ERROR"
                                                            : "CHAT"};
        }
    }
};
template <>
struct action<g::method_end> : on_line_end {};

template <>
struct action<g::header_start> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        if (++st.headers > st.options.limits.header_count) {
            throw Failure{Errc::too_many_headers, st.line_start,
                          "at most MAX-HEADERS header lines"};
        }
    }
};

template <>
struct action<g::field_sep> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        const std::size_t ws = in.size() - 1;
        const bool canonical = ws == 1 && in.begin()[1] == ' ';
        const bool ok = canonical || (ws == 0 ? st.allows(Leniency::optional_space)
                                              : st.allows(Leniency::extra_whitespace));
        if (!ok) {
            throw Failure{Errc::bad_separator, in.begin() + 1, "exactly one space after ':'"};
        }
    }
};

template <>
struct action<g::trailing_ows> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        if (in.size() != 0 && !st.allows(Leniency::extra_whitespace)) {
            throw Failure{Errc::trailing_whitespace, in.begin(), "CRLF right after the value"};
        }
    }
};

// A known header's name and separator: is it one this message has, and in order?
template <Field F>
struct on_key {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        st.value_at = in.end();
        if ((fields_of(st.method) & bit(F)) == 0) {
            if (!st.allows(Leniency::unknown_headers)) {
                throw Failure{Errc::unknown_header, st.line_start, "a header of this message"};
            }
            st.ignoring = true;
            return;
        }
        st.ignoring = false;
        if ((st.seen & bit(F)) != 0) {
            throw Failure{Errc::duplicate_header, st.line_start, "each header at most once"};
        }
        if (int(F) < st.last_field && !st.allows(Leniency::any_order)) {
            throw Failure{Errc::header_order, st.line_start, "headers in canonical order"};
        }
        st.seen |= bit(F);
        st.last_field = std::max(st.last_field, int(F));
        st.value_pos[std::size_t(F)] = in.end();
    }
};
template <>
struct action<g::client_id_key> : on_key<Field::client_id> {};
template <>
struct action<g::ip_key> : on_key<Field::ip> {};
template <>
struct action<g::port_key> : on_key<Field::port> {};
template <>
struct action<g::status_key> : on_key<Field::status> {};
template <>
struct action<g::code_key> : on_key<Field::code> {};
template <>
struct action<g::reason_key> : on_key<Field::reason> {};

template <>
struct action<g::extension_key> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        if (!st.allows(Leniency::unknown_headers)) {
            throw Failure{Errc::unknown_header, st.line_start, "a header of this message"};
        }
    }
};

template <>
struct action<g::client_id> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        if (st.ignoring) {
            return;
        }
        if (in.size() > st.options.limits.id_length) {
            throw Failure{Errc::id_too_long, in.begin() + st.options.limits.id_length,
                          "a clientID of at most MAX-ID bytes"};
        }
        st.id = in.string_view();
    }
};

template <>
struct action<g::ip> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        if (!st.ignoring) {
            st.host = in.string_view();
        }
    }
};

template <>
struct action<g::port> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        const std::string_view digits = in.string_view();
        std::uint32_t value = 0;
        for (const char c : digits.substr(digits.size() > 5 ? digits.size() - 5 : 0)) {
            value = value * 10 + std::uint32_t(c - '0');
        }
        const std::size_t significant = digits.find_first_not_of('0');
        const bool too_long =
            significant != std::string_view::npos && digits.size() - significant > 5;
        const bool leading_zero = digits.size() > 1 && digits[0] == '0';
        if (too_long || value == 0 || value > 65535 ||
            (leading_zero && !st.allows(Leniency::port_leading_zeros))) {
            throw Failure{Errc::bad_port, in.begin(), "a port number 1-65535"};
        }
        if (!st.ignoring) {
            st.port = std::uint16_t(value);
        }
    }
};

template <>
struct action<g::status> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        if (!st.ignoring) {
            st.status = true;
        }
    }
};

// The value of the three digits of a Code (spec §5.8).
std::uint16_t code_value(const char* p) {
    return std::uint16_t((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
}

template <>
struct action<g::code> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        if (!st.ignoring) {
            st.code = code_value(in.begin());
        }
    }
};

template <>
struct action<g::reason> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        std::string_view text = in.string_view();
        const std::size_t last = text.find_last_not_of(" \t");
        const std::size_t keep = last == std::string_view::npos ? 0 : last + 1;
        if (keep != text.size() && !st.allows(Leniency::extra_whitespace)) {
            throw Failure{Errc::trailing_whitespace, in.begin() + keep,
                          "CRLF right after the value"};
        }
        if (!st.ignoring) {
            st.reason = text.substr(0, keep);
        }
    }
};

// The CRLF ending a known header: line limits, then an empty value where none is allowed.
struct on_field_end {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        const bool empty = st.value_at == in.begin(); // field-sep took any whitespace
        on_line_end::apply(in, st);
        if (empty && !st.ignoring && st.method != Method::bridgeack) {
            throw Failure{Errc::empty_value, st.value_at, "a value"};
        }
        st.ignoring = false;
    }
};
template <>
struct action<g::client_id_end> : on_field_end {};
template <>
struct action<g::ip_end> : on_field_end {};
template <>
struct action<g::port_end> : on_field_end {};
template <>
struct action<g::status_end> : on_line_end {};
template <>
struct action<g::code_end> : on_line_end {};
template <>
struct action<g::reason_end> : on_line_end {};
// An extension header's end (its value took any trailing whitespace).
template <>
struct action<g::field_end> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        line_end(in.end() - 2, in.end(), st);
    }
};

template <>
struct action<g::blank_line> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        st.blank_at = in.begin();
        on_line_end::apply(in, st);
    }
};

// Sets `out` to the message of method `m` with these header values (spec §5). A BRIDGEACK carries
// a peer when its clientID is present; callers make sure its three values are all present or all
// empty. No framed message has another method (allowed_in).
[[gnu::always_inline]] inline void set_message(Message& out, Method m, const Contact& c,
                                               bool status, std::uint16_t code,
                                               std::string_view reason) {
    switch (m) {
    case Method::register_: out = Register{c}; break;
    case Method::regack: out = RegAck{c, status}; break;
    case Method::bridge: out = Bridge{c.id}; break;
    case Method::bridgeack: out = c.id.empty() ? BridgeAck{} : BridgeAck{c}; break;
    case Method::chat: out = Chat{c}; break;
    case Method::error: out = ErrorReply{code, reason}; break;
    default: break;
    }
}

// A complete framed message: required headers present, then the value (spec §5).
struct on_framed_message {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        const std::uint8_t missing = required_of(st.method) & std::uint8_t(~st.seen);
        if (missing != 0) {
            std::size_t f = 0;
            while ((missing & (1U << f)) == 0) {
                ++f;
            }
            throw Failure{Errc::missing_header, st.blank_at, field_names[f]};
        }
        if (st.method == Method::bridgeack) {
            const bool id = !st.id.empty();
            const bool host = !st.host.empty();
            const bool port = st.port != 0;
            if ((id || host || port) && !(id && host && port)) {
                // A check on the whole message, located at the empty value that comes first in
                // the message, whatever the header order (spec §5.4).
                const char* first = nullptr;
                const auto consider = [&](bool filled, Field f) {
                    const char* at = st.value_pos[std::size_t(f)];
                    if (!filled && (first == nullptr || at < first)) {
                        first = at;
                    }
                };
                consider(id, Field::client_id);
                consider(host, Field::ip);
                consider(port, Field::port);
                throw Failure{Errc::empty_value, first,
                              "all three values, or none (the empty BRIDGEACK)"};
            }
        }
        set_message(st.result, st.method, Contact{st.id, st.host, st.port}, st.status, st.code,
                    st.reason);
    }
};
template <>
struct action<g::request> : on_framed_message {};
template <>
struct action<g::response> : on_framed_message {};
template <>
struct action<g::chat_handshake> : on_framed_message {};

// QUIT's two lines are judged like any other (spec §7); the checks run once the message is
// whole, since quit_message is an alternative that may still be abandoned for a text line.
template <>
struct action<g::quit_message> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        const char* quit_end = in.begin() + 4;
        line_end(quit_end, quit_end + 2, st);
        line_end(quit_end + 2, quit_end + 4, st);
        st.result = Quit{};
    }
};

template <>
struct action<g::text_end> : on_line_end {};

// QUIT-stuffing (spec §5.6): what a text line's text is, as sent.
enum class Stuffing : std::uint8_t {
    none,      // the text itself
    stuffed,   // `\`+`QUIT`: one backslash less
    bare_quit, // `QUIT`: the QUIT message's first line, text only under unstuffed_quit
};
Stuffing stuffing(std::string_view text) noexcept {
    const std::size_t slashes = text.find_first_not_of('\\');
    if (slashes == std::string_view::npos || text.substr(slashes) != "QUIT") {
        return Stuffing::none;
    }
    return slashes > 0 ? Stuffing::stuffed : Stuffing::bare_quit;
}

// A text line's text, unstuffed (spec §5.6): `\`+`QUIT` loses one backslash; a bare `QUIT` line
// that is not the QUIT message is text only under the unstuffed_quit leniency.
Text unstuffed(std::string_view text, const char* at, const ParseState& st) {
    switch (stuffing(text)) {
    case Stuffing::stuffed: text.remove_prefix(1); break;
    case Stuffing::bare_quit:
        if (!st.allows(Leniency::unstuffed_quit)) {
            throw Failure{Errc::unstuffed_quit, at, "\\QUIT for the text QUIT, or QUIT CRLF CRLF"};
        }
        break;
    case Stuffing::none: break;
    }
    return Text{text};
}

template <>
struct action<g::text_line> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        std::string_view text = in.string_view();
        text.remove_suffix(2);
        st.result = unstuffed(text, in.begin(), st);
    }
};

// §9.2: the installed base's turns. Their lines are judged against the limits once the whole
// turn matched, like QUIT's, since each is an alternative that may still be abandoned.
template <>
struct action<g::unterminated_turn> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        st.result = unstuffed(in.string_view(), in.begin(), st);
        st.framing = Framing::bare;
    }
};

template <>
struct action<g::quit_turn> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        st.result = Quit{};
        st.framing = Framing::bare;
    }
};

// A turn of a method line, one text line and the empty line: its three line ends.
void three_line_ends(const char* begin, const char* end, ParseState& st) {
    line_end(begin + 4, begin + 6, st); // CHAT and QUIT are four bytes
    line_end(end - 4, end - 2, st);
    line_end(end - 2, end, st);
}

template <>
struct action<g::quit_farewell> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        three_line_ends(in.begin(), in.end(), st);
        st.result = Quit{};
        st.framing = Framing::message;
    }
};

template <>
struct action<g::message_text> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        st.turn_text = in.string_view();
    }
};

template <>
struct action<g::message_turn> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        three_line_ends(in.begin(), in.end(), st);
        st.result = Text{st.turn_text};
        st.framing = Framing::message;
    }
};

// --- errors -------------------------------------------------------------------------------

// What a failing must<> rule means (spec §8). Unlisted rules are header-line syntax.
template <typename Rule>
struct rule_error {
    static constexpr Errc code = Errc::malformed_header;
    static constexpr std::string_view expected = "a header line: name \":\" value CRLF";
};
template <>
struct rule_error<g::method_token> {
    static constexpr Errc code = Errc::unknown_method;
    static constexpr std::string_view expected =
        "a method (REGISTER, REGACK, BRIDGE, BRIDGEACK, CHAT, QUIT, ERROR)";
};
template <>
struct rule_error<g::method_end> {
    static constexpr Errc code = Errc::unknown_method;
    static constexpr std::string_view expected = "CRLF after the method";
};
template <>
struct rule_error<g::client_id_end> {
    static constexpr Errc code = Errc::bad_client_id;
    static constexpr std::string_view expected = "a clientID (visible ASCII, no spaces) then CRLF";
};
template <>
struct rule_error<g::ip_end> {
    static constexpr Errc code = Errc::bad_ip;
    static constexpr std::string_view expected = "an IPv4 or IPv6 address then CRLF";
};
template <>
struct rule_error<g::port_end> {
    static constexpr Errc code = Errc::bad_port;
    static constexpr std::string_view expected = "a port number 1-65535 then CRLF";
};
template <>
struct rule_error<g::status> {
    static constexpr Errc code = Errc::bad_status;
    static constexpr std::string_view expected = "registered";
};
template <>
struct rule_error<g::status_end> : rule_error<g::status> {};
template <>
struct rule_error<g::code> {
    static constexpr Errc code = Errc::bad_code;
    static constexpr std::string_view expected = "a 3-digit code";
};
template <>
struct rule_error<g::code_end> : rule_error<g::code> {};
template <>
struct rule_error<g::blank_line> {
    static constexpr Errc code = Errc::malformed_header;
    static constexpr std::string_view expected =
        "a header line, or the empty line ending the message";
};
template <>
struct rule_error<g::text_end> {
    static constexpr Errc code = Errc::invalid_byte;
    static constexpr std::string_view expected = "printable text then CRLF";
};

template <typename Rule>
struct raising : pegtl::normal<Rule> {
    template <typename ParseInput, typename... States>
    [[noreturn]] static void raise(const ParseInput& in, States&&... /*st*/) {
        const char* p = in.current();
        Errc code = rule_error<Rule>::code;
        std::string_view expected = rule_error<Rule>::expected;
        const auto byte = in.empty() ? 0 : static_cast<unsigned char>(*p);
        if (in.empty()) {
            code = Errc::truncated;
        } else if (byte == '\n') {
            code = Errc::bare_lf;
            expected = "CR before LF";
        } else if (byte == '\r') {
            if (in.size(2) < 2) {
                code = Errc::truncated; // the LF may be on its way
                ++p;
            } else if (p[1] != '\n') {
                code = Errc::invalid_byte;
                expected = "LF after CR";
            }
        } else if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
            code = Errc::invalid_byte;
        }
        throw Failure{code, p, expected};
    }
};

template <typename Rule>
struct control : raising<Rule> {};

// A turn of three lines (QUIT or CHAT, a text line, the empty line, §9.2) whose text line is
// already past MAX-LINE cannot be: that line is a line of its own, over the limit (§7). Judged on
// the bytes up to the first one past the limit and no further, so that a stream cut anywhere and
// a whole buffer decide the lines before it alike.
template <typename ParseInput>
[[nodiscard]] bool second_line_fits(const ParseInput& in, const ParseState& st) {
    constexpr std::size_t first_line = 6; // "QUIT\r\n" or "CHAT\r\n"
    if (in.size(0) < first_line || in.current()[4] != '\r' || in.current()[5] != '\n') {
        return true; // not such a turn's first line (yet): the rule itself decides
    }
    const std::size_t limit = st.options.limits.line_length;
    const char* p = in.current() + first_line;
    std::size_t n = 0;
    while (p != in.end() && n <= limit) {
        const auto b = static_cast<unsigned char>(*p);
        if ((b < 0x20 && b != '\t') || b == 0x7F) {
            break; // CR, LF or a control byte: the line's content ends here
        }
        ++p;
        ++n;
    }
    return n <= limit;
}

// A rule of §9.2 is tried only when its leniency is on (in the strict profile it is absent).
template <typename Rule>
struct gated : raising<Rule> {
    template <pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
              template <typename...> class Control, typename ParseInput>
    [[nodiscard]] static bool match(ParseInput& in, ParseState& st) {
        if (!st.allows(leniency_of(st))) {
            return false;
        }
        if constexpr (std::is_same_v<Rule, g::quit_farewell> ||
                      std::is_same_v<Rule, g::message_turn>) {
            if (!second_line_fits(in, st)) {
                return false;
            }
        }
        return raising<Rule>::template match<A, M, Action, Control>(in, st);
    }
    static Leniency leniency_of(const ParseState& st) noexcept;
};
template <>
inline Leniency gated<g::message_turn>::leniency_of(const ParseState& /*st*/) noexcept {
    return Leniency::message_turns;
}
template <>
inline Leniency gated<g::quit_farewell>::leniency_of(const ParseState& /*st*/) noexcept {
    return Leniency::quit_forms;
}
template <>
inline Leniency gated<g::quit_turn>::leniency_of(const ParseState& /*st*/) noexcept {
    return Leniency::quit_forms;
}
// The first bytes of a connection that sent no CHAT, or a turn of the chat.
template <>
inline Leniency gated<g::unterminated_turn>::leniency_of(const ParseState& st) noexcept {
    return st.context == Context::chat_open ? Leniency::no_handshake : Leniency::unterminated_turn;
}
template <>
struct control<g::message_turn> : gated<g::message_turn> {};
template <>
struct control<g::quit_farewell> : gated<g::quit_farewell> {};
template <>
struct control<g::quit_turn> : gated<g::quit_turn> {};
template <>
struct control<g::unterminated_turn> : gated<g::unterminated_turn> {};

template <typename Rule, bool Track>
bool run(Input<Track>& in, ParseState& st) {
    return pegtl::parse<Rule, action, control>(in, st);
}

// One parse of the message at the start of [begin, end).
struct Attempt {
    std::optional<Failure> failure;
    bool touched_end = false;
    const char* stop = nullptr;     // where the parse stopped
    const char* seen_end = nullptr; // with Track: one past the furthest byte examined
    const char* line_start = nullptr;
    Message result;
    Framing framing = Framing::crlf;
};

// What a parse that stopped where `in` is made of the message.
template <bool Track>
Attempt outcome(const Input<Track>& in, const ParseState& st, std::optional<Failure> failure) {
    Attempt a;
    a.failure = failure;
    a.touched_end = in.reached_end();
    a.stop = in.current();
    a.seen_end = in.seen_end();
    a.line_start = st.line_start;
    a.result = st.result;
    a.framing = st.framing;
    return a;
}

// Whether the bytes of [line, end), the unfinished last line of the message at `begin`, prove a
// limit exceeded (spec §7; a CR last may still be followed by its LF and is not content).
bool proves_limit(const Limits& lim, const char* begin, const char* line, const char* end) {
    const char* content_end = end > line && end[-1] == '\r' ? end - 1 : end;
    return std::size_t(content_end - line) > lim.line_length ||
           std::size_t(end - begin) > lim.message_size;
}

constexpr std::ptrdiff_t quit_size = 8; // QUIT CRLF CRLF

// Whether [begin, end), a method line without its LF, may still become a method line: a prefix of
// a method, or a method and a prefix of CRLF. When it cannot, the method line's rule decides now,
// as on a whole line (spec §8: an unknown method is an error before its line ends).
bool unfinished_method_line(const char* begin, const char* end) {
    Input<false> in(begin, end);
    const bool method = pegtl::parse<g::method>(in);
    const auto rest = std::size_t(end - in.current());
    // "BRIDGEA" is no BRIDGE line, but may be BRIDGEACK's: any alternative that met the end.
    return in.reached_end() || (method && (rest == 0 || (rest == 1 && *in.current() == '\r')));
}

// The state of a framed message after its checked lines, as offsets from its first byte.
detail::Progress save(const ParseState& st, const char* checked) {
    const auto span = [&](std::string_view v) {
        return v.empty() ? detail::Progress::Span{}
                         : detail::Progress::Span{std::uint32_t(v.data() - st.begin),
                                                  std::uint32_t(v.size())};
    };
    detail::Progress pr;
    pr.checked = std::uint32_t(checked - st.begin);
    pr.method = std::uint8_t(st.method);
    pr.seen = st.seen;
    pr.last_field = st.last_field;
    pr.status = st.status;
    pr.headers = std::uint32_t(st.headers);
    pr.port = st.port;
    pr.code = st.code;
    pr.id = span(st.id);
    pr.host = span(st.host);
    pr.reason = span(st.reason);
    for (std::size_t f = 0; f < st.value_pos.size(); ++f) {
        pr.value_pos[f] =
            st.value_pos[f] == nullptr ? 0 : std::uint32_t(st.value_pos[f] - st.begin) + 1;
    }
    return pr;
}

// Puts the saved state back, over bytes that start where the message does; returns where the
// first line not checked yet starts.
const char* restore(const detail::Progress& pr, ParseState& st) {
    const auto view = [&](detail::Progress::Span s) {
        return s.size == 0 ? std::string_view{} : std::string_view(st.begin + s.at, s.size);
    };
    st.method = Method(pr.method);
    st.seen = pr.seen;
    st.last_field = pr.last_field;
    st.status = pr.status;
    st.headers = pr.headers;
    st.port = pr.port;
    st.code = pr.code;
    st.id = view(pr.id);
    st.host = view(pr.host);
    st.reason = view(pr.reason);
    for (std::size_t f = 0; f < st.value_pos.size(); ++f) {
        st.value_pos[f] = pr.value_pos[f] == 0 ? nullptr : st.begin + pr.value_pos[f] - 1;
    }
    st.line_start = st.begin + pr.checked;
    return st.line_start;
}

// A framed message (spec §4.3: method line, header lines, the empty line), not at the end of the
// stream: matched a line at a time with the rules of framed_message, each line once it is
// complete. An unfinished line within the limits is not looked at: the attempt stops there as a
// need for more bytes (touched_end, Errc::truncated) and records the state in `to`. `from`
// resumes where an earlier attempt on the same message stopped.
template <bool Track>
[[gnu::noinline]] Attempt attempt_framed(Context context, const char* begin, const char* end,
                                         const DecodeOptions& options, const detail::Progress* from,
                                         detail::Progress* to) {
    ParseState st(options, context, begin);
    const char* line = from != nullptr && from->checked != 0 ? restore(*from, st) : begin;
    for (;;) {
        const bool complete = std::memchr(line, '\n', std::size_t(end - line)) != nullptr;
        if (!complete && !proves_limit(options.limits, begin, line, end) &&
            (line != begin || unfinished_method_line(line, end))) {
            Attempt a;
            a.failure = Failure{Errc::truncated, end, "the rest of the line"};
            a.touched_end = true;
            a.stop = a.seen_end = end;
            a.line_start = line;
            if (to != nullptr) {
                *to = save(st, line);
            }
            return a;
        }
        Input<Track> in(line, end);
        bool done = false;
        std::optional<Failure> failure;
        try {
            if (line == begin) {
                run<g::method_line>(in, st);
            } else if (end - line >= 2 && line[0] == '\r' && line[1] == '\n') {
                run<g::blank_line>(in, st);
                on_framed_message::apply(in, st);
                done = true;
            } else if (!run<g::header_line>(in, st)) {
                run<pegtl::must<g::blank_line>>(in, st); // raises: neither a header nor the end
            }
        } catch (const Failure& f) {
            failure = f;
        }
        if (done || failure || in.reached_end()) {
            return outcome(in, st, failure);
        }
        line = in.current();
    }
}

// `turn_ended`: the input runs to the end of the peer's turn (a pause or the end of the stream),
// where the rules of a whole turn apply (§5.6, §9.2).
template <bool Track>
Attempt attempt(Context context, const char* begin, const char* end, const DecodeOptions& options,
                bool turn_ended, const detail::Progress* from, detail::Progress* to) {
    if (!turn_ended && (context == Context::request || context == Context::response)) {
        return attempt_framed<Track>(context, begin, end, options, from, to);
    }
    if (!turn_ended && context == Context::chat_open) {
        // chat_opening: a message-framed first turn (§9.2), else the CHAT message, line by line.
        Input<Track> in(begin, end);
        ParseState st(options, context, begin);
        std::optional<Failure> failure;
        bool matched = false;
        try {
            matched = run<g::message_turn>(in, st);
        } catch (const Failure& f) {
            failure = f;
        }
        if (matched || failure) {
            return outcome(in, st, failure);
        }
        Attempt a = attempt_framed<Track>(context, begin, end, options, from, to);
        // Bytes still to come could make it a message-framed turn after all.
        a.touched_end = a.touched_end || in.reached_end();
        if constexpr (Track) {
            a.seen_end = std::max(a.seen_end, in.seen_end());
        }
        return a;
    }
    Input<Track> in(begin, end);
    ParseState st(options, context, begin);
    std::optional<Failure> failure;
    try {
        bool matched = false;
        switch (context) {
        case Context::request: matched = run<g::request>(in, st); break;
        case Context::response: matched = run<g::response>(in, st); break;
        case Context::chat_open:
            matched = turn_ended ? run<g::opening_turn_end>(in, st) : run<g::chat_opening>(in, st);
            break;
        case Context::chat:
            matched = turn_ended ? run<g::chat_turn_end>(in, st) : run<g::chat_item>(in, st);
            break;
        }
        if (!matched) {
            failure = Failure{Errc::malformed_header, in.current(), "a message"};
        }
    } catch (const Failure& f) {
        failure = f;
    }
    return outcome(in, st, failure);
}

// --- the canonical path -------------------------------------------------------------------

// Nearly every message on the wire is canonical (spec §4.4, §9.1), and every canonical message
// that meets the constraints of §4.4 is accepted with the same value in both profiles. So
// parse_one() first matches the canonical grammar alone: one pass, no per-byte bookkeeping for
// limits, nothing thrown. Anything it does not match completely, or that breaks a constraint
// (an unfinished message, a lenient form, an error, a limit), takes the general path above,
// which alone decides errors and "need more": the canonical path only ever says "message".
namespace canonical {

struct request : pegtl::sor<g::register_message, g::bridge_message> {};
struct response : pegtl::sor<g::regack_message, g::bridgeack_message, g::error_message> {};
struct chat_opening : pegtl::seq<g::chat_message> {};

struct State {
    Method method = Method::none;
    std::string_view id, host, reason;
    std::uint32_t port = 0;
    std::uint16_t code = 0;
    bool status = false;
};

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

template <>
struct action<g::client_id> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, State& st) {
        st.id = in.string_view();
    }
};
template <>
struct action<g::ip> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, State& st) {
        st.host = in.string_view();
    }
};
template <>
struct action<g::canonical_port> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, State& st) {
        std::uint32_t value = 0;
        for (const char* p = in.begin() + 6; p + 2 < in.end(); ++p) { // "Port: " digits CRLF
            value = value * 10 + std::uint32_t(*p - '0');
        }
        st.port = value;
    }
};
template <>
struct action<g::status> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, State& st) {
        st.status = true;
    }
};
template <>
struct action<g::code> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, State& st) {
        st.code = code_value(in.begin());
    }
};
template <>
struct action<g::reason> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, State& st) {
        st.reason = in.string_view();
    }
};

template <Method M>
struct on_message {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, State& st) {
        st.method = M;
    }
};
template <>
struct action<g::register_message> : on_message<Method::register_> {};
template <>
struct action<g::regack_message> : on_message<Method::regack> {};
template <>
struct action<g::bridge_message> : on_message<Method::bridge> {};
template <>
struct action<g::bridgeack_message> : on_message<Method::bridgeack> {};
template <>
struct action<g::chat_message> : on_message<Method::chat> {};
template <>
struct action<g::error_message> : on_message<Method::error> {};

// The header lines of a canonical message of method `m`: all of its headers, Status only when
// present (spec §4.4). No canonical message has more than 4.
std::size_t header_lines(Method m, bool status) {
    return std::size_t(std::popcount(fields_of(m))) - (m == Method::regack && !status ? 1 : 0);
}

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// Whether a complete canonical message within the constraints of §4.4 and the limits of §7 is
// at the start of [begin, end); if so, `step` says which and how long it is.
template <typename Rule>
bool match(const char* begin, const char* end, const Limits& lim, Step& step) {
    pegtl::memory_input<pegtl::tracking_mode::lazy, pegtl::eol::crlf, const char*> in(begin, end,
                                                                                      "");
    State st;
    if (!pegtl::parse<Rule, action>(in, st)) {
        return false;
    }
    const auto length = std::size_t(in.current() - begin);
    // Every line is shorter than the message, so a message within MAX-LINE has no long line.
    const bool within_limits =
        length <= lim.message_size && length <= lim.line_length &&
        (lim.header_count >= 4 || header_lines(st.method, st.status) <= lim.header_count) &&
        st.id.size() <= lim.id_length;
    const bool port_ok = st.port <= 65535;
    const bool reason_ok =
        st.reason.empty() || (!is_wsp(st.reason.front()) && !is_wsp(st.reason.back()));
    if (!within_limits || !port_ok || !reason_ok) {
        return false;
    }
    step.status = Status::message;
    step.consumed = length;
    set_message(step.message, st.method, Contact{st.id, st.host, std::uint16_t(st.port)}, st.status,
                st.code, st.reason);
    return true;
}

// A text line (spec §4.4, §5.6) in the chat context: text bytes found a word at a time, then
// CRLF, within MAX-LINE. A line `QUIT` or `CHAT` may begin a message of several lines (§5.7,
// §9.2), which the general path tells apart.
[[gnu::noinline]] bool text_line(std::string_view bytes, const Limits& lim, Step& step) {
    const std::size_t n = detail::first_non_text(bytes.substr(0, lim.line_length + 1));
    if (n > lim.line_length || n + 2 > lim.message_size || n + 2 > bytes.size() ||
        bytes[n] != '\r' || bytes[n + 1] != '\n') {
        return false;
    }
    std::string_view text = bytes.substr(0, n);
    const Stuffing stuffed = stuffing(text);
    if (stuffed == Stuffing::bare_quit || text == "CHAT") {
        return false;
    }
    if (stuffed == Stuffing::stuffed) {
        text.remove_prefix(1);
    }
    step.status = Status::message;
    step.consumed = n + 2;
    step.message = Text{text};
    step.framing = Framing::crlf;
    return true;
}

} // namespace canonical

} // namespace

namespace detail {

bool parse_canonical(Context context, std::string_view bytes, const Limits& limits, Step& step) {
    const char* begin = bytes.data();
    const char* end = begin + bytes.size();
    switch (context) {
    case Context::request: return canonical::match<canonical::request>(begin, end, limits, step);
    case Context::response: return canonical::match<canonical::response>(begin, end, limits, step);
    case Context::chat_open:
        return canonical::match<canonical::chat_opening>(begin, end, limits, step);
    case Context::chat: return canonical::text_line(bytes, limits, step);
    }
    return false;
}

Step parse_general(Context context, std::string_view bytes, const DecodeOptions& options,
                   bool final, Progress* progress) {
    const char* begin = bytes.data();
    const char* end = begin + bytes.size();
    Step step;
    if (!final && context == Context::chat && bytes.size() <= options.limits.line_length + 1 &&
        std::memchr(begin, '\n', bytes.size()) == nullptr &&
        !proves_limit(options.limits, begin, begin, end)) {
        // The first line, hence any chat item, is unfinished and within the limits: judged once
        // it is complete (a text line is a message of its own, §5.6). More bytes than a line
        // holds, without a LF, prove MAX-LINE exceeded: the parse below says so.
        step.status = Status::need_more;
        step.consumed = bytes.size();
        return step;
    }
    // `progress` is read before it is written, and written only when the attempt needs more.
    Attempt a = attempt<false>(context, begin, end, options, final, progress, progress);
    std::optional<Failure>& failure = a.failure;

    // A result reached by looking past the end of `bytes` may change with more bytes. Limits are
    // judged on every byte the parse examined (for a limit error thrown at a line's end, that was
    // done already), so that a stream cut anywhere reaches the same verdict (spec §4.1, §7).
    const bool touched_end = a.touched_end;
    const auto is_limit = [](const std::optional<Failure>& f) {
        return f && (f->code == Errc::line_too_long || f->code == Errc::message_too_large);
    };
    if (!is_limit(failure) && (failure || touched_end)) {
        const char* seen_end =
            touched_end
                ? end
                : attempt<true>(context, begin, end, options, final, progress, nullptr).seen_end;
        if (!failure && a.framing == Framing::bare && std::holds_alternative<Quit>(a.result)) {
            // A QUIT turn (§5.7) is QUIT itself, at most QUIT CRLF CRLF: the line ends after it
            // are dropped, not part of the message, as when they come after QUIT in a stream.
            seen_end = std::min(seen_end, begin + quit_size);
        }
        // In a chat, a CRLF text line matched while the parse also met the end is QUIT or CHAT
        // whose turn of three lines (§9.2) was tried up to the end, its text line within MAX-LINE
        // (second_line_fits()). Only that turn would be a framed message, so MAX-MESSAGE is not
        // judged on it: with more bytes to come the verdict waits for the byte that decides
        // (MAX-LINE bounds the wait), at the end of the stream there is no turn (§5.7, §7; one-shot
        // decoding sees the byte that rules the turn out).
        const bool text_before_turn =
            context == Context::chat && !failure && a.framing == Framing::crlf;
        auto limit = limit_exceeded(options.limits, begin, a.line_start, seen_end);
        if (limit && !(text_before_turn && limit->code == Errc::message_too_large)) {
            failure = limit;
        }
    }
    const bool decided = final || !touched_end || is_limit(failure);
    if (!decided) {
        step.status = Status::need_more;
        step.consumed = bytes.size();
        return step;
    }
    if (!failure) {
        step.status = Status::message;
        step.consumed = std::size_t(a.stop - begin);
        step.message = a.result;
        step.framing = a.framing;
        return step;
    }
    if (final && touched_end && !is_limit(failure)) {
        // The stream ended while more bytes could still have made a message (spec §8).
        failure = Failure{Errc::truncated, end, failure->expected};
    }
    step.status = Status::error;
    step.error = DecodeError{failure->code, std::uint64_t(failure->at - begin), failure->expected};
    return step;
}

} // namespace detail

Decoded decode(Context context, std::string_view bytes, const DecodeOptions& options) {
    if (bytes.empty()) {
        return DecodeError{Errc::truncated, 0, "a message"};
    }
    Step step = detail::parse_one(context, bytes, options, true);
    if (step.status == Status::error) {
        return step.error;
    }
    if (step.consumed != bytes.size()) {
        return DecodeError{Errc::trailing_data, step.consumed, "the end of the message"};
    }
    return step.message;
}

StreamResult decode_stream(Context context, std::string_view bytes, const DecodeOptions& options) {
    StreamResult result;
    std::size_t offset = 0;
    bool quit = false;
    while (offset < bytes.size()) {
        if (quit) {
            offset += detail::line_ends_after_quit(bytes.substr(offset), options);
            if (offset == bytes.size()) {
                break;
            }
            result.error = DecodeError{Errc::data_after_quit, offset, "nothing after QUIT"};
            break;
        }
        Step step = detail::parse_one(context, bytes.substr(offset), options, true);
        if (step.status == Status::error) {
            step.error.offset += offset;
            result.error = step.error;
            break;
        }
        offset += step.consumed;
        context = detail::next_context(context, step.message);
        quit = std::holds_alternative<Quit>(step.message);
        result.messages.push_back(step.message);
    }
    return result;
}

} // namespace tcpchat
