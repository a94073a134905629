#include "tcpchat/error.hpp"

#include <ostream>
#include <string>

namespace tcpchat {
namespace {

struct Category final : std::error_category {
    [[nodiscard]] const char* name() const noexcept override { return "tcpchat.codec"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (Errc(value)) {
        case Errc::truncated: return "the stream ended inside a message";
        case Errc::invalid_byte: return "a byte that is not allowed here";
        case Errc::bare_lf: return "LF without CR";
        case Errc::trailing_data: return "bytes after the message";
        case Errc::data_after_quit: return "bytes after QUIT";
        case Errc::unknown_method: return "not a method of the protocol";
        case Errc::unexpected_method: return "a method that is not expected here";
        case Errc::malformed_header: return "a malformed header line";
        case Errc::unknown_header: return "a header this message does not have";
        case Errc::duplicate_header: return "a header given twice";
        case Errc::missing_header: return "a required header is missing";
        case Errc::header_order: return "headers out of order";
        case Errc::bad_separator: return "not exactly \": \" after the header name";
        case Errc::trailing_whitespace: return "whitespace at the end of a value";
        case Errc::empty_value: return "an empty value where one is required";
        case Errc::bad_client_id: return "an invalid clientID";
        case Errc::bad_ip: return "an invalid IP address";
        case Errc::bad_port: return "an invalid port";
        case Errc::bad_status: return "an invalid Status";
        case Errc::bad_code: return "an invalid Code";
        case Errc::unstuffed_quit: return "a text line QUIT that is not the QUIT message";
        case Errc::line_too_long: return "a line longer than MAX-LINE";
        case Errc::too_many_headers: return "more header lines than MAX-HEADERS";
        case Errc::message_too_large: return "a message larger than MAX-MESSAGE";
        case Errc::id_too_long: return "a clientID longer than MAX-ID";
        }
        return "unknown codec error";
    }
};

} // namespace

const std::error_category& codec_category() noexcept {
    static const Category category;
    return category;
}

std::error_code make_error_code(Errc e) noexcept {
    return {int(e), codec_category()};
}

std::string_view errc_name(Errc e) noexcept {
    switch (e) {
    case Errc::truncated: return "truncated";
    case Errc::invalid_byte: return "invalid_byte";
    case Errc::bare_lf: return "bare_lf";
    case Errc::trailing_data: return "trailing_data";
    case Errc::data_after_quit: return "data_after_quit";
    case Errc::unknown_method: return "unknown_method";
    case Errc::unexpected_method: return "unexpected_method";
    case Errc::malformed_header: return "malformed_header";
    case Errc::unknown_header: return "unknown_header";
    case Errc::duplicate_header: return "duplicate_header";
    case Errc::missing_header: return "missing_header";
    case Errc::header_order: return "header_order";
    case Errc::bad_separator: return "bad_separator";
    case Errc::trailing_whitespace: return "trailing_whitespace";
    case Errc::empty_value: return "empty_value";
    case Errc::bad_client_id: return "bad_client_id";
    case Errc::bad_ip: return "bad_ip";
    case Errc::bad_port: return "bad_port";
    case Errc::bad_status: return "bad_status";
    case Errc::bad_code: return "bad_code";
    case Errc::unstuffed_quit: return "unstuffed_quit";
    case Errc::line_too_long: return "line_too_long";
    case Errc::too_many_headers: return "too_many_headers";
    case Errc::message_too_large: return "message_too_large";
    case Errc::id_too_long: return "id_too_long";
    }
    return "unknown";
}

std::optional<Errc> errc_from_name(std::string_view name) noexcept {
    for (int i = int(Errc::truncated); i <= int(Errc::id_too_long); ++i) {
        if (errc_name(Errc(i)) == name) {
            return Errc(i);
        }
    }
    return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, Errc e) {
    return os << errc_name(e);
}

std::string to_string(const DecodeError& e) {
    std::string text(errc_name(e.code));
    text.append(" at byte ").append(std::to_string(e.offset));
    if (!e.expected.empty()) {
        text.append(" (expected ").append(e.expected).append(")");
    }
    return text;
}

std::ostream& operator<<(std::ostream& os, const DecodeError& e) {
    return os << to_string(e);
}

} // namespace tcpchat
