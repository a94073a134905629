// The transcript reader: grammar actions build a Case, then the semantic rules of
// spec/transcript-format.md §T.4-§T.8 are checked, each error naming its line.
#include "tcpchat/transcript.hpp"

#include "tcpchat/transcript_grammar.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

namespace tcpchat::transcript {

namespace {

namespace pegtl = tao::pegtl;
namespace g = grammar;

// Repetition is bounded so that a hostile file cannot ask for gigabytes (§T.7.2).
constexpr std::uint64_t max_repeat = 1'000'000;

struct MetaLine {
    std::size_t line;
    std::string name;
    std::string value;
};

struct State {
    Case result;
    std::vector<MetaLine> meta;
    std::string meta_name;
    std::string meta_value;

    // Scratch for the directive being read; cleared after every exchange line.
    std::vector<std::string> actors;
    std::vector<std::uint64_t> numbers;
    Template current;
    std::vector<Template> pieces;
    std::vector<Template> payloads;
    std::string method;
    std::string key;
    std::vector<std::pair<std::string, Template>> fields;
    std::string errc;
    bool strict = false;
    bool lenient = false;
    bool drip = false;
    bool other_address = false;

    void clear_line() {
        actors.clear();
        numbers.clear();
        current = {};
        pieces.clear();
        payloads.clear();
        method.clear();
        key.clear();
        fields.clear();
        errc.clear();
        strict = lenient = drip = other_address = false;
    }

    template <typename Input>
    void add(const Input& in, Action a) {
        result.steps.push_back(Step{in.position().line, std::move(a)});
    }

    std::uint64_t take_number() {
        const std::uint64_t n = numbers.back();
        numbers.pop_back();
        return n;
    }
};

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

template <>
struct action<g::title_text> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.result.title = in.string();
    }
};

template <>
struct action<g::meta_name> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.meta_name = in.string();
    }
};

template <>
struct action<g::meta_value> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.meta_value = in.string();
    }
};

template <>
struct action<g::meta_line> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.meta.push_back({in.position().line, st.meta_name, st.meta_value});
    }
};

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

template <>
struct action<g::why> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        // The paragraph's lines joined by single spaces: one sentence on one line.
        std::string_view text = in.string_view();
        std::string out;
        while (!text.empty()) {
            const auto nl = text.find('\n');
            const std::string line = trim(text.substr(0, nl));
            if (!line.empty()) {
                if (!out.empty()) {
                    out += ' ';
                }
                out += line;
            }
            if (nl == std::string_view::npos) {
                break;
            }
            text.remove_prefix(nl + 1);
        }
        st.result.why = std::move(out);
    }
};

template <>
struct action<g::number> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        std::uint64_t n = 0;
        const auto sv = in.string_view();
        const auto [p, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), n);
        if (ec != std::errc{} || p != sv.data() + sv.size()) {
            throw pegtl::parse_error("number out of range", in);
        }
        st.numbers.push_back(n);
    }
};

template <>
struct action<g::actor> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.actors.push_back(in.string());
    }
};

template <>
struct action<g::subject> : action<g::actor> {};

template <>
struct action<g::plain> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.current.append(in.string_view());
    }
};

template <>
struct action<g::token_char> : action<g::plain> {};

template <>
struct action<g::escape> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        const std::string_view e = in.string_view(); // "\r", "\x41", ...
        char c = e[1];
        switch (e[1]) {
        case 'r': c = '\r'; break;
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'x': {
            unsigned v = 0;
            std::from_chars(e.data() + 2, e.data() + 4, v, 16);
            c = char(v);
            break;
        }
        default: break; // '\\', '"', '$' stand for themselves
        }
        st.current.append(std::string_view(&c, 1));
    }
};

template <>
struct action<g::placeholder> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        // The name's `actor` rule fired (and pushed) while the name was matched, even for
        // ${run}; it names no directive actor, so it is taken back here.
        if (!st.actors.empty()) {
            st.actors.pop_back();
        }
        std::string_view name = in.string_view();
        name.remove_prefix(2);
        name.remove_suffix(1);
        Placeholder p;
        if (const auto dot = name.find('.'); dot != std::string_view::npos) {
            p.actor = std::string(name.substr(0, dot));
            p.field = std::string(name.substr(dot + 1));
            if (p.actor == server_actor && p.field == "id") {
                throw pegtl::parse_error("the server has no ${server.id}; use ${server.ip} or "
                                         "${server.port}",
                                         in);
            }
        } else {
            p.field = std::string(name);
        }
        st.current.append(p);
    }
};

