// The spec and the codec cannot drift apart: every ```wire example of spec/tcp-chat.md decodes
// to the value the spec states (and re-encodes to the same bytes where it says `canonical`),
// and every production of the spec's ABNF has a grammar rule of the same name.
#include "tcpchat/grammar.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <sstream>
#include <tao/pegtl/demangle.hpp>
#include <tao/pegtl/visit.hpp>

namespace tcpchat {
namespace {

std::string read_spec() {
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

std::vector<WireExample> wire_examples(const std::string& spec) {
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
            pending->bytes += test::unescape(line);
        }
    }
    return out;
}

std::optional<Context> context_named(const std::string& name) {
    if (name == "request")
        return Context::request;
    if (name == "response")
        return Context::response;
    if (name == "chat_open")
        return Context::chat_open;
    if (name == "chat")
        return Context::chat;
    return std::nullopt;
}

std::string describe(const Decoded& d, bool with_offset) {
    if (d) {
        return to_string(d.value());
    }
    std::ostringstream os;
    os << "error:" << d.error().code;
    if (with_offset) {
        os << '@' << d.error().offset;
    }
    return os.str();
}

TEST(Spec, EveryWireExampleDecodesAsStated) {
    const auto examples = wire_examples(read_spec());
    ASSERT_GE(examples.size(), 30U) << "the spec should show every message and variant";
    std::size_t canonical = 0;
    for (const WireExample& ex : examples) {
        SCOPED_TRACE("spec line " + std::to_string(ex.line) + ": " + ex.value);
        const auto context = context_named(ex.context);
        ASSERT_TRUE(context) << "unknown context '" << ex.context << "'";
        const bool error_with_offset =
            ex.value.rfind("error:", 0) == 0 && ex.value.find('@') != std::string::npos;
        const Decoded lenient = decode(*context, ex.bytes, lenient_profile);
        EXPECT_EQ(describe(lenient, error_with_offset), ex.value);

        const Decoded strict = decode(*context, ex.bytes, strict_profile);
        if (!ex.strict.empty()) {
            EXPECT_EQ(describe(strict, false), ex.strict);
        } else {
            EXPECT_EQ(describe(strict, error_with_offset), ex.value) << "strict profile";
        }
        if (ex.canonical) {
            ++canonical;
            ASSERT_TRUE(lenient);
            EXPECT_EQ(to_wire(lenient.value()), ex.bytes) << "canonical bytes";
        }
    }
    EXPECT_GE(canonical, 9U) << "each message type has a canonical example";
}

// Collects the names of every rule reachable from a grammar.
template <typename Rule>
struct collect_name {
    static void visit(std::set<std::string>& names) {
        std::string name(tao::pegtl::demangle<Rule>());
        const std::string ns = "tcpchat::grammar::";
        if (name.rfind(ns, 0) == 0) {
            names.insert(name.substr(ns.size()));
        }
    }
};

struct whole_grammar
    : tao::pegtl::seq<grammar::request, grammar::response, grammar::chat_opening,
                      grammar::chat_item, grammar::register_message, grammar::regack_message,
                      grammar::bridge_message, grammar::bridgeack_message, grammar::chat_message,
                      grammar::quit_message, grammar::error_message, grammar::text_line,
                      grammar::opening_turn_end, grammar::chat_turn_end, grammar::initiator_stream,
                      grammar::waiter_stream> {};

TEST(Spec, EveryAbnfProductionHasAGrammarRule) {
    const std::string spec = read_spec();
    std::set<std::string> productions;
    std::istringstream in(spec);
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.rfind("```abnf", 0) == 0) {
            inside = true;
        } else if (inside && line.rfind("```", 0) == 0) {
            inside = false;
        } else if (inside && !line.empty() && std::isalpha(static_cast<unsigned char>(line[0]))) {
            // `name = ...` starts a production; continuation lines are indented.
            const auto name_end = line.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
            const auto eq = line.find_first_not_of(' ', name_end);
            if (name_end == std::string::npos || eq == std::string::npos || line[eq] != '=') {
                continue;
            }
            std::string name = line.substr(0, name_end);
            std::replace(name.begin(), name.end(), '-', '_');
            productions.insert(name);
        }
    }
    ASSERT_GE(productions.size(), 40U);

    std::set<std::string> rules;
    tao::pegtl::visit<whole_grammar, collect_name>(rules);
    for (const std::string& p : productions) {
        EXPECT_TRUE(rules.count(p)) << "ABNF production '" << p << "' has no rule in grammar.hpp";
    }
}

} // namespace
} // namespace tcpchat
