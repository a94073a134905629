// The spec's ABNF and the codec's grammar accept the same bytes. The ABNF of spec/tcp-chat.md is
// read and run here by a small RFC 5234 matcher (alternatives unordered, every parse tried), and
// each production is matched, as a whole input, against samples taken from the spec's own
// examples and edge cases; grammar.hpp's rule of the same name must agree on every sample. A rule
// edited on one side only (a repetition count, a literal, a dropped alternative) shows up as a
// sample on which they disagree. The §7 limits table is checked against the codec's defaults, and
// Appendix A against the productions next to their prose.
#include "spec_test_support.hpp"
#include "tcpchat/grammar.hpp"
#include "tcpchat/limits.hpp"

#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tao/pegtl.hpp>
#include <vector>

namespace tcpchat {
namespace {

// ---- An RFC 5234 matcher -----------------------------------------------------------------------

struct Node {
    enum class Kind { alternation, concatenation, repetition, rule, literal, range, prose };
    Kind kind = Kind::literal;
    std::vector<std::shared_ptr<Node>> children; // alternation, concatenation; repetition: one
    std::size_t min = 1, max = 1;                // repetition
    std::string text;                            // rule name, literal, prose text
    bool case_sensitive = false;                 // literal
    unsigned char low = 0, high = 0;             // range
};
using NodePtr = std::shared_ptr<Node>;

NodePtr make_node(Node::Kind kind, std::vector<NodePtr> children = {}) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->children = std::move(children);
    return n;
}

class AbnfParser {
  public:
    explicit AbnfParser(std::string text) : s_(std::move(text)) {}