template <>
struct action<g::quoted> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        st.pieces.push_back(std::move(st.current));
        st.current = {};
    }
};

template <>
struct action<g::token> : action<g::quoted> {};

template <>
struct action<g::repeat> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        const std::uint64_t n = st.take_number();
        if (n > max_repeat) {
            throw pegtl::parse_error("repetition count over 1000000", in);
        }
        Template once = std::move(st.pieces.back());
        Template all;
        for (std::uint64_t i = 0; i < n; ++i) {
            all.append(once);
        }
        st.pieces.back() = std::move(all);
    }
};

template <>
struct action<g::payload> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        Template all;
        for (const Template& t : st.pieces) {
            all.append(t);
        }
        st.pieces.clear();
        st.payloads.push_back(std::move(all));
    }
};

template <>
struct action<g::value_method> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.method = in.string();
    }
};

template <>
struct action<g::field_key> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.key = in.string();
        st.key.pop_back(); // the '='
    }
};

template <>
struct action<g::field_value> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        st.fields.emplace_back(st.key, std::move(st.pieces.back()));
        st.pieces.pop_back();
    }
};

template <>
struct action<g::errc_name> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.errc = in.string();
    }
};

template <>
struct action<g::strict> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        st.strict = true;
    }
};

template <>
struct action<g::lenient> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        st.lenient = true;
    }
};

template <>
struct action<g::drip> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        st.drip = true;
    }
};

template <>
struct action<g::other_address> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        st.other_address = true;
    }
};

std::chrono::milliseconds ms(std::uint64_t n) {
    return std::chrono::milliseconds(std::int64_t(std::min<std::uint64_t>(n, 86'400'000)));
}

template <>
struct action<g::connect> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Connect{st.actors.at(0), st.actors.at(1), st.other_address});
    }
};

template <>
struct action<g::send> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Send{st.actors.at(0), st.actors.at(1), std::move(st.payloads.at(0)), st.lenient,
                        st.drip});
    }
};

template <>
struct action<g::close> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Close{st.actors.at(0), st.actors.at(1), false});
    }
};

template <>
struct action<g::half_close> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Close{st.actors.at(0), st.actors.at(1), true});
    }
};

template <>
struct action<g::silence> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Silence{st.actors.at(0), st.actors.at(1), ms(st.take_number())});
    }
};

template <>
struct action<g::type> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Type{st.actors.at(0), std::move(st.payloads.at(0))});
    }
};

template <>
struct action<g::show> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Show{st.actors.at(0), std::move(st.payloads.at(0))});
    }
};

template <>
struct action<g::exit_status> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        const std::uint64_t n = st.take_number();
        if (n > 255) {
            throw pegtl::parse_error("an exit status is 0-255", in);
        }
        st.add(in, Exit{st.actors.at(0), int(n)});
    }
};

template <>
struct action<g::pause> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        st.add(in, Pause{ms(st.take_number())});
    }
};

std::optional<Errc> errc_from_name(std::string_view name) {
    for (int i = int(Errc::truncated); i <= int(Errc::id_too_long); ++i) {
        if (errc_name(Errc(i)) == name) {
            return Errc(i);
        }
    }
    return std::nullopt;
}

template <>
struct action<g::decode_error> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        const auto code = errc_from_name(st.errc);
        if (!code) {
            throw pegtl::parse_error("unknown codec error name '" + st.errc + "' (spec §8)", in);
        }
        st.add(in, ExpectError{st.strict, *code, st.take_number()});
    }
};

// The fields each method's value has (§T.8): required, then optional.
struct FieldRule {
    std::string_view method;
    std::vector<std::string_view> required;
    std::vector<std::string_view> optional;
};

const std::vector<FieldRule>& field_rules() {
    static const std::vector<FieldRule> rules{
        {"REGISTER", {"clientID", "IP", "Port"}, {}},
        {"REGACK", {"clientID", "IP", "Port"}, {"Status"}},
        {"BRIDGE", {"clientID"}, {}},
        {"BRIDGEACK", {}, {"clientID", "IP", "Port"}},
        {"CHAT", {"clientID", "IP", "Port"}, {}},
        {"TEXT", {}, {}},
        {"QUIT", {}, {}},
        {"ERROR", {"Code", "Reason"}, {}},
    };
    return rules;
}

