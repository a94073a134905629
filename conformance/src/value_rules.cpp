#include "value_rules.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

namespace tcpchat::transcript::reading {

namespace {

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

} // namespace

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

} // namespace tcpchat::transcript::reading
