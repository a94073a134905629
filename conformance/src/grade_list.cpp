// The list of `grade` (include/tcpchat/grade.hpp): one `NAME: KEY = VALUE` per line.
#include "tcpchat/grade.hpp"

#include <algorithm>

namespace tcpchat::conformance::grade {

namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool valid_name(std::string_view name) {
    const auto ok = [](char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (!first && (c == '.' || c == '_' || c == '-'));
    };
    if (name.empty() || name.size() > 64 || !ok(name.front(), true)) {
        return false;
    }
    return std::all_of(name.begin() + 1, name.end(), [&](char c) { return ok(c, false); });
}

} // namespace

List parse_list(std::string_view text) {
    List list;
    std::size_t number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++number;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto fail = [&](std::string message) {
            list.errors.push_back({number, std::move(message)});
        };
        const auto colon = line.find(':');
        const auto equals = line.find('=');
        if (colon == std::string_view::npos || equals == std::string_view::npos || equals < colon) {
            fail("expected NAME: server|server-at|client = VALUE");
            continue;
        }
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view key = trim(line.substr(colon + 1, equals - colon - 1));
        const std::string_view value = trim(line.substr(equals + 1));
        if (!valid_name(name)) {
            fail("'" + std::string(name) +
                 "' is not a name: letters, digits, '.', '_' and '-', starting with a letter or "
                 "digit, at most 64");
            continue;
        }
        if (name == "matrix.json" || name == "junit.xml" || name == "index.html") {
            fail("'" + std::string(name) + "' is the name of a file grade writes");
            continue;
        }
        if (value.empty()) {
            fail("no value for " + std::string(key));
            continue;
        }
        auto it = std::find_if(list.implementations.begin(), list.implementations.end(),
                               [&](const Implementation& i) { return i.name == name; });
        if (it == list.implementations.end()) {
            list.implementations.push_back({std::string(name), number, {}, {}, {}});
            it = list.implementations.end() - 1;
        }
        std::string* slot = key == "server"      ? &it->server
                            : key == "server-at" ? &it->server_at
                            : key == "client"    ? &it->client
                                                 : nullptr;
        if (slot == nullptr) {
            fail("unknown key '" + std::string(key) + "': server, server-at or client");
        } else if (!slot->empty()) {
            fail(std::string(name) + " has two " + std::string(key) + " lines");
        } else if (!(key == "server"      ? it->server_at
                     : key == "server-at" ? it->server
                                          : "")
                        .empty()) {
            fail(std::string(name) + " has both server and server-at");
        } else {
            *slot = value;
        }
    }
    return list;
}

} // namespace tcpchat::conformance::grade
