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
#include <limits>
#include <optional>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
    static constexpr bool tracks = Track;

    Input(const char* begin, const char* end) : base(begin, end, ""), seen_end_(begin) {}
    // The bytes left, not recorded as examined.
    [[nodiscard]] std::size_t base_size() const noexcept { return base::size(0); }

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
    // Rules that compare bytes themselves say how many they looked at (the controls of literals).
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

// Each method (spec §4.2) with its method line: the one table that the grammar's action, the
// canonical match and the check of an unfinished method line read.
struct MethodLine {
    Method method;
    std::string_view line; // the method's name, then CRLF
    [[nodiscard]] constexpr std::string_view name() const {
        return line.substr(0, line.size() - 2);
    }
};
constexpr std::array<MethodLine, 7> method_lines{{
    {Method::register_, "REGISTER\r\n"},
    {Method::regack, "REGACK\r\n"},
    {Method::bridge, "BRIDGE\r\n"},
    {Method::bridgeack, "BRIDGEACK\r\n"},
    {Method::chat, "CHAT\r\n"},
    {Method::quit, "QUIT\r\n"},
    {Method::error, "ERROR\r\n"},
}};
// The entry of `m`, for a lookup at compile time.
constexpr const MethodLine& method_line_of(Method m) {
    return method_lines[std::size_t(m) - 1];
}
static_assert([] {
    for (std::size_t i = 0; i < method_lines.size(); ++i) {
        if (method_lines[i].method != Method(i + 1)) {
            return false;
        }
    }
    return true;
}());

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
    ParseState(const DecodeOptions& o, Context c, const char* b, Message& r)
        : options(o), context(c), begin(b), line_start(b), result(r) {}

    const DecodeOptions& options;
    Context context;
    const char* begin;
    const char* line_start;

    // What the lines so far said (the method, the headers seen, the values), as offsets from
    // `begin`: the stream decoder keeps it as it is when a message arrives in pieces.
    detail::Progress said;
    bool ignoring = false; // inside a header this message does not have (lenient)
    const char* value_at = nullptr;
    const char* blank_at = nullptr;
    std::string_view turn_text; // a message-framed turn's text (§9.2)
    Framing framing = Framing::crlf;

    [[nodiscard]] Method method() const noexcept { return Method(said.method); }
    [[nodiscard]] detail::Progress::Span span(std::string_view v) const noexcept {
        return {std::uint32_t(v.data() - begin), std::uint32_t(v.size())};
    }
    [[nodiscard]] std::string_view view(detail::Progress::Span s) const noexcept {
        return {begin + s.at, s.size};
    }

    Message& result; // the caller's: a decoded message is built where it is returned

    [[nodiscard]] bool allows(Leniency l) const noexcept {
        return tcpchat::allows(options.leniency, l);
    }
};

// The first limit the bytes examined prove exceeded, if any (spec §7). `seen_end` is one past
// the furthest byte the parse examined. A line is too long when its byte at line start + MAX-LINE
// is line content: a CR there may still start its CRLF, and an LF or a control byte there (or
// before it) is that byte's own error, which the parse reports (§4.1). Of two limits, the earlier
// offset wins; on a tie, the line's.
std::optional<Failure> limit_exceeded(const Limits& lim, const char* begin, const char* line_start,
                                      const char* seen_end) {
    std::optional<Failure> found;
    const auto too_long = [&](const char* start, const char* bytes_end) {
        if (bytes_end <= start || std::size_t(bytes_end - start) <= lim.line_length ||
            detail::first_non_text({start, lim.line_length + 1}) <= lim.line_length) {
            return false;
        }
        found = Failure{Errc::line_too_long, start + lim.line_length,
                        "a line of at most MAX-LINE bytes"};
        return true;
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
        too_long(line_start, seen_end);
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
[[gnu::noinline]] void limit_at_line_end(const char* cr, const char* next, const ParseState& st) {
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
    throw *found;
}

[[gnu::always_inline]] inline void line_end(const char* cr, const char* next, ParseState& st) {
    const Limits& lim = st.options.limits;
    if (std::size_t(cr - st.line_start) > lim.line_length ||
        std::size_t(next - st.begin) > lim.message_size) [[unlikely]] {
        limit_at_line_end(cr, next, st);
    }
    st.line_start = next;
}

struct on_line_end {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        line_end(in.begin(), in.end(), st);
    }
};

// The method of a method line's token (spec §4.2).
Method method_named(std::string_view m) noexcept {
    const auto* it = std::find_if(method_lines.begin(), method_lines.end(),
                                  [&](const MethodLine& entry) { return entry.name() == m; });
    return it != method_lines.end() ? it->method : Method::none;
}

// The value rules below are each called by both ways of matching a line: the grammar's actions
// and the canonical line match (CanonicalLine). They throw Failure on a rule broken.

[[gnu::always_inline]] inline void on_method(Method m, const char* at, ParseState& st) {
    st.said.method = std::uint8_t(m);
    if (!allowed_in(m, st.context)) {
        throw Failure{Errc::unexpected_method, at,
                      st.context == Context::request    ? "REGISTER or BRIDGE"
                      : st.context == Context::response ? "REGACK, BRIDGEACK or ERROR"
                                                        : "CHAT"};
    }
}

template <>
struct action<g::method_token> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_method(method_named(in.string_view()), in.begin(), st);
    }
};
template <>
struct action<g::method_end> : on_line_end {};