    NodePtr parse() {
        NodePtr n = alternation();
        skip();
        if (at_ < s_.size()) {
            fail("unexpected text");
        }
        return n;
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error(what + " at " + std::to_string(at_) + " in '" + s_ + "'");
    }
    void skip() {
        while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t')) {
            ++at_;
        }
    }
    bool eat(char c) {
        skip();
        if (at_ < s_.size() && s_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }
    std::size_t number(int base) {
        const std::size_t from = at_;
        while (at_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[at_])) &&
               (base == 16 || std::isdigit(static_cast<unsigned char>(s_[at_])))) {
            ++at_;
        }
        if (from == at_) {
            fail("a number");
        }
        return std::stoul(s_.substr(from, at_ - from), nullptr, base);
    }
    NodePtr alternation() {
        auto n = make_node(Node::Kind::alternation, {concatenation()});
        while (eat('/')) {
            n->children.push_back(concatenation());
        }
        return n->children.size() == 1 ? n->children.front() : n;
    }
    NodePtr concatenation() {
        auto n = make_node(Node::Kind::concatenation);
        for (;;) {
            skip();
            if (at_ == s_.size() || s_[at_] == '/' || s_[at_] == ')' || s_[at_] == ']') {
                break;
            }
            n->children.push_back(repetition());
        }
        if (n->children.empty()) {
            fail("an element");
        }
        return n->children.size() == 1 ? n->children.front() : n;
    }
    NodePtr repetition() {
        skip();
        std::size_t min = 1, max = 1;
        bool repeated = false;
        if (at_ < s_.size() &&
            (std::isdigit(static_cast<unsigned char>(s_[at_])) || s_[at_] == '*')) {
            repeated = true;
            min = std::isdigit(static_cast<unsigned char>(s_[at_])) ? number(10) : 0;
            if (at_ < s_.size() && s_[at_] == '*') {
                ++at_;
                max = at_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[at_]))
                          ? number(10)
                          : std::size_t(-1);
            } else {
                max = min;
            }
        }
        NodePtr e = element();
        if (!repeated) {
            return e;
        }
        auto n = make_node(Node::Kind::repetition, {e});
        n->min = min;
        n->max = max;
        return n;
    }
    NodePtr element() {
        skip();
        if (at_ == s_.size()) {
            fail("an element");
        }
        const char c = s_[at_];
        if (c == '(' || c == '[') {
            ++at_;
            NodePtr inner = alternation();
            if (!eat(c == '(' ? ')' : ']')) {
                fail("a closing bracket");
            }
            if (c == '(') {
                return inner;
            }
            auto n = make_node(Node::Kind::repetition, {inner});
            n->min = 0;
            return n;
        }
        if (c == '"' ||
            (c == '%' && at_ + 1 < s_.size() && (s_[at_ + 1] == 's' || s_[at_ + 1] == 'i'))) {
            bool sensitive = false;
            if (c == '%') {
                sensitive = s_[at_ + 1] == 's';
                at_ += 2;
            }
            if (at_ >= s_.size() || s_[at_] != '"') {
                fail("a quoted string");
            }
            const auto end = s_.find('"', at_ + 1);
            if (end == std::string::npos) {
                fail("a closing quote");
            }
            auto n = make_node(Node::Kind::literal);
            n->text = s_.substr(at_ + 1, end - at_ - 1);
            n->case_sensitive = sensitive;
            at_ = end + 1;
            return n;
        }
        if (c == '%') {
            const char base_letter = at_ + 1 < s_.size() ? s_[at_ + 1] : 0;
            const int base = base_letter == 'x' ? 16 : base_letter == 'd' ? 10 : 0;
            if (base == 0) {
                fail("%x or %d");
            }
            at_ += 2;
            const auto first = number(base);
            if (at_ < s_.size() && s_[at_] == '-') {
                ++at_;
                auto n = make_node(Node::Kind::range);
                n->low = static_cast<unsigned char>(first);
                n->high = static_cast<unsigned char>(number(base));
                return n;
            }
            auto n = make_node(Node::Kind::literal);
            n->case_sensitive = true;
            n->text.push_back(char(first));
            while (at_ < s_.size() && s_[at_] == '.') {
                ++at_;
                n->text.push_back(char(number(base)));
            }
            return n;
        }
        if (c == '<') {
            const auto end = s_.find('>', at_);
            if (end == std::string::npos) {
                fail("a closing '>'");
            }
            auto n = make_node(Node::Kind::prose);
            n->text = s_.substr(at_ + 1, end - at_ - 1);
            at_ = end + 1;
            return n;
        }
        if (std::isalpha(static_cast<unsigned char>(c))) {
            const std::size_t from = at_;
            while (at_ < s_.size() &&
                   (std::isalnum(static_cast<unsigned char>(s_[at_])) || s_[at_] == '-')) {
                ++at_;
            }
            auto n = make_node(Node::Kind::rule);
            n->text = s_.substr(from, at_ - from);
            return n;
        }
        fail("an element");
    }

    std::string s_;
    std::size_t at_ = 0;
};

using Ends = std::set<std::size_t>;

// A prose-val stands for "the bytes that `rule` matches, except these".
struct ProseRule {
    std::string rule;
    std::vector<std::string> except;
};

class AbnfGrammar {
  public:
    void define(const std::string& name, const std::string& definition) {
        rules_[name] = AbnfParser(definition).parse();
    }
    void prose(const std::string& text, ProseRule meaning) { prose_[text] = std::move(meaning); }
    bool has(const std::string& name) const { return rules_.count(name) != 0; }

    // Whether `name` matches the whole of `input`.
    bool matches(const std::string& name, const std::string& input) {
        input_ = &input;
        memo_.clear();
        return call(name, 0).count(input.size()) != 0;
    }

  private:
    Ends call(const std::string& name, std::size_t at) {
        const auto key = std::make_pair(name, at);
        if (const auto it = memo_.find(key); it != memo_.end()) {
            return it->second;
        }
        const auto rule = rules_.find(name);
        if (rule == rules_.end()) {
            throw std::runtime_error("ABNF rule '" + name + "' is not defined");
        }
        Ends ends = match(*rule->second, at);
        memo_[key] = ends;
        return ends;
    }

