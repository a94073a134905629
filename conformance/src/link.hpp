// One live connection between two actors of a case, seen from the runner's side.
#pragma once

#include "socket.hpp"

#include <string>

namespace tcpchat::conformance {

struct Link {
    Fd fd;
    std::string initiator, acceptor; // `connect initiator acceptor`
    std::string inbox;               // bytes received and not yet matched
    bool eof = false;                // the other side ended its stream (or reset)
    bool reset = false;
    bool shut = false; // the played side shut down its sending direction (`closes`, `half-closes`)
    int blocks_read[2] = {0, 0}; // per direction: blocks already matched (for the lenient context)

    // Appends what arrives within `wait_ms` to the inbox, or notes the end of the stream.
    void receive(int wait_ms);
    // Nothing more can arrive on it.
    [[nodiscard]] bool ended() const noexcept { return eof || !fd.valid(); }
};

// The key of the link between two actors, whichever opened it.
[[nodiscard]] std::string pair_key(const std::string& a, const std::string& b);

} // namespace tcpchat::conformance
