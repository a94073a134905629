// What the server answers (spec §6.2-§6.4, §6.6): a decoded request or a refusal in, reply bytes
// and log lines out. No sockets here; server.cpp only moves these bytes.
#pragma once

#include "tcpchat/error.hpp"
#include "tcpchat/message.hpp"
#include "tcpchat/registry.hpp"
#include "tcpchat/server.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpchat::server_request {

struct LogLine {
    LogLevel level = LogLevel::info;
    std::string text;
};

struct Answer {
    std::string reply; // the encoded reply; empty when none can be sent
    std::vector<LogLine> log;
};

// Who sent the request, as observed on the connection (not the IP header).
struct Peer {
    std::string address;  // "127.0.0.1" or "::1" (IPv4-mapped IPv6 shown as IPv4)
    std::string endpoint; // "127.0.0.1:45678" or "[::1]:45678", for log lines
};

// One connection's question to the registry and what comes back. It belongs to the connection
// and stays in place until `done` has run, so the registry's handler holds only its address; its
// buffers keep their capacity from one request to the next.
struct Asking {
    const Peer* peer = nullptr;
    const ServerOptions* options = nullptr;
    Message request;            // views into the connection's decoder, which waits meanwhile
    Answer answer;              // what to reply and log, filled in before `done` runs
    std::function<void()> done; // called exactly once per ask(), inline or later (see Registry)
};

// Acts on `asking.request` via the registry, then fills in `asking.answer` and calls
// `asking.done`. Log lines above `options->log_level` are not even composed.
void ask(Registry& registry, Asking& asking);

// ERROR `code` with `reason`, and the `rejected <peer>: <reason>` line (spec §6.4, §6.6); with
// ErrorReplies::close, the installed base's answer instead, or none (spec §9.3).
[[nodiscard]] Answer refuse(std::uint16_t code, std::string_view reason, const Peer& peer,
                            const ServerOptions& options);

// A request that failed to decode: 400, 405 or 413 with the codec's error as reason.
[[nodiscard]] Answer refuse(const DecodeError& error, const Peer& peer,
                            const ServerOptions& options);

// The reply code for a decoding error (spec §6.4).
[[nodiscard]] std::uint16_t reply_code_for(Errc code) noexcept;

// `5 s`, `0.2 s`, `1.5 s`: a timeout as the operator configured it.
[[nodiscard]] std::string describe(std::chrono::milliseconds duration);

// `127.0.0.1:3000`, `[::1]:3000`.
[[nodiscard]] std::string host_port(std::string_view host, std::uint16_t port);

} // namespace tcpchat::server_request