std::optional<std::string> check_value(const Value& v) {
    const auto& rules = field_rules();
    const auto rule = std::find_if(rules.begin(), rules.end(),
                                   [&](const FieldRule& r) { return r.method == v.method; });
    std::set<std::string, std::less<>> seen;
    for (const auto& [name, _] : v.fields) {
        const bool known =
            std::find(rule->required.begin(), rule->required.end(), name) != rule->required.end() ||
            std::find(rule->optional.begin(), rule->optional.end(), name) != rule->optional.end();
        if (!known) {
            return "a " + v.method + " value has no field '" + name + "'";
        }
        if (!seen.insert(name).second) {
            return "field '" + name + "' given twice";
        }
    }
    for (const auto name : rule->required) {
        if (!seen.contains(name)) {
            return "a " + v.method + " value needs the field '" + std::string(name) + "'";
        }
    }
    if (v.method == "BRIDGEACK" && !seen.empty() && seen.size() != 3) {
        return std::string("a BRIDGEACK value has all of clientID, IP and Port, or none (no peer)");
    }
    if ((v.method == "TEXT") != v.text.has_value()) {
        return v.method == "TEXT" ? std::string("a TEXT value needs its line as a quoted string")
                                  : "only a TEXT value has a quoted string";
    }
    return std::nullopt;
}

template <>
struct action<g::decodes> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        Value v{st.method, std::move(st.fields), std::nullopt};
        if (!st.payloads.empty()) {
            v.text = std::move(st.payloads.front());
        }
        if (auto bad = check_value(v)) {
            throw pegtl::parse_error(*bad, in);
        }
        st.add(in, ExpectMessage{st.strict, std::move(v), std::nullopt});
    }
};

template <>
struct action<g::encodes> {
    template <typename Input>
    static void apply(const Input& in, State& st) {
        auto& steps = st.result.steps;
        auto* expect = steps.empty() ? nullptr : std::get_if<ExpectMessage>(&steps.back().action);
        if (expect == nullptr || expect->encodes) {
            throw pegtl::parse_error("'encodes to:' must follow a 'decodes to' line", in);
        }
        expect->encodes = std::move(st.payloads.at(0));
    }
};

template <>
struct action<g::exchange_line> {
    template <typename Input>
    static void apply(const Input&, State& st) {
        st.clear_line();
    }
};

// ---- Semantic checks (§T.4, §T.5) --------------------------------------------------------

struct Invalid {
    std::size_t line;
    std::string message;
};

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    while (true) {
        const auto comma = s.find(',');
        out.push_back(trim(s.substr(0, comma)));
        if (comma == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(comma + 1);
    }
}

bool is_section(std::string_view s) {
    // "§" (UTF-8 C2 A7), then N or N.N or N.N.N
    if (!s.starts_with("\xC2\xA7") || s.size() < 3) {
        return false;
    }
    s.remove_prefix(2);
    bool digit = false;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            digit = true;
        } else if (c == '.' && digit) {
            digit = false;
        } else {
            return false;
        }
    }
    return digit;
}

bool is_actor(std::string_view s) {
    if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

std::optional<Invalid> apply_metadata(State& st) {
    Case& c = st.result;
    bool sections = false;
    bool modes = false;
    std::set<std::string, std::less<>> seen;
    for (const MetaLine& m : st.meta) {
        if (!seen.insert(m.name).second) {
            return Invalid{m.line, "metadata '" + m.name + "' given twice"};
        }
        if (m.name == "Sections") {
            for (std::string s : split_list(m.value)) {
                if (!is_section(s)) {
                    return Invalid{m.line, "a section is written like §5.1, not '" + s + "'"};
                }
                c.sections.push_back(s.substr(2));
            }
            sections = true;
        } else if (m.name == "Modes") {
            for (const std::string& s : split_list(m.value)) {
                if (s == "codec") {
                    c.modes.push_back(Mode::codec);
                } else if (s == "server") {
                    c.modes.push_back(Mode::server);
                } else if (s == "client") {
                    c.modes.push_back(Mode::client);
                } else {
                    return Invalid{m.line, "a mode is codec, server or client, not '" + s + "'"};
                }
            }
            modes = true;
        } else if (m.name == "Client") {
            const std::string a = trim(m.value);
            if (!is_actor(a) || a == server_actor) {
                return Invalid{m.line, "the client under test is a client actor such as A"};
            }
            c.client = a;
        } else if (m.name == "Timeout") {
            const std::string v = trim(m.value);
            std::uint64_t n = 0;
            const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc{} || std::string_view(p) != " ms" || n == 0) {
                return Invalid{m.line, "a timeout is written like '9000 ms'"};
            }
            c.timeout = ms(n);
        } else {
            return Invalid{m.line, "unknown metadata '" + m.name +
                                       "' (expected Sections, Modes, Client or Timeout)"};
        }
    }
    const std::size_t line = st.meta.empty() ? 1 : st.meta.front().line;
    if (!sections) {
        return Invalid{line, "metadata '- Sections: §N.N' is missing"};
    }
    if (!modes) {
        return Invalid{line, "metadata '- Modes: codec, server, client' is missing"};
    }
    return std::nullopt;
}

