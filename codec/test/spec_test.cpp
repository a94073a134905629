// The spec and the codec cannot drift apart: every ```wire example of spec/tcp-chat.md decodes
// to the value the spec states (and re-encodes to the same bytes where it says `canonical`),
// and every production of the spec's ABNF has a grammar rule of the same name.
#include "spec_test_support.hpp"
#include "tcpchat/grammar.hpp"

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

using test::read_spec;
using test::wire_examples;
using test::WireExample;

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
    std::set<std::string> productions;
    for (const test::Production& p : test::abnf_productions(read_spec())) {
        std::string name = p.name;
        std::replace(name.begin(), name.end(), '-', '_');
        productions.insert(name);
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
