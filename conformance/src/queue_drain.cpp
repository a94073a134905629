// Emptying a server's waiting queue before a server-mode case (spec/transcript-format.md §T.9.2).
#include "queue_drain.hpp"

#include "socket.hpp"
#include "tcpchat/codec.hpp"
#include "value.hpp"

#include <atomic>
#include <sys/socket.h>

namespace tcpchat::conformance {

using namespace std::chrono_literals;

// Before a server-mode case: whoever waits in the server's queue (left by an earlier run or a
// failed case) is paired away, so that the case's first BRIDGE meets an empty queue (§6.3).
void drain_queue(const LiveOptions& options) {
    static std::atomic<int> counter{0};
    const Endpoint server{options.server_host, options.server_port};
    // One request on its own connection; the reply as a value, read as soon as it is complete
    // (a server that never closes must not make draining wait for the end of the stream).
    auto request = [&](const std::string& bytes) -> std::optional<Described> {
        std::string error;
        const auto until = Clock::now() + 2s;
        Fd fd = connect_to(server, "", until, error);
        if (!fd.valid() || !write_all(fd.get(), bytes, until)) {
            return std::nullopt;
        }
        StreamDecoder decoder(Context::response);
        char buf[4096];
        while (wait_readable(fd.get(), until)) {
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            const Step st =
                n > 0 ? decoder.feed(std::string_view(buf, std::size_t(n))) : decoder.finish();
            if (st.status == Status::message) {
                return describe(decoder.message());
            }
            if (n <= 0 || st.status != Status::need_more) {
                break;
            }
        }
        return std::nullopt;
    };
    auto enrol = [&](const std::string& id) {
        if (!request(to_wire(Register{{id, "127.0.0.1", 9}}))) {
            return std::optional<Described>{};
        }
        return request(to_wire(Bridge{id}));
    };
    auto next_id = [&] { return "drain-" + options.run_id + "-" + std::to_string(++counter); };
    for (int i = 0; i < 16; ++i) {
        const auto reply = enrol(next_id());
        if (!reply || reply->method != "BRIDGEACK") {
            return; // not a server we can drain: the cases will tell
        }
        if (reply->fields.empty()) {
            // Our drain client now waits: one more takes it, and the queue is empty.
            enrol(next_id());
            return;
        }
    }
}

} // namespace tcpchat::conformance
