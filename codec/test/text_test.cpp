// The text-line byte check (spec §4.4 text-char) that the decoder's canonical path and the encoder
// share: every byte value at every position, on each way the check can be built, and through
// decode() and encode().
#include "tcpchat/decode.hpp"
#include "tcpchat/encode.hpp"
#include "text.hpp"

#include <cstddef>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tcpchat {
namespace {

using Check = std::size_t (*)(std::string_view) noexcept;

struct Way {
    const char* name;
    Check check;
};

const Way ways[] = {
    {"built", &detail::first_non_text},
    {"words", &detail::first_non_text_words},
#if defined(__SSE2__)
    {"sse2", &detail::first_non_text_sse2},
#endif
};

// What spec §4.4 says, byte by byte.
bool text_char(unsigned b) {
    return b == 0x09 || (b >= 0x20 && b <= 0x7E) || b >= 0x80;
}

// The text a line is made of: text bytes of every kind (space, printable, DEL's neighbours, bytes
// from 0x80 up) in turn, with HTAB among them or not (a tab is the one text byte below 0x20).
enum class Filler { with_tabs, without_tabs };
const Filler fillers[] = {Filler::with_tabs, Filler::without_tabs};

char filler(Filler f, std::size_t i) {
    static constexpr unsigned char kinds[] = {'a', ' ', 0x7E, 0x80, 0xFF, 0x20, 'Z', 0xC3, '\t'};
    return char(kinds[i % (f == Filler::with_tabs ? sizeof kinds : sizeof kinds - 1)]);
}

// The line in a heap block of exactly its size, so that reading past it is a sanitizer error.
std::unique_ptr<char[]> line_of(Filler f, std::size_t length) {
    auto line = std::make_unique<char[]>(length == 0 ? 1 : length);
    for (std::size_t i = 0; i < length; ++i) {
        line[i] = filler(f, i);
    }
    return line;
}

std::vector<std::size_t> lengths() {
    std::vector<std::size_t> all;
    for (std::size_t n = 0; n <= 64; ++n) {
        all.push_back(n);
    }
    all.push_back(1030); // a MAX-LINE-sized line: the 64-byte rounds, 16-byte steps and the tail
    return all;
}

TEST(TextBytes, IsTextByteIsSpecTextChar) {
    for (unsigned b = 0; b < 256; ++b) {
        EXPECT_EQ(detail::is_text_byte(static_cast<unsigned char>(b)), text_char(b))
            << "byte " << b;
    }
}

TEST(TextBytes, AllTextLinesAreWhole) {
    for (const Way& way : ways) {
        for (const Filler f : fillers) {
            for (const std::size_t n : lengths()) {
                const auto line = line_of(f, n);
                EXPECT_EQ(way.check(std::string_view(line.get(), n)), n)
                    << way.name << ", length " << n;
            }
        }
    }
}

// Every byte value at every position: found there exactly when it is no text byte, and found
// before a second non-text byte at the end of the line.
TEST(TextBytes, EveryByteAtEveryPosition) {
    for (const Way& way : ways) {
        for (const Filler f : fillers) {
            for (const std::size_t n : lengths()) {
                auto line = line_of(f, n);
                const std::string_view view(line.get(), n);
                for (std::size_t at = 0; at < n; ++at) {
                    for (unsigned b = 0; b < 256; ++b) {
                        line[at] = char(b);
                        const std::size_t alone = text_char(b) ? n : at;
                        if (way.check(view) != alone) {
                            ADD_FAILURE() << way.name << ": byte " << b << " at " << at << " of "
                                          << n << " gives " << way.check(view) << ", not " << alone;
                        }
                        if (at + 1 < n) {
                            line[n - 1] = '\x7F';
                            const std::size_t first = text_char(b) ? n - 1 : at;
                            if (way.check(view) != first) {
                                ADD_FAILURE() << way.name << ": byte " << b << " at " << at
                                              << " of " << n << " then DEL at the end gives "
                                              << way.check(view) << ", not " << first;
                            }
                            line[n - 1] = filler(f, n - 1);
                        }
                    }
                    line[at] = filler(f, at);
                }
            }
        }
    }
}

// Through the codec's API: a chat line decodes and encodes exactly when its bytes are text.
TEST(TextBytes, DecoderAndEncoderAgreeWithTheSpec) {
    for (const std::size_t n :
         {std::size_t(1), std::size_t(17), std::size_t(64), std::size_t(1000)}) {
        for (const std::size_t at : {std::size_t(0), n / 2, n - 1}) {
            for (unsigned b = 0; b < 256; ++b) {
                std::string text(n, 'x');
                text[at] = char(b);
                std::string wire;
                const auto refused = encode(Text{text}, wire);
                EXPECT_EQ(!refused, text_char(b))
                    << "encoding byte " << b << " at " << at << " of " << n;
                const std::string line = text + "\r\n"; // the decoded text views it
                const auto decoded = decode(Context::chat, line);
                const bool whole = decoded.ok() && std::holds_alternative<Text>(decoded.value()) &&
                                   std::get<Text>(decoded.value()).text == text;
                EXPECT_EQ(whole, text_char(b))
                    << "decoding byte " << b << " at " << at << " of " << n;
            }
        }
    }
}

} // namespace
} // namespace tcpchat
