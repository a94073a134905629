// Reading spec/tcp-chat.md for the tests that keep it and the codec in step: its ```wire
// examples and its ```abnf productions.
#pragma once

#include "test_support.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace tcpchat::test {

inline std::string read_spec() {
    std::ifstream in(std::string(TCPCHAT_SOURCE_DIR) + "/spec/tcp-chat.md");
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

struct WireExample {
    std::size_t line = 0;
    std::string context, value, strict;
    bool canonical = false;
    std::string bytes;
};

inline std::vector<WireExample> wire_examples(const std::string& spec) {
    std::vector<WireExample> out;
    std::istringstream in(spec);
    std::string line;
    std::size_t number = 0;
    std::optional<WireExample> pending;
    bool inside = false;
    while (std::getline(in, line)) {
        ++number;
        const auto open = line.find("<!--");
        const auto mark = line.find("wire:", open == std::string::npos ? 0 : open);
        const auto close = line.find("-->", mark == std::string::npos ? 0 : mark);
        if (!inside && open != std::string::npos && mark != std::string::npos &&
            close != std::string::npos) {
            WireExample ex;
            ex.line = number;
            std::string attrs = line.substr(mark + 5, close - mark - 5);
            attrs.erase(0, attrs.find_first_not_of(' '));
            attrs.erase(attrs.find_last_not_of(' ') + 1);
            auto take = [&](const std::string& key) {
                const auto at = attrs.find(key + "=");
                if (at == std::string::npos) {
                    return std::string();
                }
                auto from = at + key.size() + 1;
                auto to = std::min({attrs.find(" canonical", from), attrs.find(" strict=", from),
                                    attrs.find(" context=", from), attrs.find(" value=", from),
                                    attrs.size()});
                return attrs.substr(from, to - from);
            };
            ex.context = take("context");
            ex.value = take("value");
            ex.strict = take("strict");
            ex.canonical = attrs.find(" canonical") != std::string::npos ||
                           attrs.rfind("canonical") == attrs.size() - 9;
            pending = ex;
        } else if (!inside && line.rfind("```wire", 0) == 0) {
            inside = true;
            if (!pending) {
                ADD_FAILURE() << "spec line " << number << ": ```wire block without a wire comment";
                pending = WireExample{number, {}, {}, {}, false, {}};
            }
        } else if (inside && line.rfind("```", 0) == 0) {
            inside = false;
            out.push_back(*pending);
            pending.reset();
        } else if (inside) {
            pending->bytes += unescape(line);
        }
    }
    return out;
}

// One ABNF production as the spec writes it: its name, its definition (continuation lines
// joined, comments removed), and whether it stands in Appendix A or next to its prose.
struct Production {
    std::string name, definition;
    bool in_appendix = false;
    std::size_t line = 0;
};

// Drops a `;` comment, but not a `;` inside a quoted string or a prose-val.
inline std::string without_comment(const std::string& line) {
    char closing = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (closing != 0) {
            closing = c == closing ? 0 : closing;
        } else if (c == '"') {
            closing = '"';
        } else if (c == '<') {
            closing = '>';
        } else if (c == ';') {
            return line.substr(0, i);
        }
    }
    return line;
}

inline std::vector<Production> abnf_productions(const std::string& spec) {
    std::vector<Production> out;
    std::istringstream in(spec);
    std::string line;
    std::size_t number = 0;
    bool inside = false;
    bool appendix = false;
    while (std::getline(in, line)) {
        ++number;
        if (line.rfind("## Appendix A", 0) == 0) {
            appendix = true;
        } else if (line.rfind("## ", 0) == 0) {
            appendix = false;
        }
        if (line.rfind("```abnf", 0) == 0) {
            inside = true;
            continue;
        }
        if (inside && line.rfind("```", 0) == 0) {
            inside = false;
            continue;
        }
        if (!inside) {
            continue;
        }
        const std::string text = without_comment(line);
        if (text.find_first_not_of(" \t") == std::string::npos) {
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(text[0])) &&
            text.find('=') != std::string::npos) {
            const auto eq = text.find('=');
            std::string name = text.substr(0, eq);
            name.erase(name.find_last_not_of(" \t") + 1);
            out.push_back({name, text.substr(eq + 1), appendix, number});
        } else if (!out.empty()) {
            out.back().definition += " " + text; // a continuation line is indented
        }
    }
    for (Production& p : out) {
        std::string& d = p.definition;
        std::string squeezed;
        for (const char c : d) {
            if (!(c == ' ' && (squeezed.empty() || squeezed.back() == ' '))) {
                squeezed.push_back(c);
            }
        }
        squeezed.erase(squeezed.find_last_not_of(' ') + 1);
        d = squeezed;
    }
    return out;
}

} // namespace tcpchat::test