    Ends match(const Node& n, std::size_t at) {
        const std::string& in = *input_;
        switch (n.kind) {
        case Node::Kind::literal: {
            if (at + n.text.size() > in.size()) {
                return {};
            }
            for (std::size_t i = 0; i < n.text.size(); ++i) {
                const char a = in[at + i], b = n.text[i];
                if (n.case_sensitive ? a != b
                                     : std::tolower(static_cast<unsigned char>(a)) !=
                                           std::tolower(static_cast<unsigned char>(b))) {
                    return {};
                }
            }
            return {at + n.text.size()};
        }
        case Node::Kind::range: {
            if (at < in.size() && static_cast<unsigned char>(in[at]) >= n.low &&
                static_cast<unsigned char>(in[at]) <= n.high) {
                return {at + 1};
            }
            return {};
        }
        case Node::Kind::rule: return call(n.text, at);
        case Node::Kind::prose: {
            const auto it = prose_.find(n.text);
            if (it == prose_.end()) {
                throw std::runtime_error("no meaning given for the prose-val <" + n.text + ">");
            }
            Ends ends = call(it->second.rule, at);
            for (const std::string& excluded : it->second.except) {
                if (in.compare(at, excluded.size(), excluded) == 0) {
                    ends.erase(at + excluded.size());
                }
            }
            return ends;
        }
        case Node::Kind::alternation: {
            Ends ends;
            for (const auto& c : n.children) {
                const Ends e = match(*c, at);
                ends.insert(e.begin(), e.end());
            }
            return ends;
        }
        case Node::Kind::concatenation: {
            Ends ends{at};
            for (const auto& c : n.children) {
                Ends next;
                for (const std::size_t p : ends) {
                    const Ends e = match(*c, p);
                    next.insert(e.begin(), e.end());
                }
                ends = std::move(next);
                if (ends.empty()) {
                    break;
                }
            }
            return ends;
        }
        case Node::Kind::repetition: {
            Ends level{at}, result;
            if (n.min == 0) {
                result.insert(at);
            }
            for (std::size_t count = 1; count <= n.max && !level.empty(); ++count) {
                Ends next;
                for (const std::size_t p : level) {
                    const Ends e = match(*n.children.front(), p);
                    next.insert(e.begin(), e.end());
                }
                if (count > n.min) {
                    // Past the minimum only new positions matter: the input bounds them.
                    for (auto it = next.begin(); it != next.end();) {
                        it = result.count(*it) != 0 ? next.erase(it) : std::next(it);
                    }
                }
                if (count >= n.min) {
                    result.insert(next.begin(), next.end());
                }
                level = std::move(next);
            }
            return result;
        }
        }
        return {};
    }

    std::map<std::string, NodePtr> rules_;
    std::map<std::string, ProseRule> prose_;
    std::map<std::pair<std::string, std::size_t>, Ends> memo_;
    const std::string* input_ = nullptr;
};

// RFC 5234 Appendix B and RFC 3986 section 3.2.2, which the spec uses without redefining them.
constexpr const char* imported_rules[][2] = {
    {"ALPHA", "%x41-5A / %x61-7A"},
    {"CR", "%x0D"},
    {"LF", "%x0A"},
    {"CRLF", "CR LF"},
    {"DIGIT", "%x30-39"},
    {"HEXDIG", "DIGIT / \"A\" / \"B\" / \"C\" / \"D\" / \"E\" / \"F\""},
    {"HTAB", "%x09"},
    {"SP", "%x20"},
    {"VCHAR", "%x21-7E"},
    {"WSP", "SP / HTAB"},
    {"dec-octet", "DIGIT / %x31-39 DIGIT / \"1\" 2DIGIT / \"2\" %x30-34 DIGIT / \"25\" %x30-35"},
    {"IPv4address", "dec-octet \".\" dec-octet \".\" dec-octet \".\" dec-octet"},
    {"h16", "1*4HEXDIG"},
    {"ls32", "( h16 \":\" h16 ) / IPv4address"},
    {"IPv6address", "6( h16 \":\" ) ls32"
                    " / \"::\" 5( h16 \":\" ) ls32"
                    " / [ h16 ] \"::\" 4( h16 \":\" ) ls32"
                    " / [ *1( h16 \":\" ) h16 ] \"::\" 3( h16 \":\" ) ls32"
                    " / [ *2( h16 \":\" ) h16 ] \"::\" 2( h16 \":\" ) ls32"
                    " / [ *3( h16 \":\" ) h16 ] \"::\" h16 \":\" ls32"
                    " / [ *4( h16 \":\" ) h16 ] \"::\" ls32"
                    " / [ *5( h16 \":\" ) h16 ] \"::\" h16"
                    " / [ *6( h16 \":\" ) h16 ] \"::\""},
};

