#include "reader_checks.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace tcpchat::transcript::reading {

namespace {

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

} // namespace

std::string trim(std::string_view s) {

    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
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

} // namespace tcpchat::transcript::reading
