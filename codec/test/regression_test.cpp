// Replays every committed fuzz finding (codec/test/regressions/<target>/<name>) through the whole
// codec: decode() in every context with the lenient profile, the strict profile and the options
// the input carries; decode_stream(); a StreamDecoder fed the input split the way the fuzzer split
// it, a byte at a time and at every single position; and encode() of whatever decodes. The
// properties are those of the fuzz targets (fuzz/README.md): a finding that is fixed stays fixed.
//
// A file holds the fuzz input as libFuzzer saved it, in the layout of fuzz/fuzz_input.hpp:
// four option bytes, for stream/ files a chunk pattern, then the bytes on the wire. Replay under
// the `asan` preset to catch memory errors: the wire bytes are given in a buffer of exactly their
// size, as the network (and the fuzzer) would.
#include "fuzz_input.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <memory>
#include <sstream>

namespace tcpchat {
namespace {

namespace fs = std::filesystem;

const fs::path regressions = fs::path(TCPCHAT_SOURCE_DIR) / "codec" / "test" / "regressions";

constexpr Context contexts[] = {Context::request, Context::response, Context::chat_open,
                                Context::chat};

// A finding read as its fuzz target reads it (fuzz/fuzz_input.hpp: the option bytes, for stream/
// files a chunk pattern, then the wire bytes), so that a replay runs with the options and the
// chunks the fuzzer ran.
struct Replay {
    DecodeOptions options;
    std::vector<std::size_t> chunks; // the fuzzer's chunk sizes, used in turn
    std::string wire;