// The six header names of §4.3, which extension-name excludes.
const std::vector<std::string> known_names = {"clientID", "IP", "Port", "Status", "Code", "Reason"};

// ---- The grammar's side ------------------------------------------------------------------------

template <typename Rule>
bool grammar_matches(const std::string& input) {
    tao::pegtl::memory_input in(input, "sample");
    try {
        return tao::pegtl::parse<tao::pegtl::seq<Rule, tao::pegtl::eof>>(in);
    } catch (const tao::pegtl::parse_error&) {
        return false; // a must<> past its commit point: no match
    }
}

namespace g = grammar;
using Matcher = bool (*)(const std::string&);
// Every production of the spec, by name, with the grammar rule it is transcribed to.
const std::map<std::string, Matcher> grammar_rules = {
    {"OWS", grammar_matches<g::OWS>},
    {"obs-text", grammar_matches<g::obs_text>},
    {"method", grammar_matches<g::method>},
    {"method-line", grammar_matches<g::method_line>},
    {"field-sep", grammar_matches<g::field_sep>},
    {"field-end", grammar_matches<g::field_end>},
    {"tchar", grammar_matches<g::tchar>},
    {"field-name", grammar_matches<g::field_name>},
    {"extension-name", grammar_matches<g::extension_name>},
    {"field-vchar", grammar_matches<g::field_vchar>},
    {"field-content", grammar_matches<g::field_content>},
    {"field-value", grammar_matches<g::field_value>},
    {"client-id", grammar_matches<g::client_id>},
    {"id-char", grammar_matches<g::id_char>},
    {"ip", grammar_matches<g::ip>},
    {"port", grammar_matches<g::port>},
    {"status", grammar_matches<g::status>},
    {"code", grammar_matches<g::code>},
    {"reason", grammar_matches<g::reason>},
    {"client-id-field", grammar_matches<g::client_id_field>},
    {"ip-field", grammar_matches<g::ip_field>},
    {"port-field", grammar_matches<g::port_field>},
    {"status-field", grammar_matches<g::status_field>},
    {"code-field", grammar_matches<g::code_field>},
    {"reason-field", grammar_matches<g::reason_field>},
    {"extension-field", grammar_matches<g::extension_field>},
    {"header-field", grammar_matches<g::header_field>},
    {"contact-fields", grammar_matches<g::contact_fields>},
    {"port-number", grammar_matches<g::port_number>},
    {"empty-contact-fields", grammar_matches<g::empty_contact_fields>},
    {"register-message", grammar_matches<g::register_message>},
    {"regack-message", grammar_matches<g::regack_message>},
    {"bridge-message", grammar_matches<g::bridge_message>},
    {"bridgeack-message", grammar_matches<g::bridgeack_message>},
    {"chat-message", grammar_matches<g::chat_message>},
    {"quit-message", grammar_matches<g::quit_message>},
    {"error-message", grammar_matches<g::error_message>},
    {"text-line", grammar_matches<g::text_line>},
    {"line-text", grammar_matches<g::line_text>},
    {"text-char", grammar_matches<g::text_char>},
    {"initiator-stream", grammar_matches<g::initiator_stream>},
    {"waiter-stream", grammar_matches<g::waiter_stream>},
    {"chat-line", grammar_matches<g::chat_line>},
    {"framed-message", grammar_matches<g::framed_message>},
    {"request", grammar_matches<g::request>},
    {"response", grammar_matches<g::response>},
    {"chat-handshake", grammar_matches<g::chat_handshake>},
    {"chat-opening", grammar_matches<g::chat_opening>},
    {"chat-item", grammar_matches<g::chat_item>},
    {"message-text", grammar_matches<g::message_text>},
    {"message-turn", grammar_matches<g::message_turn>},
    {"quit-farewell", grammar_matches<g::quit_farewell>},
    {"quit-turn", grammar_matches<g::quit_turn>},
    {"unterminated-turn", grammar_matches<g::unterminated_turn>},
    {"opening-turn-end", grammar_matches<g::opening_turn_end>},
    {"chat-turn-end", grammar_matches<g::chat_turn_end>},
};

