// Message values as the transcripts write them (spec/transcript-format.md §T.8): resolved from a
// transcript's Value, described from a decoded tcpchat::Message, compared, rendered.
#pragma once

#include "tcpchat/message.hpp"
#include "tcpchat/transcript.hpp"

#include <map>
#include <optional>
#include <string>

namespace tcpchat::conformance {

struct Described {
    std::string method;
    std::map<std::string, std::string> fields;
    std::optional<std::string> text;
    friend bool operator==(const Described&, const Described&) = default;
};

// The expected value with its placeholders substituted; nullopt (and `missing`) on an unbound one.
[[nodiscard]] std::optional<Described>
describe(const transcript::Value& v, const transcript::Bindings& b, std::string* missing = nullptr);
[[nodiscard]] Described describe(const Message& m);

// Equal, or equal by the lenient rule of §T.6.3: an ERROR's Reason and a REGACK's Status line
// are not compared.
[[nodiscard]] bool same(const Described& expected, const Described& actual, bool lenient);

// `REGISTER clientID=A-1 IP=127.0.0.1 Port=3000`, `TEXT "hi"`, values with spaces quoted.
[[nodiscard]] std::string render(const Described& d);

} // namespace tcpchat::conformance
