// The transcript grammar's actions (spec/transcript-format.md §T.5-§T.8): each builds a piece of
// the Case from what its rule matched. The grammar itself (transcript_grammar.hpp) holds no
// semantics; a value's fields are checked by value_rules.hpp as soon as it is read.
#pragma once

#include "reader_state.hpp"
#include "tcpchat/error.hpp"
#include "tcpchat/transcript_grammar.hpp"
#include "value_rules.hpp"

#include <charconv>

namespace tcpchat::transcript::reading {

namespace pegtl = tao::pegtl;
namespace g = grammar;

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

} // namespace tcpchat::transcript::reading