std::optional<Invalid> check_steps(const Case& c) {
    static const std::set<std::string, std::less<>> reserved{"connect", "pause", "strict"};
    std::set<std::pair<std::string, std::string>> connected; // unordered pairs, sorted
    auto pair_of = [](const std::string& a, const std::string& b) {
        return a < b ? std::pair(a, b) : std::pair(b, a);
    };
    bool sent = false;
    std::set<std::string, std::less<>> actors;
    auto check_actor = [&](const std::string& a) {
        actors.insert(a);
        return !reserved.contains(a);
    };
    for (const Step& s : c.steps) {
        const std::size_t line = s.line;
        auto need_connection = [&](const std::string& a,
                                   const std::string& b) -> std::optional<Invalid> {
            if (!check_actor(a) || !check_actor(b)) {
                return Invalid{line, "'connect', 'pause' and 'strict' cannot name actors"};
            }
            if (a == b) {
                return Invalid{line, "an actor cannot talk to itself"};
            }
            if (!connected.contains(pair_of(a, b))) {
                return Invalid{line, "no connection between " + a + " and " + b +
                                         " yet (add 'connect " + a + " " + b + "' before)"};
            }
            return std::nullopt;
        };
        std::optional<Invalid> bad;
        if (const auto* x = std::get_if<Connect>(&s.action)) {
            if (!check_actor(x->from) || !check_actor(x->to)) {
                return Invalid{line, "'connect', 'pause' and 'strict' cannot name actors"};
            }
            if (x->from == server_actor) {
                return Invalid{line, "the server never opens connections (§2)"};
            }
            if (x->from == x->to) {
                return Invalid{line, "an actor cannot connect to itself"};
            }
            if (x->other_address && x->to != server_actor) {
                return Invalid{line, "'from another address' applies to connections to the server"};
            }
            connected.insert(pair_of(x->from, x->to));
        } else if (const auto* x = std::get_if<Send>(&s.action)) {
            bad = need_connection(x->from, x->to);
            sent = true;
        } else if (const auto* x = std::get_if<Close>(&s.action)) {
            bad = need_connection(x->by, x->peer);
        } else if (const auto* x = std::get_if<Silence>(&s.action)) {
            bad = need_connection(x->from, x->to);
        } else if (const auto* x = std::get_if<Type>(&s.action)) {
            if (x->actor == server_actor) {
                return Invalid{line, "only a client has a terminal to type at"};
            }
            check_actor(x->actor);
        } else if (const auto* x = std::get_if<Show>(&s.action)) {
            if (x->actor == server_actor) {
                return Invalid{line, "only a client has a terminal that shows text"};
            }
            check_actor(x->actor);
        } else if (const auto* x = std::get_if<Exit>(&s.action)) {
            if (x->actor == server_actor) {
                return Invalid{line, "'exits with status' applies to a client"};
            }
            check_actor(x->actor);
        } else if (std::holds_alternative<ExpectMessage>(s.action) ||
                   std::holds_alternative<ExpectError>(s.action)) {
            if (!sent) {
                return Invalid{line, "a decode expectation must follow the bytes it decodes"};
            }
        }
        if (bad) {
            return bad;
        }
    }
    if (c.applies_to(Mode::client) && !actors.contains(c.client)) {
        return Invalid{c.steps.empty() ? 1 : c.steps.front().line,
                       "the client under test '" + c.client + "' does not appear in the exchange"};
    }
    return std::nullopt;
}

} // namespace

std::string Placeholder::key() const {
    return actor.empty() ? field : actor + "." + field;
}

