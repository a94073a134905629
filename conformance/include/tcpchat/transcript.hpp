// Conformance transcripts (spec/transcript-format.md): the data model of one case file and its
// reader. The reader is a pure function of the text: no I/O, no global state, and it never throws
// across its API, so it can be fuzzed as is.
#pragma once

#include "tcpchat/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tcpchat::transcript {

// A value known only at run time (§T.7.3): `${A.id}` is {"A", "id"}, `${run}` is {"", "run"},
// `${server}` is {"", "server"}, `${server.port}` is {"server", "port"}.
struct Placeholder {
    std::string actor;
    std::string field;

    [[nodiscard]] std::string key() const; // "A.id", "run", "server", "server.port"
    friend bool operator==(const Placeholder&, const Placeholder&) = default;
};

// A byte string with placeholders in it; escapes are already decoded.
struct Template {
    std::vector<std::variant<std::string, Placeholder>> parts;

    void append(std::string_view bytes);
    void append(const Placeholder& p);
    void append(const Template& t);
    [[nodiscard]] bool empty() const noexcept { return parts.empty(); }
    friend bool operator==(const Template&, const Template&) = default;
};

// Run-time values by placeholder key ("A.id", "run", ...).
using Bindings = std::map<std::string, std::string, std::less<>>;

// Substitutes every placeholder. On a placeholder without a binding the result is empty and
// `missing` (if given) receives its key.
[[nodiscard]] std::optional<std::string> resolve(const Template& t, const Bindings& b,
                                                 std::string* missing = nullptr);

// Bytes as a transcript string (§T.7.1), quotes included: "REGISTER\r\n". Controls and bytes
// of 0x80 or more are escaped, and `$` before `{`; the reader reads back the same bytes.
[[nodiscard]] std::string quote(std::string_view bytes);
// The template as it is written in a transcript: its bytes quoted as above, `${...}` kept.
[[nodiscard]] std::string to_source(const Template& t);

// §T.5 directives. The actor "server" is the server; every other name is a client.
inline constexpr std::string_view server_actor = "server";

struct Connect { // `connect A server`: A opens a new connection to the server (or to a peer)
    std::string from, to;
    bool other_address = false; // `from another address` (§T.5.1)
};
struct Send { // `A -> server: "..."`: bytes written by `from`, read by `to`
    std::string from, to;
    Template bytes;
    bool lenient = false; // compare as messages by the rule of §T.6.3, not byte for byte
    bool drip = false;    // written one byte per write
};
struct Close { // `server closes A`, `A half-closes server`
    std::string by, peer;
    bool half = false;
};
struct Silence { // `server sends nothing to A for 300 ms`
    std::string from, to;
    std::chrono::milliseconds duration{};
};
struct Type { // `A types: "/register"`: a line typed at the client's terminal
    std::string actor;
    Template text;
};
struct Show { // `A shows: "hello"`: the client's terminal shows this text
    std::string actor;
    Template text;
};
struct Exit { // `A exits with status 0`
    std::string actor;
    int status = 0;
};
struct Pause {
    std::chrono::milliseconds duration{};
};

// A message value (§T.8): method, named fields and, for TEXT, the line's text.
struct Value {
    std::string method; // REGISTER, REGACK, BRIDGE, BRIDGEACK, CHAT, TEXT, QUIT, ERROR
    std::vector<std::pair<std::string, Template>> fields;
    std::optional<Template> text;
    friend bool operator==(const Value&, const Value&) = default;
};
struct ExpectMessage { // `decodes to VALUE` [+ `encodes to: "..."`]
    bool strict = false;
    Value value;
    std::optional<Template> encodes; // canonical bytes when they differ from the input
};
struct ExpectError { // `decode error bare_lf at 8`
    bool strict = false;
    Errc code = Errc::truncated;
    std::uint64_t offset = 0;
};

using Action = std::variant<Connect, Send, Close, Silence, Type, Show, Exit, Pause, ExpectMessage,
                            ExpectError>;

struct Step {
    std::size_t line = 0; // 1-based line in the file
    Action action;
};

enum class Mode : std::uint8_t { codec, server, client };
[[nodiscard]] std::string_view mode_name(Mode m) noexcept;

// One case file.
struct Case {
    std::string name;                  // the file name without ".md", e.g. "5.1-register"
    std::string title;                 // the '# ' line
    std::string why;                   // the first paragraph, joined into one line
    std::vector<std::string> sections; // "5.1", "6.2": the first is where the case is listed
    std::vector<Mode> modes;
    std::string client = "A"; // the client under test in client mode (`- Client: A`)
    std::optional<std::chrono::milliseconds> timeout; // `- Timeout: 9000 ms`
    std::vector<Step> steps;

    [[nodiscard]] bool applies_to(Mode m) const noexcept;
    // Client actors in order of first appearance (never "server").
    [[nodiscard]] std::vector<std::string> actors() const;
};

struct ParseError {
    std::size_t line = 0;   // 1-based
    std::size_t column = 0; // 1-based
    std::string message;
};

class Parsed {
  public:
    Parsed(Case c) : v_(std::move(c)) {}
    Parsed(ParseError e) : v_(std::move(e)) {}

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] const Case& value() const { return std::get<0>(v_); }
    [[nodiscard]] Case& value() { return std::get<0>(v_); }
    [[nodiscard]] const ParseError& error() const { return std::get<1>(v_); }

  private:
    std::variant<Case, ParseError> v_;
};

// Reads one case file. `name` becomes Case::name. Syntax errors and semantic errors (an unknown
// metadata name, a send before its connect, ...) come back with their line; nothing throws.
[[nodiscard]] Parsed parse_transcript(std::string_view text,
                                      std::string_view name = "case") noexcept;

} // namespace tcpchat::transcript
