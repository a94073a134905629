// Codec errors (spec §8): an enum with a std::error_category, so they compose with Asio's
// error_code, plus the byte offset where the input went wrong and what was expected there.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace tcpchat {

enum class Errc {
    // Framing and bytes (spec §4.1)
    truncated = 1,   // the stream ended inside a message
    invalid_byte,    // a byte the grammar does not allow here (NUL, a control, ...)
    bare_lf,         // LF not preceded by CR
    trailing_data,   // bytes after the one message a one-shot decode expects
    data_after_quit, // bytes after QUIT on a peer connection
    // Method line (spec §4.2)
    unknown_method,    // not a method of the protocol
    unexpected_method, // a method of the protocol, but not one this side may receive here
    // Header fields (spec §4.3)
    malformed_header, // not `name ":" value`
    unknown_header,   // strict profile: a header the message does not have
    duplicate_header,
    missing_header,
    header_order,        // strict profile: known headers out of the canonical order
    bad_separator,       // strict profile: not exactly ": " between name and value
    trailing_whitespace, // strict profile: whitespace at the end of a value
    empty_value,         // a required value is empty, or a BRIDGEACK is only partly empty
    bad_client_id,
    bad_ip,
    bad_port, // not 1-65535 (or a leading zero in the strict profile)
    bad_status,
    bad_code,
    // Chat stream (spec §5.6)
    unstuffed_quit, // strict profile: a text line `QUIT` that is not the QUIT message
    // Limits (spec §7)
    line_too_long,
    too_many_headers,
    message_too_large,
    id_too_long, // the last: errc_from_name walks the codes up to it
};

[[nodiscard]] const std::error_category& codec_category() noexcept;
[[nodiscard]] std::error_code make_error_code(Errc e) noexcept;
// A short, stable name for the code ("line_too_long"), as used in transcripts and logs.
[[nodiscard]] std::string_view errc_name(Errc e) noexcept;
// The code of that name; nullopt if no code has it.
[[nodiscard]] std::optional<Errc> errc_from_name(std::string_view name) noexcept;

// A decoding failure: what, where (offset from the start of the stream) and what was expected.
struct DecodeError {
    Errc code = Errc::truncated;
    std::uint64_t offset = 0;
    std::string_view expected; // static text, e.g. "CRLF" or "a port number 1-65535"

    [[nodiscard]] std::error_code error_code() const noexcept { return make_error_code(code); }
    friend bool operator==(const DecodeError&, const DecodeError&) = default;
};

// `line_too_long at byte 1031 (expected a line of at most MAX-LINE bytes)`: for logs and replies.
[[nodiscard]] std::string to_string(const DecodeError& e);

std::ostream& operator<<(std::ostream& os, Errc e);
std::ostream& operator<<(std::ostream& os, const DecodeError& e); // as to_string()

} // namespace tcpchat

template <>
struct std::is_error_code_enum<tcpchat::Errc> : std::true_type {};
