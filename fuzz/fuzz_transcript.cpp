// fuzz_transcript: the conformance suite's transcript reader on arbitrary text (spec §12). It is a
// pure function that never throws across its API, so anything it does with a hostile file is
// in scope: no crash, leak, hang or unbounded allocation. On the way it checks that:
// - an error names a line of the file (line 1 to one past the last);
// - a case's steps are in file order and on lines of the file;
// - every byte template prints back to transcript source (quoted) and resolves once each of its
//   placeholders is bound.
#include "tcpchat/transcript.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

using namespace tcpchat::transcript;

[[noreturn]] void fail(const char* what, std::size_t line) {
    std::fprintf(stderr, "\nFUZZ CHECK FAILED: %s (line %zu)\n", what, line);
    std::abort();
}

void check_template(const Template& t, std::size_t line) {
    const std::string source = to_source(t);
    if (source.size() < 2 || source.front() != '"' || source.back() != '"') {
        fail("to_source() is not a quoted string", line);
    }
    Bindings bindings;
    for (const auto& part : t.parts) {
        if (const auto* p = std::get_if<Placeholder>(&part)) {
            bindings.emplace(p->key(), "v");
        }
    }
    std::string missing;
    if (!resolve(t, bindings, &missing)) {
        fail("a template does not resolve with all its placeholders bound", line);
    }
}

struct StepCheck {
    std::size_t line;

    void operator()(const Send& s) const { check_template(s.bytes, line); }
    void operator()(const Type& s) const { check_template(s.text, line); }
    void operator()(const Show& s) const { check_template(s.text, line); }
    void operator()(const ExpectMessage& e) const {
        for (const auto& field : e.value.fields) {
            check_template(field.second, line);
        }
        if (e.value.text) {
            check_template(*e.value.text, line);
        }
        if (e.encodes) {
            check_template(*e.encodes, line);
        }
    }
    template <typename Other>
    void operator()(const Other& /*other*/) const {}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t lines = std::size_t(std::count(text.begin(), text.end(), '\n')) + 1;
    const Parsed parsed = parse_transcript(text, "fuzz");
    if (!parsed) {
        const ParseError& e = parsed.error();
        if (e.line < 1 || e.line > lines + 1) {
            fail("a parse error's line is outside the file", e.line);
        }
        return 0;
    }
    const Case& c = parsed.value();
    std::size_t previous = 0;
    for (const auto& step : c.steps) {
        if (step.line < previous || step.line < 1 || step.line > lines) {
            fail("a step's line is out of order or outside the file", step.line);
        }
        previous = step.line;
        std::visit(StepCheck{step.line}, step.action);
    }
    (void)c.actors();
    for (const Mode m : {Mode::codec, Mode::server, Mode::client}) {
        (void)c.applies_to(m);
        (void)mode_name(m);
    }
    return 0;
}
