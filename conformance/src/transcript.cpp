// The transcript reader: the grammar's actions build a Case (reader_actions.hpp), then the
// semantic rules of spec/transcript-format.md §T.4-§T.8 are checked (reader_checks.hpp), each
// error naming its line.
#include "tcpchat/transcript.hpp"

#include "reader_actions.hpp"
#include "reader_checks.hpp"

namespace tcpchat::transcript {

namespace pegtl = tao::pegtl;
namespace g = grammar;
using reading::action;
using reading::State;

Parsed parse_transcript(std::string_view text, std::string_view name) noexcept {
    try {
        pegtl::memory_input in(text.data(), text.size(), std::string(name));
        State st;
        st.result.name = std::string(name);
        pegtl::parse<g::case_file, action, g::control>(in, st);
        if (auto bad = reading::apply_metadata(st)) {
            return ParseError{bad->line, 1, std::move(bad->message)};
        }
        if (auto bad = reading::check_steps(st.result)) {
            return ParseError{bad->line, 1, std::move(bad->message)};
        }
        return Parsed(std::move(st.result));
    } catch (const pegtl::parse_error& e) {
        ParseError out;
        if (!e.positions().empty()) {
            out.line = e.positions().front().line;
            out.column = e.positions().front().column;
        }
        std::string message(e.message());
        // A rule without its own message: PEGTL names the rule; keep only its short name.
        if (message.starts_with("parse error matching ")) {
            const auto colon = message.rfind("::");
            message =
                "syntax error (expected " +
                (colon == std::string::npos ? message.substr(21) : message.substr(colon + 2)) + ")";
        }
        out.message = std::move(message);
        return out;
    } catch (const std::exception& e) {
        return ParseError{0, 0, e.what()};
    }
}

} // namespace tcpchat::transcript
