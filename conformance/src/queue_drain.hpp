// Emptying a server's waiting queue, so that a case's first BRIDGE meets an empty one (§6.3).
#pragma once

#include "tcpchat/conformance.hpp"

namespace tcpchat::conformance {

// Pairs away whoever waits in the queue of the server at options.server_host:server_port, with
// throw-away clientIDs `drain-<run>-<n>`; gives up quietly on a server it cannot drain.
void drain_queue(const LiveOptions& options);

} // namespace tcpchat::conformance