[[gnu::always_inline]] inline void on_header_start(ParseState& st) {
    if (++st.said.headers > st.options.limits.header_count) {
        throw Failure{Errc::too_many_headers, st.line_start, "at most MAX-HEADERS header lines"};
    }
}

template <>
struct action<g::header_start> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        on_header_start(st);
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

// A known header's name and separator, ending at `value`: is it one this message has, and in
// order?
template <Field F>
[[gnu::always_inline]] inline void on_key(const char* value, ParseState& st) {
    st.value_at = value;
    if ((fields_of(st.method()) & bit(F)) == 0) {
        if (!st.allows(Leniency::unknown_headers)) {
            throw Failure{Errc::unknown_header, st.line_start, "a header of this message"};
        }
        st.ignoring = true;
        return;
    }
    st.ignoring = false;
    detail::Progress& said = st.said;
    if ((said.seen & bit(F)) != 0) {
        throw Failure{Errc::duplicate_header, st.line_start, "each header at most once"};
    }
    if (int(F) < said.last_field && !st.allows(Leniency::any_order)) {
        throw Failure{Errc::header_order, st.line_start, "headers in canonical order"};
    }
    said.seen |= bit(F);
    said.last_field = std::max(said.last_field, std::int32_t(F));
    said.value_pos[std::size_t(F)] = std::uint32_t(value - st.begin);
}

template <Field F>
struct on_key_action {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_key<F>(in.end(), st);
    }
};
template <>
struct action<g::client_id_key> : on_key_action<Field::client_id> {};
template <>
struct action<g::ip_key> : on_key_action<Field::ip> {};
template <>
struct action<g::port_key> : on_key_action<Field::port> {};
template <>
struct action<g::status_key> : on_key_action<Field::status> {};
template <>
struct action<g::code_key> : on_key_action<Field::code> {};
template <>
struct action<g::reason_key> : on_key_action<Field::reason> {};

template <>
struct action<g::extension_key> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        if (!st.allows(Leniency::unknown_headers)) {
            throw Failure{Errc::unknown_header, st.line_start, "a header of this message"};
        }
    }
};

[[gnu::always_inline]] inline void on_client_id(std::string_view id, ParseState& st) {
    if (st.ignoring) {
        return;
    }
    if (id.size() > st.options.limits.id_length) {
        throw Failure{Errc::id_too_long, id.data() + st.options.limits.id_length,
                      "a clientID of at most MAX-ID bytes"};
    }
    st.said.id = st.span(id);
}

[[gnu::always_inline]] inline void on_ip(std::string_view host, ParseState& st) {
    if (!st.ignoring) {
        st.said.host = st.span(host);
    }
}

// A Port's digits (spec §4.3): 1-65535, a leading zero only under port_leading_zeros.
[[gnu::always_inline]] inline void on_port(std::string_view digits, ParseState& st) {
    std::uint32_t value = 0;
    bool too_large = false; // above 65535, however many digits
    if (digits.size() <= 5) {
        for (const char c : digits) {
            value = value * 10 + std::uint32_t(c - '0');
        }
        too_large = value > 65535;
    } else {
        for (const char c : digits) {
            value = value * 10 + std::uint32_t(c - '0');
            if (value > 65535) {
                too_large = true;
                break;
            }
        }
    }
    const bool leading_zero = digits.size() > 1 && digits[0] == '0';
    if (too_large || value == 0 || (leading_zero && !st.allows(Leniency::port_leading_zeros))) {
        throw Failure{Errc::bad_port, digits.data(), "a port number 1-65535"};
    }
    if (!st.ignoring) {
        st.said.port = std::uint16_t(value);
    }
}

[[gnu::always_inline]] inline void on_status(ParseState& st) {
    if (!st.ignoring) {
        st.said.status = true;
    }
}

// The three digits of a Code (spec §5.8).
[[gnu::always_inline]] inline void on_code(const char* digits, ParseState& st) {
    if (!st.ignoring) {
        st.said.code =
            std::uint16_t((digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0'));
    }
}

// A Reason: field-content, which neither starts nor ends with whitespace (spec §4.3).
[[gnu::always_inline]] inline void on_reason(std::string_view text, ParseState& st) {
    if (!st.ignoring) {
        st.said.reason = st.span(text);
    }
}

template <>
struct action<g::client_id> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_client_id(in.string_view(), st);
    }
};
template <>
struct action<g::ip> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_ip(in.string_view(), st);
    }
};
template <>
struct action<g::port> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_port(in.string_view(), st);
    }
};
template <>
struct action<g::status> {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        on_status(st);
    }
};
template <>
struct action<g::code> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_code(in.begin(), st);
    }
};
template <>
struct action<g::reason> {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_reason(in.string_view(), st);
    }
};

