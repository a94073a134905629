// The transcript reader's state while the grammar's actions build a Case
// (spec/transcript-format.md §T.4-§T.8), and the small pieces its actions and checks share.
#pragma once

#include "tcpchat/transcript.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tcpchat::transcript::reading {

// Repetition is bounded so that a hostile file cannot ask for gigabytes (§T.7.2).
constexpr std::uint64_t max_repeat = 1'000'000;

struct MetaLine {
    std::size_t line;
    std::string name;
    std::string value;
};

struct State {
    Case result;
    std::vector<MetaLine> meta;
    std::string meta_name;
    std::string meta_value;

    // Scratch for the directive being read; cleared after every exchange line.
    std::vector<std::string> actors;
    std::vector<std::uint64_t> numbers;
    Template current;
    std::vector<Template> pieces;
    std::vector<Template> payloads;
    std::string method;
    std::string key;
    std::vector<std::pair<std::string, Template>> fields;
    std::string errc;
    bool strict = false;
    bool lenient = false;
    bool drip = false;
    bool other_address = false;

    void clear_line() {
        actors.clear();
        numbers.clear();
        current = {};
        pieces.clear();
        payloads.clear();
        method.clear();
        key.clear();
        fields.clear();
        errc.clear();
        strict = lenient = drip = other_address = false;
    }

    template <typename Input>
    void add(const Input& in, Action a) {
        result.steps.push_back(Step{in.position().line, std::move(a)});
    }

    std::uint64_t take_number() {
        const std::uint64_t n = numbers.back();
        numbers.pop_back();
        return n;
    }
};

// The text without the whitespace around it.
[[nodiscard]] std::string trim(std::string_view s);

// A duration of the transcript, bounded to a day.
[[nodiscard]] inline std::chrono::milliseconds ms(std::uint64_t n) {
    return std::chrono::milliseconds(std::int64_t(std::min<std::uint64_t>(n, 86'400'000)));
}

} // namespace tcpchat::transcript::reading
