// Matching what the implementation under test sent against a block of the transcript
// (spec/transcript-format.md §T.5.2): byte for byte, or by the lenient rule (§T.6.3). Pure: the
// caller receives the bytes into the link's inbox and asks whether the match is settled.
#pragma once

#include "link.hpp"
#include "tcpchat/conformance.hpp"
#include "tcpchat/decode.hpp"
#include "value.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tcpchat::conformance {

// The decoding context of a lenient block read in `direction` (0: from the link's initiator).
[[nodiscard]] Context lenient_context(const Link& link, int direction);

class BlockMatch {
  public:
    // Byte for byte when `lenient` is empty; else the same messages in that context.
    BlockMatch(std::string bytes, std::optional<Context> lenient);

    // Whether the inbox decides the match: all of it arrived, it went wrong, or (at the end of
    // the stream) nothing more can arrive.
    [[nodiscard]] bool settled(const Link& link);
    // Why the inbox does not match, or nothing; then consumed() bytes of it are the block's.
    [[nodiscard]] std::optional<Failure> verdict(std::size_t line, const Link& link);
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

  private:
    bool decode(const Link& link);

    std::string bytes_;
    std::optional<Context> context_;
    std::vector<Described> expected_;
    std::vector<Described> actual_;
    std::optional<DecodeError> error_;
    std::size_t consumed_ = 0;
};

} // namespace tcpchat::conformance