// The CRLF at `cr` ending a known header: line limits, then an empty value where none is allowed.
[[gnu::always_inline]] inline void on_field_end(const char* cr, ParseState& st) {
    const bool empty = st.value_at == cr; // field-sep took any whitespace
    line_end(cr, cr + 2, st);
    if (empty && !st.ignoring && st.method() != Method::bridgeack) {
        throw Failure{Errc::empty_value, st.value_at, "a value"};
    }
    st.ignoring = false;
}

struct on_field_end_action {
    template <typename ActionInput>
    static void apply(const ActionInput& in, ParseState& st) {
        on_field_end(in.begin(), st);
    }
};
template <>
struct action<g::client_id_end> : on_field_end_action {};
template <>
struct action<g::ip_end> : on_field_end_action {};
template <>
struct action<g::port_end> : on_field_end_action {};
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
[[gnu::always_inline]] inline void on_message_end(ParseState& st) {
    const detail::Progress& said = st.said;
    const Method method = st.method();
    const std::uint8_t missing = required_of(method) & std::uint8_t(~said.seen);
    if (missing != 0) {
        std::size_t f = 0;
        while ((missing & (1U << f)) == 0) {
            ++f;
        }
        throw Failure{Errc::missing_header, st.blank_at, field_names[f]};
    }
    if (method == Method::bridgeack) {
        const bool id = said.id.size != 0;
        const bool host = said.host.size != 0;
        const bool port = said.port != 0;
        if ((id || host || port) && !(id && host && port)) {
            // A check on the whole message, located at the empty value that comes first in
            // the message, whatever the header order (spec §5.4).
            const char* first = nullptr;
            const auto consider = [&](bool filled, Field f) {
                const char* at = st.begin + said.value_pos[std::size_t(f)];
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
    set_message(st.result, method, Contact{st.view(said.id), st.view(said.host), said.port},
                said.status, said.code, st.view(said.reason));
}

struct on_framed_message {
    template <typename ActionInput>
    static void apply(const ActionInput& /*in*/, ParseState& st) {
        on_message_end(st);
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

// A literal of the grammar (grammar::str), which compares bytes itself.
template <typename Rule>
inline constexpr bool is_literal = false;
template <char... Cs>
inline constexpr bool is_literal<g::str<Cs...>> = true;

// How many bytes the literal `Cs` examines at the input's position: all of them when they match,
// up to the first that differs, or up to the end of the input.
template <char... Cs>
std::size_t literal_examined(const char* p, std::size_t available, g::str<Cs...>* /*tag*/) {
    static constexpr std::array<char, sizeof...(Cs)> text{Cs...};
    const std::size_t n = std::min(available, text.size());
    const auto same =
        std::size_t(std::mismatch(text.begin(), text.begin() + n, p).first - text.begin());
    return same < n ? same + 1 : n;
}

template <typename Rule>
struct raising : pegtl::normal<Rule> {
    // An input that records how far rules looked (Input<true>) learns it of literals here: the
    // grammar's rules know nothing of inputs.
    template <pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
              template <typename...> class Control, typename ParseInput, typename... States>
    [[nodiscard]] static bool match(ParseInput& in, States&&... st) {
        if constexpr (ParseInput::tracks && is_literal<typename Rule::rule_t>) {
            in.examined(literal_examined(in.current(), in.base_size(),
                                         static_cast<typename Rule::rule_t*>(nullptr)));
        }
        return pegtl::normal<Rule>::template match<A, M, Action, Control>(in, st...);
    }

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
constexpr std::size_t first_line_of_turn = 6; // "QUIT\r\n" or "CHAT\r\n"

template <typename ParseInput>
[[nodiscard]] bool second_line_fits(const ParseInput& in, const ParseState& st) {
    if (in.size(0) < first_line_of_turn || in.current()[4] != '\r' || in.current()[5] != '\n') {
        return true; // not such a turn's first line (yet): the rule itself decides
    }
    const std::size_t limit = st.options.limits.line_length;
    const char* p = in.current() + first_line_of_turn;
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
    const std::string_view bytes(begin, std::size_t(end - begin));
    return std::any_of(method_lines.begin(), method_lines.end(),
                       [&](const MethodLine& m) { return m.line.starts_with(bytes); });
}

// Records in `to` the state of a framed message after its checked lines, which end at `checked`.
void save(const ParseState& st, const char* checked, detail::Progress& to) {
    to = st.said;
    to.checked = std::uint32_t(checked - st.begin);
}

// Puts the saved state back, over bytes that start where the message does; returns where the
// first line not checked yet starts.
const char* restore(const detail::Progress& pr, ParseState& st) {
    st.said = pr;
    st.line_start = st.begin + pr.checked;
    return st.line_start;
}

// One past the VCHAR bytes (0x21-0x7E: a clientID's, spec §4.3) from `p` on; sixteen at a time
// with SSE2 where the target has it (every x86-64).
const char* vchar_end(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
    while (end - p >= 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // x - 0x21, wrapping, is at most 0x5D exactly for a VCHAR (unsigned: min(t, 0x5D) == t).
        const __m128i t = _mm_sub_epi8(x, _mm_set1_epi8(0x21));
        const __m128i vchar = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(0x5D)), t);
        const auto other = ~unsigned(_mm_movemask_epi8(vchar)) & 0xFFFFU;
        if (other != 0) {
            return p + std::countr_zero(other);
        }
        p += 16;
    }
#endif
    while (p != end && *p >= 0x21 && *p <= 0x7E) {
        ++p;
    }
    return p;
}

// The lines of a framed message in their canonical form (spec §4.4), matched by comparing bytes
// and given to the same value rules as the grammar's actions: the line at `line`, complete in
// [line, end). Each returns one past the line's LF, or nullptr when the line is not canonical or
// not complete: then nothing changed, and the grammar matches the line instead. A value rule
// broken throws, as it does from the grammar.
class CanonicalLine {
  public:
    CanonicalLine(const char* line, const char* end, ParseState& st)
        : line_(line), end_(end), st_(st) {}

    // `done` when the line was the empty line that ends the message.
    [[gnu::always_inline]] const char* match(bool& done) {
        return line_ == st_.begin ? method_line() : header_line(done);
    }

    // The method line.
    [[gnu::always_inline]] const char* method_line() {
        if (line_ == end_) {
            return nullptr; // nothing of the line yet
        }
        switch (line_[0]) {
        case 'R': {
            const char* next = method<Method::register_>();
            return next != nullptr ? next : method<Method::regack>();
        }
        case 'B': {
            const char* next = method<Method::bridgeack>();
            return next != nullptr ? next : method<Method::bridge>();
        }
        case 'C': return method<Method::chat>();
        case 'Q': return method<Method::quit>();
        case 'E': return method<Method::error>();
        default: return nullptr;
        }
    }

    // A header line, or the empty line (`done`).
    [[gnu::always_inline]] const char* header_line(bool& done) {
        return line_ == end_ ? nullptr : header_cases(done);
    }

  private:
    [[nodiscard]] bool crlf_at(const char* p) const noexcept {
        std::uint16_t two = 0;
        if (end_ - p >= 2) {
            std::memcpy(&two, p, 2);
        }
        return two == crlf;
    }
    static constexpr std::uint16_t crlf = std::endian::native == std::endian::little
                                              ? std::uint16_t('\r' | '\n' << 8)
                                              : std::uint16_t('\r' << 8 | '\n');
    // The empty line that ends the message.
    [[gnu::always_inline]] const char* blank_line(bool& done) {
        if (!crlf_at(line_)) {
            return nullptr;
        }
        st_.blank_at = line_;
        line_end(line_, line_ + 2, st_);
        on_message_end(st_);
        done = true;
        return line_ + 2;
    }
    // The line starts with `text`; a literal's length is known, so is the comparison's.
    template <std::size_t N>
    [[nodiscard]] bool starts(const char (&text)[N]) const noexcept {
        return std::size_t(end_ - line_) >= N - 1 && std::memcmp(line_, text, N - 1) == 0;
    }
    // The method line of `M`, from the table.
    template <Method M>
    [[gnu::always_inline]] const char* method() {
        constexpr std::string_view line = method_line_of(M).line;
        if (std::size_t(end_ - line_) < line.size() ||
            std::memcmp(line_, line.data(), line.size()) != 0) {
            return nullptr;
        }
        on_method(M, line_, st_);
        const char* cr = line_ + line.size() - 2;
        line_end(cr, cr + 2, st_);
        return cr + 2;
    }
    // A known header whose value is [value, cr), canonical up to a CRLF at `cr` (nullptr: none).
    template <Field F>
    [[gnu::always_inline]] const char* header(const char* value, const char* cr) {
        if (cr == nullptr || !crlf_at(cr)) {
            return nullptr;
        }
        const std::string_view v(value, std::size_t(cr - value));
        on_header_start(st_);
        on_key<F>(value, st_);
        if constexpr (F == Field::client_id) {
            if (!v.empty()) {
                on_client_id(v, st_);
            }
        } else if constexpr (F == Field::ip) {
            if (!v.empty()) {
                on_ip(v, st_);
            }
        } else if constexpr (F == Field::port) {
            if (!v.empty()) {
                on_port(v, st_);
            }
        } else if constexpr (F == Field::status) {
            on_status(st_);
        } else if constexpr (F == Field::code) {
            on_code(value, st_);
        } else {
            on_reason(v, st_);
        }
        if constexpr (F == Field::client_id || F == Field::ip || F == Field::port) {
            on_field_end(cr, st_);
        } else {
            line_end(cr, cr + 2, st_);
        }
        return cr + 2;
    }
    // One past the bytes from `p` on that `pred` holds of.
    template <typename Pred>
    const char* span(const char* p, Pred pred) const {
        while (p != end_ && pred(*p)) {
            ++p;
        }
        return p;
    }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }
    // One past at most five digits at `p`, with five bytes there to read.
    static const char* digits_end(const char* p) {
        const char* last = p + 5;
        while (p != last && is_digit(*p)) {
            ++p;
        }
        return p;
    }

    [[gnu::always_inline]] const char* header_cases(bool& done) {
        switch (line_[0]) {
        case '\r': return blank_line(done);
        case 'c': return field_line<Field::client_id>();
        case 'I': return field_line<Field::ip>();
        case 'P': return field_line<Field::port>();
        case 'S': return field_line<Field::status>();
        case 'C': return field_line<Field::code>();
        case 'R': return field_line<Field::reason>();
        default: return nullptr;
        }
    }

  public:
    // The header line of field `F` in its canonical form.
    template <Field F>
    [[gnu::always_inline]] const char* field_line() {
        if constexpr (F == Field::client_id) {
            if (starts("clientID: ")) {
                const char* v = line_ + 10;
                return header<Field::client_id>(v, vchar_end(v, end_));
            }
        } else if constexpr (F == Field::ip) {
            if (starts("IP: ")) {
                // A dotted quad to the end of the line; IPv6 is the grammar's.
                const char* v = line_ + 4;
                return header<Field::ip>(v, crlf_at(v) ? v : detail::ipv4_end(v, end_));
            }
        } else if constexpr (F == Field::port) {
            if (starts("Port: ")) {
                // Up to five digits, then CRLF: more are no canonical port.
                const char* v = line_ + 6;
                return header<Field::port>(v, end_ - v >= 5 ? digits_end(v) : span(v, is_digit));
            }
        } else if constexpr (F == Field::status) {
            if (starts("Status: registered\r\n")) {
                return header<Field::status>(line_ + 8, line_ + 18);
            }
        } else if constexpr (F == Field::code) {
            if (starts("Code: ")) {
                const char* v = line_ + 6;
                const char* cr = span(v, is_digit);
                return header<Field::code>(v, cr == v + 3 ? cr : nullptr);
            }
        } else {
            if (starts("Reason: ")) {
                // field-content: text bytes (VCHAR, obs-text, WSP), whitespace inside only.
                const char* v = line_ + 8;
                const std::string_view rest(v, std::size_t(end_ - v));
                const char* cr = v + detail::first_non_text(rest);
                const auto wsp = [](char c) { return c == ' ' || c == '\t'; };
                const bool trimmed = cr == v || (!wsp(*v) && !wsp(cr[-1]));
                return header<Field::reason>(v, trimmed ? cr : nullptr);
            }
        }
        return nullptr;
    }

  private:
    const char* line_;
    const char* end_;
    ParseState& st_;
};

// Where matching a framed message's canonical lines stopped.
enum class Stop : std::uint8_t {
    message, // at the end of its empty line: the message is decoded
    line,    // at a line not canonical or not complete, for the grammar to go on from
    broken,  // in a line that breaks a rule, which the grammar then reports
};

// The lines of a framed message from `line` on, in one loop while each is canonical and complete
// (spec §4.4): the whole message's path, with no state kept between lines but `st`. On return,
// `line` is where matching stopped.
Stop canonical_lines(const char*& line, const char* end, ParseState& st) {
    try {
        if (line == st.begin) {
            const char* next = CanonicalLine(line, end, st).method_line();
            if (next == nullptr) {
                return Stop::line;
            }
            line = next;
        }
        // Contact headers in the canonical order (clientID, IP, Port) are matched one after the
        // other, without choosing each line by its first byte; a line out of that order is where
        // the loop below goes on.
        if ((fields_of(st.method()) & contact_bits) == contact_bits && line != end) {
            const char* next = CanonicalLine(line, end, st).field_line<Field::client_id>();
            if (next != nullptr) {
                line = next;
                next = CanonicalLine(line, end, st).field_line<Field::ip>();
            }
            if (next != nullptr) {
                line = next;
                next = CanonicalLine(line, end, st).field_line<Field::port>();
            }
            if (next != nullptr) {
                line = next;
            }
        }
        for (;;) {
            bool done = false;
            const char* next = CanonicalLine(line, end, st).header_line(done);
            if (next == nullptr) {
                return Stop::line;
            }
            line = next;
            if (done) {
                return Stop::message;
            }
        }
    } catch (const Failure& /*broken*/) {
        return Stop::broken;
    }
}

// What a parse that stopped at `stop`, at a line's end, made of the message.
Attempt at_line_end(const ParseState& st, const char* stop, std::optional<Failure> failure) {
    Attempt a;
    a.failure = failure;
    a.stop = a.seen_end = stop;
    a.line_start = st.line_start;
    a.framing = st.framing;
    return a;
}

// A framed message (spec §4.3: method line, header lines, the empty line), not at the end of the
// stream: matched a line at a time, each line once it is complete, in its canonical form by
// comparing bytes (CanonicalLine), else with the rules of framed_message. An unfinished line
// within the limits is not looked at: the attempt stops there as a need for more bytes
// (touched_end, Errc::truncated) and records the state in `to`. `from` resumes where an earlier
// attempt on the same message stopped.
template <bool Track>
[[gnu::noinline]] Attempt attempt_framed(Context context, const char* begin, const char* end,
                                         const DecodeOptions& options, detail::Matching matching,
                                         const detail::Progress* from, detail::Progress* to,
                                         Message& result) {
    ParseState st(options, context, begin, result);
    const char* line = from != nullptr && from->checked != 0 ? restore(*from, st) : begin;
    // The byte comparisons judge no limit on bytes they did not match: a parse that tracks what
    // it examined (Track) uses the grammar alone.
    const bool fast = !Track && matching == detail::Matching::fast;
    for (;;) {
        if (fast) {
            bool done = false;
            try {
                if (const char* next = CanonicalLine(line, end, st).match(done)) {
                    if (done) {
                        return at_line_end(st, next, std::nullopt);
                    }
                    line = next;
                    continue;
                }
            } catch (const Failure& f) {
                return at_line_end(st, line, f);
            }
        }
        const bool complete =
            line != end && std::memchr(line, '\n', std::size_t(end - line)) != nullptr;
        if (!complete && !proves_limit(options.limits, begin, line, end) &&
            (line != begin || unfinished_method_line(line, end))) {
            Attempt a;
            a.failure = Failure{Errc::truncated, end, "the rest of the line"};
            a.touched_end = true;
            a.stop = a.seen_end = end;
            a.line_start = line;
            if (to != nullptr) {
                save(st, line, *to);
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
                on_message_end(st);
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

// A framed message before the end of the stream: in chat_open, a message-framed first turn
// (§9.2), else the CHAT message; either way line by line.
template <bool Track>
Attempt attempt_opening_or_framed(Context context, const char* begin, const char* end,
                                  const DecodeOptions& options, detail::Matching matching,
                                  const detail::Progress* from, detail::Progress* to,
                                  Message& result) {
    if (context != Context::chat_open) {
        return attempt_framed<Track>(context, begin, end, options, matching, from, to, result);
    }
    Input<Track> in(begin, end);
    ParseState st(options, context, begin, result);
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
    Attempt a = attempt_framed<Track>(context, begin, end, options, matching, from, to, result);
    // Bytes still to come could make it a message-framed turn after all.
    a.touched_end = a.touched_end || in.reached_end();
    if constexpr (Track) {
        a.seen_end = std::max(a.seen_end, in.seen_end());
    }
    return a;
}

// `turn_ended`: the input runs to the end of the peer's turn (a pause or the end of the stream),
// where the rules of a whole turn apply (§5.6, §9.2).
template <bool Track>
Attempt attempt(Context context, const char* begin, const char* end, const DecodeOptions& options,
                bool turn_ended, detail::Matching matching, const detail::Progress* from,
                detail::Progress* to, Message& result) {
    const bool framed = context != Context::chat;
    if (framed && (!turn_ended || (!Track && matching == detail::Matching::fast))) {
        Attempt a = attempt_opening_or_framed<Track>(context, begin, end, options, matching, from,
                                                     to, result);
        // A framed message complete before the end is the same at the end of the turn.
        if (!turn_ended || (!a.failure && !a.touched_end)) {
            return a;
        }
    }
    Input<Track> in(begin, end);
    ParseState st(options, context, begin, result);
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

// Whether a chat item starting with `bytes` may be a framed message (QUIT, §5.7) or a turn of
// three lines (§9.2): only one whose first line is, or may still become, `QUIT` or `CHAT`.
bool may_be_framed_turn(std::string_view bytes) noexcept {
    const std::size_t n = std::min<std::size_t>(bytes.size(), 6);
    return bytes.substr(0, n) == std::string_view("QUIT\r\n").substr(0, n) ||
           bytes.substr(0, n) == std::string_view("CHAT\r\n").substr(0, n);
}

// --- the canonical text line -------------------------------------------------------------

// Nearly every message on the wire is canonical (spec §4.4, §9.1). A framed message's canonical
// lines are matched by comparing bytes (CanonicalLine); in a chat, a text line is one message
// of its own, matched here. Either says only "matched" (or, of a text line's first bytes,
// "unfinished"): anything else takes the grammar.
namespace canonical {

// What text_line() found at the start of the bytes.
enum class Line : std::uint8_t {
    text,       // a text line, decoded
    unfinished, // text bytes to the end and no more: the start of a line (no LF among them)
    other,      // anything else, for the general path
};

// A text line (spec §4.4, §5.6) in the chat context: text bytes found a word at a time, then
// CRLF, within MAX-LINE. A line `QUIT` or `CHAT` may begin a message of several lines (§5.7,
// §9.2), which the general path tells apart.
[[gnu::noinline]] Line text_line(std::string_view bytes, const Limits& lim, detail::Parsed& step) {
    const std::size_t n = detail::first_non_text(bytes.substr(0, lim.line_length + 1));
    if (n == bytes.size()) {
        return Line::unfinished;
    }
    if (n > lim.line_length || n + 2 > bytes.size() || bytes[n] != '\r' || bytes[n + 1] != '\n') {
        return Line::other;
    }
    std::string_view text = bytes.substr(0, n);
    const Stuffing stuffed = stuffing(text);
    if (stuffed == Stuffing::bare_quit || text == "CHAT") {
        return Line::other;
    }
    if (stuffed == Stuffing::stuffed) {
        text.remove_prefix(1);
    }
    step.status = Status::message;
    step.consumed = n + 2;
    step.message = Text{text};
    step.framing = Framing::crlf;
    return Line::text;
}

} // namespace canonical

} // namespace

namespace detail {

namespace {

// Whether the first line of the chat item at the start of `bytes` is unfinished and within the
// limits (§7). A text line is bounded by MAX-LINE only; the first bytes of QUIT CRLF or CHAT CRLF
// are not judged against MAX-MESSAGE before the byte that decides whether a turn of several lines
// may follow. More bytes than a line holds, without a LF, prove MAX-LINE exceeded.
bool unfinished_first_line(std::string_view bytes, const Limits& limits) {
    if (bytes.size() > limits.line_length + 1 ||
        std::memchr(bytes.data(), '\n', bytes.size()) != nullptr) {
        return false;
    }
    if (bytes.size() <= std::min(limits.line_length, limits.message_size)) {
        return true; // what the check below finds, without it
    }
    Limits line = limits;
    if (bytes.size() < first_line_of_turn || !may_be_framed_turn(bytes)) {
        line.message_size = std::numeric_limits<std::size_t>::max();
    }
    return !proves_limit(line, bytes.data(), bytes.data(), bytes.data() + bytes.size());
}

// parse_one() past the canonical match: the grammar, from `from` on when it resumes a framed
// message; `progress` records where it stopped when it needs more. Apart, so that the canonical
// path's call does not pay for this one's frame.
[[gnu::noinline]] Step parse_general(Context context, std::string_view bytes,
                                     const DecodeOptions& options, bool final, Parsed& step,
                                     const Progress* from, Progress* progress, Matching matching) {
    const char* begin = bytes.data();
    const char* end = begin + bytes.size();
    // A text line is bounded by MAX-LINE only (§7): a chat item that cannot be a turn of several
    // lines is judged without MAX-MESSAGE.
    constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();
    if (context == Context::chat && options.limits.message_size != unbounded &&
        !may_be_framed_turn(bytes)) {
        DecodeOptions text_options = options;
        text_options.limits.message_size = unbounded;
        return parse_one(context, bytes, text_options, final, step, progress, matching);
    }
    // `from` is read before `progress` is written, which is written only when the attempt needs
    // more. The message is built in `step`; an attempt run again for what it examined builds its
    // own.
    Attempt a =
        attempt<false>(context, begin, end, options, final, matching, from, progress, step.message);
    std::optional<Failure>& failure = a.failure;

    // A result reached by looking past the end of `bytes` may change with more bytes. Limits are
    // judged on every byte the parse examined (for a limit error thrown at a line's end, that was
    // done already), so that a stream cut anywhere reaches the same verdict (spec §4.1, §7).
    const bool touched_end = a.touched_end;
    // A limit (§7) is decided at the byte of its offset, whatever comes after it. A line or the
    // message over its limit was judged on the bytes examined when the parse threw it; a clientID
    // or a header count, where the value or the line was matched, which a limit proved exceeded
    // at the same or an earlier byte still comes before (§8: the first fault reading left to
    // right). A header line one too many that is a CR at the end of the bytes may still be the
    // empty line.
    const auto is_limit = [touched_end](const std::optional<Failure>& f) {
        return f && (f->code == Errc::line_too_long || f->code == Errc::message_too_large ||
                     f->code == Errc::id_too_long ||
                     (f->code == Errc::too_many_headers && !touched_end));
    };
    const bool judged = failure && (failure->code == Errc::line_too_long ||
                                    failure->code == Errc::message_too_large);
    if (!judged && (failure || touched_end)) {
        Message scratch;
        const char* seen_end = touched_end ? end
                                           : attempt<true>(context, begin, end, options, final,
                                                           matching, from, nullptr, scratch)
                                                 .seen_end;
        if (!failure && a.framing == Framing::bare && std::holds_alternative<Quit>(step.message)) {
            // A QUIT turn (§5.7) is QUIT itself, at most QUIT CRLF CRLF: the line ends after it
            // are dropped, not part of the message, as when they come after QUIT in a stream.
            seen_end = std::min(seen_end, begin + quit_size);
        }
        // In a chat, a line QUIT or CHAT that no turn of three lines (§9.2) followed is a text
        // line, whether it was taken as one or refused as one (strict about an unstuffed QUIT):
        // the turn was tried up to where it failed or the data ended, its text line within
        // MAX-LINE (second_line_fits()). Only that turn would be a framed message, so MAX-MESSAGE
        // is not judged on the bytes it examined: with more bytes to come the verdict waits for
        // the byte that decides (MAX-LINE bounds the wait), at the end of the stream there is no
        // turn (§5.7, §7). A turn that came was judged as it matched (three_line_ends()).
        const bool text_before_turn = context == Context::chat && a.framing == Framing::crlf &&
                                      (!failure || failure->at < begin + first_line_of_turn) &&
                                      may_be_framed_turn(bytes.substr(0, first_line_of_turn));
        // An error before the limit's byte that more bytes may still take back (an alternative,
        // such as a message-framed turn, touched the end) is not overruled by the limit before
        // the stream ends: which of the two comes first depends on the bytes that decide.
        const bool earlier_open = !final && touched_end && failure && !is_limit(failure);
        auto limit = limit_exceeded(options.limits, begin, a.line_start, seen_end);
        if (limit && !(text_before_turn && limit->code == Errc::message_too_large) &&
            (!is_limit(failure) || limit->at <= failure->at) &&
            !(earlier_open && failure->at < limit->at)) {
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

// parse_one() in the chat context: a canonical text line by comparing bytes, an item whose
// first line is unfinished within the limits waits, anything else takes the grammar.
Step parse_chat_item(std::string_view bytes, const DecodeOptions& options, bool final, Parsed& step,
                     Progress* progress, Matching matching) {
    const Limits& limits = options.limits;
    const canonical::Line line = matching == Matching::fast
                                     ? canonical::text_line(bytes, limits, step)
                                     : canonical::Line::other;
    if (line == canonical::Line::text) {
        return step;
    }
    // Text bytes alone, no more than any limit allows, are an unfinished first line without a
    // look for its LF.
    const bool short_text = line == canonical::Line::unfinished &&
                            bytes.size() <= std::min(limits.line_length, limits.message_size);
    if (!final && (short_text || unfinished_first_line(bytes, limits))) {
        // Any chat item is judged once its first line is complete (a text line is a message of
        // its own, §5.6): what the tail of most chunks of a chat is.
        step.status = Status::need_more;
        step.consumed = bytes.size();
        return step;
    }
    return parse_general(Context::chat, bytes, options, final, step, progress, progress, matching);
}
} // namespace

Step parse_one(Context context, std::string_view bytes, const DecodeOptions& options, bool final,
               Parsed& step, Progress* progress, Matching matching) {
    const char* begin = bytes.data();
    const char* end = begin + bytes.size();
    step.consumed = 0;
    if (context == Context::chat) {
        return parse_chat_item(bytes, options, final, step, progress, matching);
    }
    // A request or response in canonical form is decoded by comparing bytes alone; a line that
    // is not, or not complete yet, is where the attempt below goes on (a rule broken: it starts
    // again, to report it).
    if ((context == Context::request || context == Context::response) &&
        matching == Matching::fast) {
        ParseState st(options, context, begin, step.message);
        const char* line =
            progress != nullptr && progress->checked != 0 ? restore(*progress, st) : begin;
        const Stop stop = canonical_lines(line, end, st);
        if (stop == Stop::message) {
            step.status = Status::message;
            step.consumed = std::size_t(line - begin);
            step.framing = Framing::crlf;
            return step;
        }
        const bool unfinished =
            stop == Stop::line &&
            (line == end || std::memchr(line, '\n', std::size_t(end - line)) == nullptr);
        if (unfinished && !final && !proves_limit(options.limits, begin, line, end) &&
            (line != begin || unfinished_method_line(line, end))) {
            // An unfinished line within the limits waits for its LF, as in attempt_framed().
            if (progress != nullptr) {
                save(st, line, *progress);
            }
            step.status = Status::need_more;
            step.consumed = bytes.size();
            return step;
        }
        if (stop == Stop::line && line != begin) {
            Progress resume;
            save(st, line, resume);
            return parse_general(context, bytes, options, final, step, &resume, progress, matching);
        }
    }
    return parse_general(context, bytes, options, final, step, progress, progress, matching);
}
} // namespace detail

Decoded decode(Context context, std::string_view bytes, const DecodeOptions& options) {
    if (bytes.empty()) {
        return DecodeError{Errc::truncated, 0, "a message"};
    }
    detail::Parsed parsed;
    const Step step = detail::parse_one(context, bytes, options, true, parsed);
    if (step.status == Status::error) {
        return parsed.error;
    }
    if (step.consumed != bytes.size()) {
        return DecodeError{Errc::trailing_data, step.consumed, "the end of the message"};
    }
    return parsed.message;
}

} // namespace tcpchat