// ---- Samples ------------------------------------------------------------------------------------

// Every wire example; each of its lines with its CRLF; each header's name and value; every single
// byte; chats assembled from the examples; and edge cases the examples do not show.
std::vector<std::string> samples(const std::vector<test::WireExample>& examples) {
    std::set<std::string> out;
    std::vector<std::string> lines;
    for (const test::WireExample& ex : examples) {
        out.insert(ex.bytes);
        std::size_t from = 0;
        for (std::size_t at = ex.bytes.find("\r\n"); at != std::string::npos;
             at = ex.bytes.find("\r\n", from)) {
            const std::string line = ex.bytes.substr(from, at + 2 - from);
            out.insert(line);
            lines.push_back(line);
            out.insert(line.substr(0, line.size() - 2));
            if (const auto colon = line.find(':'); colon != std::string::npos) {
                out.insert(line.substr(0, colon));
                out.insert(line.substr(colon, line.size() - 2 - colon)); // field-sep and value
                std::string value = line.substr(colon + 1, line.size() - 3 - colon);
                out.insert(value);
                value.erase(0, value.find_first_not_of(" \t"));
                out.insert(value);
                out.insert(line.substr(colon + 1 + (line.size() - 3 - colon - value.size())));
            }
            from = at + 2;
        }
    }
    for (int b = 0; b < 256; ++b) {
        out.insert(std::string(1, char(b)));
    }
    const std::string chat = "CHAT\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n";
    const std::string extra[] = {
        "",
        " ",
        "\t",
        "  \t",
        "\r\n",
        " \r\n",
        "\r\n\r\n",
        // Header lines the examples do not show: a known name with a value of another rule,
        // names that only begin like a known one, values with inner and edge whitespace.
        "Port: abc\r\n",
        "Port:abc\r\n",
        "IP: localhost\r\n",
        "Status: Registered\r\n",
        "Code: 40\r\n",
        "Code: 4040\r\n",
        "clientID: user 1\r\n",
        "clientIDs: x\r\n",
        "IPv6: ::1\r\n",
        "Ports: 1\r\n",
        "X-Tag: a  b\r\n",
        "X-Tag: a b \r\n",
        "X-Tag:\t a\r\n",
        "X-Tag: \xC3\xA9t\xC3\xA9\r\n",
        "Reason:  padded \r\n",
        "Reason: in the middle\r\n",
        "a b",
        " a",
        "a ",
        "a\tb",
        "a \t b",
        "\xC3\xA9",
        "clientID",
        "IP",
        "Port",
        "Reason",
        "X: 1\r\n",
        ": x\r\n",
        "Port: 03000\r\n",
        "Port: 65536\r\n",
        "IP: 0::1\r\n",
        "IP: 127.0.0.01\r\n",
        "IP: 1.2.3.4:5\r\n",
        "::ffff:127.0.0.1",
        "fe80::1%eth0",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1::2::3",
        "255.255.255.255",
        "256.1.1.1",
        // Chat streams, canonical and not.
        chat,
        chat + "hello\r\n",
        chat + "hello\r\n\\QUIT\r\n\r\nQUIT\r\n\r\n",
        chat + "QUIT\r\n\r\n",
        chat + "QUIT\r\n\r\nhello\r\n",
        chat + "QUIT\r\nhello\r\n",
        chat + "hello",
        "hello\r\n",
        "hello\r\nQUIT\r\n\r\n",
        "QUIT\r\n\r\n",
        "QUIT\r\n",
        "QUIT",
        "QUIT\r\n\r\n\r\n",
        "QUIT\r\nGoodbye!\r\n\r\n",
        "CHAT\r\nMESSAGE:hi\r\n\r\n",
        "CHAT\r\nMESSAGE: hi\r\n\r\n",
        "\\QUIT\r\n\r\n",
        "hello",
        "CHAT\r\n",
        "QUITX\r\n\r\n",
        "ERROR\r\nCode: 404\r\nReason: trailing \r\n\r\n",
        "ERROR\r\nCode: 404\r\nReason:  lead\r\n\r\n",
        "ERROR\r\nCode: 4040\r\nReason: x\r\n\r\n",
        "REGACK\r\nclientID: a\r\nIP: ::1\r\nPort: 1\r\nStatus: registered\r\n\r\n",
        "BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: 3001\r\n\r\n",
        "REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 0\r\n\r\n",
        "REGISTER\r\nclientID: a\r\nIP: 1.2.3.4\r\nPort: 123456\r\n\r\n",
    };
    out.insert(std::begin(extra), std::end(extra));
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        out.insert(chat + lines[i] + lines[i + 1]); // chat streams with the examples' lines
        out.insert(lines[i] + lines[i + 1]);
        if (i + 2 < lines.size()) {
            out.insert(lines[i] + lines[i + 1] + lines[i + 2]); // contact-fields and the like
        }
    }
    return {out.begin(), out.end()};
}