void Template::append(std::string_view bytes) {
    if (bytes.empty()) {
        return;
    }
    if (!parts.empty()) {
        if (auto* s = std::get_if<std::string>(&parts.back())) {
            s->append(bytes);
            return;
        }
    }
    parts.emplace_back(std::string(bytes));
}

void Template::append(const Placeholder& p) {
    parts.emplace_back(p);
}

void Template::append(const Template& t) {
    for (const auto& part : t.parts) {
        std::visit([this](const auto& x) { append(x); }, part);
    }
}

std::optional<std::string> resolve(const Template& t, const Bindings& b, std::string* missing) {
    std::string out;
    for (const auto& part : t.parts) {
        if (const auto* s = std::get_if<std::string>(&part)) {
            out += *s;
            continue;
        }
        const std::string key = std::get<Placeholder>(part).key();
        const auto it = b.find(key);
        if (it == b.end()) {
            if (missing != nullptr) {
                *missing = key;
            }
            return std::nullopt;
        }
        out += it->second;
    }
    return out;
}

std::string to_source(const Template& t) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "\"";
    for (const auto& part : t.parts) {
        if (const auto* p = std::get_if<Placeholder>(&part)) {
            out += "${" + p->key() + "}";
            continue;
        }
        const std::string& s = std::get<std::string>(part);
        for (std::size_t i = 0; i < s.size(); ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            switch (c) {
            case '\r': out += "\\r"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '$': out += (i + 1 < s.size() && s[i + 1] == '{') ? "\\$" : "$"; break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    out += "\\x";
                    out += hex[c >> 4];
                    out += hex[c & 0xF];
                } else {
                    out += char(c);
                }
            }
        }
    }
    return out + "\"";
}

std::string_view mode_name(Mode m) noexcept {
    switch (m) {
    case Mode::codec: return "codec";
    case Mode::server: return "server";
    case Mode::client: return "client";
    }
    return "?";
}

bool Case::applies_to(Mode m) const noexcept {
    return std::find(modes.begin(), modes.end(), m) != modes.end();
}

std::vector<std::string> Case::actors() const {
    std::vector<std::string> out;
    auto note = [&](const std::string& a) {
        if (a != server_actor && std::find(out.begin(), out.end(), a) == out.end()) {
            out.push_back(a);
        }
    };
    auto note_template = [&](const Template& t) {
        for (const auto& part : t.parts) {
            if (const auto* p = std::get_if<Placeholder>(&part); p && !p->actor.empty()) {
                note(p->actor);
            }
        }
    };
    for (const Step& s : steps) {
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, Connect>) {
                    note(x.from);
                    note(x.to);
                } else if constexpr (std::is_same_v<T, Send>) {
                    note(x.from);
                    note(x.to);
                    note_template(x.bytes);
                } else if constexpr (std::is_same_v<T, Close>) {
                    note(x.by);
                    note(x.peer);
                } else if constexpr (std::is_same_v<T, Silence>) {
                    note(x.from);
                    note(x.to);
                } else if constexpr (std::is_same_v<T, Type> || std::is_same_v<T, Show> ||
                                     std::is_same_v<T, Exit>) {
                    note(x.actor);
                }
            },
            s.action);
    }
    return out;
}

Parsed parse_transcript(std::string_view text, std::string_view name) noexcept {
    try {
        pegtl::memory_input in(text.data(), text.size(), std::string(name));
        State st;
        st.result.name = std::string(name);
        pegtl::parse<g::case_file, action, g::control>(in, st);
        if (auto bad = apply_metadata(st)) {
            return ParseError{bad->line, 1, std::move(bad->message)};
        }
        if (auto bad = check_steps(st.result)) {
            return ParseError{bad->line, 1, std::move(bad->message)};
        }
        return Parsed(std::move(st.result));
    } catch (const pegtl::parse_error& e) {
        ParseError out;
        if (!e.positions().empty()) {
            out.line = e.positions().front().line;
            out.column = e.positions().front().column;
        }
        std::string message(e.message());
        // A rule without its own message: PEGTL names the rule; keep only its short name.
        if (message.starts_with("parse error matching ")) {
            const auto colon = message.rfind("::");
            message =
                "syntax error (expected " +
                (colon == std::string::npos ? message.substr(21) : message.substr(colon + 2)) + ")";
        }
        out.message = std::move(message);
        return out;
    } catch (const std::exception& e) {
        return ParseError{0, 0, e.what()};
    }
}

} // namespace tcpchat::transcript
