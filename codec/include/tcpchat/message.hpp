// The message model (spec §4): plain values, one struct per message, a variant over them.
//
// Decoded values hold views into the bytes they were decoded from (the caller's buffer or the
// decoder's own); encoding takes the same values. ContactRecord is the owning form for whoever
// keeps a contact beyond one message (the server's registry, the client's state).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tcpchat {

// Contact details: the three header fields clientID, IP and Port (spec §4.3).
// `host` is the IP field's text: dotted IPv4 or, as an extension, IPv6 without brackets.
struct Contact {
    std::string_view id;
    std::string_view host;
    std::uint16_t port = 0;

    friend bool operator==(const Contact&, const Contact&) = default;
};

// The owning form of a Contact.
struct ContactRecord {
    std::string id;
    std::string host;
    std::uint16_t port = 0;

    ContactRecord() = default;
    ContactRecord(std::string id_, std::string host_, std::uint16_t port_)
        : id(std::move(id_)), host(std::move(host_)), port(port_) {}
    explicit ContactRecord(const Contact& c) : id(c.id), host(c.host), port(c.port) {}

    [[nodiscard]] Contact view() const noexcept { return {id, host, port}; }

    friend bool operator==(const ContactRecord&, const ContactRecord&) = default;
};

// Client -> server (spec §5.1).
struct Register {
    Contact self;
    friend bool operator==(const Register&, const Register&) = default;
};

// Server -> client (spec §5.2). `status` is the optional `Status: registered` line some servers
// add.
struct RegAck {
    Contact self;
    bool status = false;
    friend bool operator==(const RegAck&, const RegAck&) = default;
};

// Client -> server (spec §5.3).
struct Bridge {
    std::string_view id;
    friend bool operator==(const Bridge&, const Bridge&) = default;
};

// Server -> client (spec §5.4). No peer: the empty BRIDGEACK, the receiver waits.
struct BridgeAck {
    std::optional<Contact> peer;
    friend bool operator==(const BridgeAck&, const BridgeAck&) = default;
};

// Initiator -> waiting client, first on the peer connection (spec §5.5).
struct Chat {
    Contact self;
    friend bool operator==(const Chat&, const Chat&) = default;
};

// One chat turn: the typed line, unstuffed (spec §5.6). Never contains CR or LF.
struct Text {
    std::string_view text;
    friend bool operator==(const Text&, const Text&) = default;
};

// Either peer, ends the chat (spec §5.7).
struct Quit {
    friend bool operator==(const Quit&, const Quit&) = default;
};

// Server -> client instead of REGACK/BRIDGEACK when a request is refused (spec §5.8).
struct ErrorReply {
    std::uint16_t code = 0;
    std::string_view reason;
    friend bool operator==(const ErrorReply&, const ErrorReply&) = default;
};

// The reply codes a server sends in ERROR (spec §5.8).
namespace reply_code {
inline constexpr std::uint16_t bad_request = 400;
inline constexpr std::uint16_t forbidden = 403;
inline constexpr std::uint16_t not_registered = 404;
inline constexpr std::uint16_t method_not_allowed = 405;
inline constexpr std::uint16_t timeout = 408;
inline constexpr std::uint16_t too_large = 413;
inline constexpr std::uint16_t unavailable = 503;
} // namespace reply_code

using Message = std::variant<Register, RegAck, Bridge, BridgeAck, Chat, Text, Quit, ErrorReply>;

// The method name that starts the message on the wire ("REGISTER", ...); "" for Text.
[[nodiscard]] std::string_view method_name(const Message& m) noexcept;

// Printing, for logs and test failures: the message as one readable line, e.g.
// `REGISTER{clientID=user1 IP=127.0.0.1 Port=3000}` or `Text{"hello"}`.
std::ostream& operator<<(std::ostream& os, const Contact& c);
std::ostream& operator<<(std::ostream& os, const Register& m);
std::ostream& operator<<(std::ostream& os, const RegAck& m);
std::ostream& operator<<(std::ostream& os, const Bridge& m);
std::ostream& operator<<(std::ostream& os, const BridgeAck& m);
std::ostream& operator<<(std::ostream& os, const Chat& m);
std::ostream& operator<<(std::ostream& os, const Text& m);
std::ostream& operator<<(std::ostream& os, const Quit& m);
std::ostream& operator<<(std::ostream& os, const ErrorReply& m);
std::ostream& operator<<(std::ostream& os, const Message& m);
[[nodiscard]] std::string to_string(const Message& m);

} // namespace tcpchat