std::string shown(const std::string& bytes) {
    std::string out;
    for (const char c : bytes) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

// Whether `word` stands in `text` as a whole word (not inside a longer name).
bool has_word(const std::string& text, const std::string& word) {
    const auto part_of_name = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0;
    };
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const bool starts = at == 0 || !part_of_name(text[at - 1]);
        const bool ends = at + word.size() == text.size() || !part_of_name(text[at + word.size()]);
        if (starts && ends) {
            return true;
        }
    }
    return false;
}

// The spec's productions as the grammar of the matcher, with the imported rules and the
// meaning of each prose-val.
AbnfGrammar spec_grammar(const std::vector<test::Production>& productions) {
    AbnfGrammar abnf;
    for (const auto& [name, definition] : imported_rules) {
        abnf.define(name, definition);
    }
    for (const test::Production& p : productions) {
        if (!p.in_appendix) {
            abnf.define(p.name, p.definition);
        }
        const auto open = p.definition.find('<');
        if (open == std::string::npos) {
            continue;
        }
        const std::string prose =
            p.definition.substr(open + 1, p.definition.find('>', open) - open - 1);
        if (p.name == "extension-name") {
            // "a field-name other than" the six names, each of which the prose must list.
            for (const std::string& known : known_names) {
                EXPECT_TRUE(has_word(prose, known))
                    << "extension-name's prose-val does not exclude " << known;
            }
            abnf.prose(prose, {"field-name", known_names});
        } else if (p.name == "chat-line") {
            EXPECT_NE(prose.find("text-line"), std::string::npos);
            EXPECT_NE(prose.find("\"QUIT\""), std::string::npos);
            abnf.prose(prose, {"text-line", {"QUIT\r\n"}});
        } else {
            ADD_FAILURE() << "spec line " << p.line << ": no meaning given here for the prose-val <"
                          << prose << "> of " << p.name;
        }
    }
    return abnf;
}

