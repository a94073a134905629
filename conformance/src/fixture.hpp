// The fixture of a live-mode case: what is bound before its first step.
#pragma once

#include "socket.hpp"
#include "tcpchat/conformance.hpp"

#include <map>
#include <optional>
#include <string>

namespace tcpchat::conformance {

struct Fixture {
    transcript::Bindings bindings;
    std::map<std::string, Fd> listeners;          // played actors that are connected to
    std::map<std::string, std::string> source_of; // actor -> source address to bind
    std::string command;                          // client mode: the client's command line
};

// Binds ${run} (fresh per case and run), every actor's id, port and address, and ${server}; in
// client mode also listens as the server and as every played actor the client connects to, and
// builds the client's command line from LiveOptions::exec. The failure if a socket cannot be had.
[[nodiscard]] std::optional<Failure> bind_fixture(const Case& c, const LiveOptions& o, Mode mode,
                                                  Fixture& f);

// Why the case cannot be run here, or nothing: a case that needs a second source address
// (`from another address`) where that address cannot be bound.
[[nodiscard]] std::optional<std::string> skip_reason(const Case& c, const LiveOptions& o,
                                                     Mode mode);

} // namespace tcpchat::conformance