    static Replay read(const std::string& file, bool stream) {
        const auto* data = reinterpret_cast<const std::uint8_t*>(file.data());
        const fuzz::FuzzInput in = stream ? fuzz::read_stream_input(data, file.size())
                                          : fuzz::read_options_input(data, file.size());
        Replay r{in.options, in.chunks, std::string(in.wire)};
        if (r.chunks.empty()) {
            r.chunks.push_back(SIZE_MAX); // not a stream finding: the bytes in one piece
        }
        return r;
    }
};

struct Finding {
    fs::path path;
    std::string name; // "<target>_<file>", for the test's name
};

void PrintTo(const Finding& f, std::ostream* os) {
    *os << f.path.parent_path().filename().string() << '/' << f.path.filename().string();
}

std::vector<Finding> findings() {
    std::vector<Finding> out;
    if (!fs::exists(regressions)) {
        return out;
    }
    for (const auto& entry : fs::recursive_directory_iterator(regressions)) {
        if (!entry.is_regular_file() || entry.path().extension() == ".md") {
            continue;
        }
        std::string name =
            entry.path().parent_path().filename().string() + "_" + entry.path().filename().string();
        std::replace_if(
            name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
        out.push_back({entry.path(), name});
    }
    std::sort(out.begin(), out.end(),
              [](const Finding& a, const Finding& b) { return a.name < b.name; });
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string describe(Context c, const DecodeOptions& o) {
    constexpr const char* names[] = {"request", "response", "chat_open", "chat"};
    std::ostringstream os;
    os << "context " << names[std::size_t(c)] << ", leniency 0x" << std::hex
       << std::uint32_t(o.leniency) << std::dec << ", MAX-LINE " << o.limits.line_length
       << ", MAX-HEADERS " << o.limits.header_count << ", MAX-MESSAGE " << o.limits.message_size
       << ", MAX-ID " << o.limits.id_length;
    return os.str();
}

// The wire bytes in a heap buffer of exactly their size: a read past the end is a memory error.
class ExactBuffer {
  public:
    explicit ExactBuffer(std::string_view bytes)
        : data_(new char[std::max<std::size_t>(bytes.size(), 1)]), size_(bytes.size()) {
        std::copy(bytes.begin(), bytes.end(), data_.get());
    }
    [[nodiscard]] std::string_view view() const { return {data_.get(), size_}; }

  private:
    std::unique_ptr<char[]> data_;
    std::size_t size_;
};

Context receiving_context(const Message& m) {
    if (std::holds_alternative<Register>(m) || std::holds_alternative<Bridge>(m)) {
        return Context::request;
    }
    if (std::holds_alternative<Chat>(m)) {
        return Context::chat_open;
    }
    if (std::holds_alternative<Text>(m) || std::holds_alternative<Quit>(m)) {
        return Context::chat;
    }
    return Context::response;
}

// One-shot decoding: offsets inside the input, agreement with decode_stream, round trip.
void check_one_shot(Context c, std::string_view wire, const DecodeOptions& o) {
    SCOPED_TRACE(describe(c, o));
    const Decoded d = decode(c, wire, o);
    const StreamResult s = decode_stream(c, wire, o);
    if (s.error) {
        EXPECT_LE(s.error->offset, wire.size()) << *s.error;
    }
    if (!d.ok()) {
        EXPECT_LE(d.error().offset, wire.size()) << d.error();
        if (!wire.empty() && d.error().code != Errc::trailing_data) {
            EXPECT_TRUE(s.messages.empty());
            EXPECT_EQ(s.error, std::optional<DecodeError>(d.error()));
        }
        return;
    }
    ASSERT_EQ(s.messages.size(), 1U);
    EXPECT_EQ(s.messages[0], d.value());
    EXPECT_FALSE(s.error);

    std::string canonical;
    if (const std::error_code ec = encode(d.value(), canonical)) {
        // Only a lenient line can outgrow MAX-LINE once canonical ("Reason:x" gains a space).
        EXPECT_EQ(ec, make_error_code(Errc::line_too_long)) << to_string(d.value());
        EXPECT_NE(o.leniency, Leniency::none) << to_string(d.value());
        EXPECT_TRUE(canonical.empty()) << "a refused encode() changed the buffer";
        return;
    }
    const Decoded again = decode(receiving_context(d.value()), canonical, strict_profile);
    ASSERT_TRUE(again.ok()) << "the canonical bytes do not decode: " << again.error();
    EXPECT_EQ(again.value(), d.value());
    std::string twice;
    EXPECT_FALSE(encode(again.value(), twice));
    EXPECT_EQ(twice, canonical);
    if (o.leniency == Leniency::none) {
        EXPECT_EQ(canonical, wire) << "the strict profile accepts only canonical bytes";
    }
}

// Chunks of the given sizes, in turn, until the bytes are used up.
std::vector<std::size_t> cuts_of(const std::vector<std::size_t>& sizes, std::size_t total) {
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    for (std::size_t i = 0; at < total; ++i) {
        at += std::min(sizes[i % sizes.size()], total - at);
        cuts.push_back(at);
    }
    return cuts;
}

void check_splits(Context c, std::string_view wire, const Replay& r) {
    SCOPED_TRACE(describe(c, r.options));
    const test::Outcome expected = test::one_shot(c, wire, r.options);
    EXPECT_EQ(test::chunked(c, wire, cuts_of(r.chunks, wire.size()), r.options), expected)
        << "split as the fuzzer split it";
    EXPECT_EQ(test::chunked(c, wire, cuts_of({1}, wire.size()), r.options), expected)
        << "one byte at a time";
    for (std::size_t cut = 0; cut <= wire.size() && wire.size() <= 4096; ++cut) {
        ASSERT_EQ(test::chunked(c, wire, {cut}, r.options), expected) << "split at " << cut;
    }
}

class Regression : public ::testing::TestWithParam<Finding> {};

TEST_P(Regression, Replays) {
    const Finding& f = GetParam();
    const bool stream = f.path.parent_path().filename() == "stream";
    const Replay r = Replay::read(slurp(f.path), stream);
    const ExactBuffer wire(r.wire);
    for (const Context c : contexts) {
        check_one_shot(c, wire.view(), lenient_profile);
        check_one_shot(c, wire.view(), strict_profile);
        check_one_shot(c, wire.view(), r.options);
        check_splits(c, wire.view(), r);
    }
}

INSTANTIATE_TEST_SUITE_P(Fuzz, Regression, ::testing::ValuesIn(findings()),
                         [](const ::testing::TestParamInfo<Finding>& info) {
                             return info.param.name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Regression);

} // namespace
} // namespace tcpchat
