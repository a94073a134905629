#include "sequence_diagram.hpp"

#include "html.hpp"

#include <algorithm>
#include <map>
#include <variant>
#include <vector>

namespace tcpchat::conformance {

namespace {

namespace tt = tcpchat::transcript;

constexpr int column_width = 190;
constexpr int margin = 24;
constexpr int head_height = 46;
constexpr int row_height = 30;
constexpr std::size_t label_max = 34;

// One row of the diagram: an arrow between two actors or a note over one (or all).
struct Row {
    enum class Kind : std::uint8_t { message, connect, close, silence, note } kind;
    std::string from, to; // a note has from == to, or both empty for a note across
    std::string label;
    std::string full; // the whole text, shown as a tooltip when the label is cut
    std::size_t first_line = 0, last_line = 0;
};

std::string cut(std::string text) {
    if (text.size() <= label_max) {
        return text;
    }
    std::size_t n = label_max - 1;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) {
        --n; // never split a UTF-8 sequence
    }
    return text.substr(0, n) + "\xE2\x80\xA6";
}

// to_source's text without its quotes: "REGISTER\r\n" for "\"REGISTER\r\n\"".
std::string unquoted(std::string source) {
    if (source.size() >= 2 && source.front() == '"' && source.back() == '"') {
        return source.substr(1, source.size() - 2);
    }
    return source;
}

// The first line of a message as written in the transcript: "REGISTER", "hello", "QUIT".
std::string first_line(const std::string& source) {
    std::string s = source;
    for (const std::string_view end : {"\\r\\n", "\\n"}) {
        if (const auto at = s.find(end); at != std::string::npos) {
            s = s.substr(0, at);
        }
    }
    return s.empty() ? "(empty line)" : s;
}

// A message that started with a method line and has not reached its empty line yet (§4.1):
// the next send in the same direction continues it. A text line (§5.6) is a message alone.
bool method_line(const std::string& line) {
    return !line.empty() &&
           std::all_of(line.begin(), line.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

bool awaits_more(const Row& r) {
    return method_line(first_line(r.full)) && !r.full.ends_with("\\r\\n\\r\\n") &&
           !r.full.ends_with("\\n\\n");
}

std::vector<Row> rows_of(const tt::Case& c) {
    std::vector<Row> rows;
    for (const tt::Step& step : c.steps) {
        const std::size_t line = step.line;
        Row* last = rows.empty() ? nullptr : &rows.back();
        if (const auto* s = std::get_if<tt::Send>(&step.action)) {
            const std::string source = unquoted(tt::to_source(s->bytes));
            // Consecutive sends in one direction are one message (§T.5.2): one arrow.
            if (last != nullptr && last->kind == Row::Kind::message && last->from == s->from &&
                last->to == s->to && awaits_more(*last)) {
                last->full += source;
                last->last_line = line;
                continue;
            }
            const std::string head = first_line(source);
            std::string label = method_line(head) ? head : "\"" + head + "\"";
            if (s->lenient) {
                label += " (lenient)";
            }
            if (s->drip) {
                label += " (drip)";
            }
            rows.push_back({Row::Kind::message, s->from, s->to, label, source, line, line});
        } else if (const auto* k = std::get_if<tt::Connect>(&step.action)) {
            rows.push_back({Row::Kind::connect, k->from, k->to,
                            k->other_address ? "connect (other address)" : "connect", "", line,
                            line});
        } else if (const auto* x = std::get_if<tt::Close>(&step.action)) {
            rows.push_back({Row::Kind::close, x->by, x->peer, x->half ? "half-close" : "close", "",
                            line, line});
        } else if (const auto* q = std::get_if<tt::Silence>(&step.action)) {
            rows.push_back({Row::Kind::silence, q->from, q->to,
                            "nothing for " + std::to_string(q->duration.count()) + " ms", "", line,
                            line});
        } else if (const auto* t = std::get_if<tt::Type>(&step.action)) {
            rows.push_back({Row::Kind::note, t->actor, t->actor, "types " + tt::to_source(t->text),
                            "", line, line});
        } else if (const auto* w = std::get_if<tt::Show>(&step.action)) {
            rows.push_back({Row::Kind::note, w->actor, w->actor, "shows " + tt::to_source(w->text),
                            "", line, line});
        } else if (const auto* e = std::get_if<tt::Exit>(&step.action)) {
            rows.push_back({Row::Kind::note, e->actor, e->actor,
                            "exits with status " + std::to_string(e->status), "", line, line});
        } else if (const auto* p = std::get_if<tt::Pause>(&step.action)) {
            rows.push_back({Row::Kind::note, "", "",
                            "pause " + std::to_string(p->duration.count()) + " ms", "", line,
                            line});
        } else if (last != nullptr) {
            last->last_line = line; // a decoding expectation belongs to the message above it
        }
    }
    return rows;
}

} // namespace

std::string sequence_diagram(const tt::Case& c, tt::Mode mode,
                             std::optional<std::size_t> fault_line) {
    // Columns: the clients in order of appearance, the one under test first in client mode,
    // then the server.
    std::vector<std::string> actors = c.actors();
    if (mode == tt::Mode::client) {
        const auto it = std::find(actors.begin(), actors.end(), c.client);
        if (it != actors.end()) {
            std::rotate(actors.begin(), it, it + 1);
        }
    }
    actors.emplace_back(tt::server_actor);
    std::map<std::string, int, std::less<>> x_of;
    for (std::size_t i = 0; i < actors.size(); ++i) {
        x_of[actors[i]] = margin + column_width / 2 + int(i) * column_width;
    }
    const auto under_test = [&](const std::string& a) {
        return (mode == tt::Mode::server && a == tt::server_actor) ||
               (mode == tt::Mode::client && a == c.client);
    };

    std::vector<Row> rows = rows_of(c);
    std::size_t fault = rows.size();
    if (fault_line) {
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (rows[i].first_line <= *fault_line) {
                fault = i;
            }
        }
    }
    const int width = 2 * margin + int(actors.size()) * column_width;
    const int height = head_height + 14 + int(rows.size()) * row_height + 16;
    std::string svg = "<svg class=\"sequence\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                      std::to_string(width) + "\" height=\"" + std::to_string(height) +
                      "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                      "\" role=\"img\" aria-label=\"" + html::escape("sequence of " + c.name) +
                      "\">";
    svg += "<defs><marker id=\"head-" + html::escape(c.name) +
           "\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" "
           "markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 "
           "L0,10 z\" "
           "fill=\"context-stroke\"/></marker></defs>";
    const std::string head = "url(#head-" + html::escape(c.name) + ")";
    const int bottom = height - 8;
    for (const std::string& a : actors) {
        const int x = x_of[a];
        const std::string role = mode == tt::Mode::codec ? ""
                                 : under_test(a)         ? "under test"
                                                         : "runner";
        svg += "<line class=\"lifeline\" x1=\"" + std::to_string(x) + "\" y1=\"" +
               std::to_string(head_height) + "\" x2=\"" + std::to_string(x) + "\" y2=\"" +
               std::to_string(bottom) + "\"/>";
        svg += std::string("<g class=\"actor") + (under_test(a) ? " under-test" : "") +
               "\"><rect x=\"" + std::to_string(x - 70) + "\" y=\"4\" width=\"140\" height=\"" +
               std::to_string(head_height - 10) + "\" rx=\"6\"/><text x=\"" + std::to_string(x) +
               "\" y=\"21\" text-anchor=\"middle\">" +
               html::escape(a == tt::server_actor ? "server" : "client " + a) +
               "</text><text class=\"role\" x=\"" + std::to_string(x) +
               "\" y=\"34\" text-anchor=\"middle\">" + role + "</text></g>";
    }
    int y = head_height + 14 + row_height / 2;
    for (std::size_t i = 0; i < rows.size(); ++i, y += row_height) {
        const Row& r = rows[i];
        const std::string fault_class = i == fault ? " at-fault" : "";
        const std::string line_no = "<text class=\"line-no\" x=\"4\" y=\"" + std::to_string(y + 4) +
                                    "\">" + std::to_string(r.first_line) + "</text>";
        const std::string tooltip = "<title>" +
                                    html::escape((r.full.empty() ? r.label : r.full) + " (line " +
                                                 std::to_string(r.first_line) + ")") +
                                    "</title>";
        if (r.kind == Row::Kind::note) {
            const bool across = r.from.empty();
            const int cx = across ? width / 2 : x_of[r.from];
            const int w = across ? width - 2 * margin : column_width - 16;
            svg += "<g class=\"note" + fault_class + "\">" + tooltip + line_no + "<rect x=\"" +
                   std::to_string(cx - w / 2) + "\" y=\"" + std::to_string(y - 11) + "\" width=\"" +
                   std::to_string(w) + "\" height=\"22\" rx=\"3\"/><text x=\"" +
                   std::to_string(cx) + "\" y=\"" + std::to_string(y + 4) +
                   "\" text-anchor=\"middle\">" + html::escape(cut(r.label)) + "</text></g>";
            continue;
        }
        static constexpr std::string_view kinds[] = {"message", "connect", "close", "silence"};
        const int x1 = x_of[r.from];
        const int x2 = x_of[r.to];
        const int dir = x2 > x1 ? 1 : -1;
        svg += "<g class=\"arrow " + std::string(kinds[std::size_t(r.kind)]) + fault_class +
               "\" data-from=\"" + html::escape(r.from) + "\" data-to=\"" + html::escape(r.to) +
               "\">" + tooltip + line_no + "<line x1=\"" + std::to_string(x1 + dir * 3) +
               "\" y1=\"" + std::to_string(y) + "\" x2=\"" + std::to_string(x2 - dir * 3) +
               "\" y2=\"" + std::to_string(y) + "\" marker-end=\"" + head + "\"/><text x=\"" +
               std::to_string((x1 + x2) / 2) + "\" y=\"" + std::to_string(y - 5) +
               "\" text-anchor=\"middle\">" + html::escape(cut(r.label)) + "</text></g>";
    }
    return svg + "</svg>";
}

} // namespace tcpchat::conformance
