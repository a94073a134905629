// What tcp-chat-load is asked to do (bench/README.md): the load's shape and its bounds.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace tcpchat::load {

// int, not uint8_t: CLI11 prints the values of a character type as raw bytes (NULs in --help).
enum class Mode : int {
    register_only, // REGISTER on every connection
    bridge_only,   // BRIDGE on every connection (each clientID is registered once first, uncounted)
    mixed,         // REGISTER and BRIDGE in turn on each connection slot
    chat,          // pairs of peers ping-ponging text lines in CHAT (spec §5.5, §5.6)
    chat_raw,      // the same ping-pong over plain POSIX sockets, the floor `chat` is compared with
};

struct LoadOptions {
    Mode mode = Mode::mixed;
    // Request modes: the servers under load; connection slot i talks to servers[i % size].
    std::vector<boost::asio::ip::tcp::endpoint> servers;
    boost::asio::ip::address peer_host;               // chat mode: where the waiting peers listen
    std::size_t connections = 64;                     // concurrent connections (chat: pairs)
    std::size_t threads = 1;                          // each runs its share of the connections
    std::optional<std::chrono::nanoseconds> duration; // stop starting requests after this
    std::optional<std::uint64_t> requests;            // stop after this many (chat: round trips)
    std::optional<double> rate; // requests/s to start, paced; none: each slot goes back to back
    std::chrono::nanoseconds timeout = std::chrono::seconds(5); // one request or round trip
    std::size_t text_size = 64; // chat: bytes of text per line, CRLF excluded
};

} // namespace tcpchat::load