TEST(SpecAbnf, AppendixACollectsEveryProductionAsWritten) {
    std::map<std::string, std::string> body, appendix;
    for (const test::Production& p : test::abnf_productions(test::read_spec())) {
        auto& where = p.in_appendix ? appendix : body;
        EXPECT_EQ(where.count(p.name), 0U)
            << p.name << " is defined twice (spec line " << p.line << ")";
        where[p.name] = p.definition;
    }
    ASSERT_GE(body.size(), 50U);
    EXPECT_EQ(appendix, body) << "Appendix A and the sections' abnf blocks differ";
}

TEST(SpecAbnf, GrammarRulesAcceptExactlyWhatTheAbnfAccepts) {
    const std::string spec = test::read_spec();
    const auto productions = test::abnf_productions(spec);
    AbnfGrammar abnf = spec_grammar(productions);
    const auto inputs = samples(test::wire_examples(spec));
    ASSERT_GE(inputs.size(), 500U);

    std::set<std::string> names;
    for (const test::Production& p : productions) {
        names.insert(p.name);
    }
    for (const std::string& name : names) {
        SCOPED_TRACE("production " + name);
        const auto rule = grammar_rules.find(name);
        ASSERT_NE(rule, grammar_rules.end()) << "no grammar rule listed for " << name;
        std::size_t accepted = 0, disagreements = 0;
        for (const std::string& input : inputs) {
            const bool by_abnf = abnf.matches(name, input);
            const bool by_grammar = rule->second(input);
            accepted += by_abnf ? 1 : 0;
            if (by_abnf != by_grammar && ++disagreements <= 5) {
                ADD_FAILURE() << "\"" << shown(input) << "\": the spec's ABNF "
                              << (by_abnf ? "accepts" : "rejects") << " it, grammar.hpp "
                              << (by_grammar ? "accepts" : "rejects") << " it";
            }
        }
        EXPECT_EQ(disagreements, 0U);
        // A production no sample matches, or every sample matches, is not being tested.
        EXPECT_GT(accepted, 0U) << "no sample matches " << name;
        EXPECT_LT(accepted, inputs.size()) << "every sample matches " << name;
    }
    for (const auto& [name, matcher] : grammar_rules) {
        EXPECT_TRUE(names.count(name))
            << name << " is listed here but is no production of the spec";
    }
}

// §7's table states each limit's default; the codec's Limits{} must have the same ones.
TEST(SpecLimits, TheTableOfSection7IsTheCodecsDefaults) {
    const std::string spec = test::read_spec();
    std::map<std::string, std::size_t> table;
    std::istringstream in(spec);
    for (std::string line; std::getline(in, line);) {
        // A row `| MAX-NAME | default | ...`.
        if (line.rfind("| MAX-", 0) != 0) {
            continue;
        }
        const auto name_end = line.find(" |", 2);
        const std::string name = line.substr(2, name_end - 2);
        const std::string value =
            line.substr(name_end + 3, line.find(" |", name_end + 3) - name_end - 3);
        EXPECT_EQ(table.count(name), 0U) << name << " is in two tables";
        table[name] = std::stoul(value);
    }
    const Limits defaults{};
    const std::map<std::string, std::size_t> codec = {
        {"MAX-LINE", defaults.line_length},
        {"MAX-HEADERS", defaults.header_count},
        {"MAX-MESSAGE", defaults.message_size},
        {"MAX-ID", defaults.id_length},
    };
    EXPECT_EQ(table, codec);
    // The prose repeats two of them next to their rules.
    EXPECT_NE(spec.find("1 to MAX-ID (" + std::to_string(defaults.id_length) + ") bytes"),
              std::string::npos);
    EXPECT_NE(spec.find("(MAX-HEADERS is " + std::to_string(defaults.header_count) + ")"),
              std::string::npos);
}

} // namespace
} // namespace tcpchat
