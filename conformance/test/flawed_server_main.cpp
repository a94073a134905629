// The flawed server as a process: for the runner's supervision (server --exec), where the flaws
// that end or stop a process can only be watched from outside it, and for grade's end-to-end test.
//   conformance_flawed_server --flaw=NAME [--host=127.0.0.1] [--port=PORT]   (0, the default: any
//   free port; the line `listening on HOST:PORT` says which)
#include "flawed_server.hpp"

#include <cstdio>
#include <string>
#include <unistd.h>

int main(int argc, char** argv) {
    using tcpchat::conformance::testing::FlawedServer;
    std::string flaw = "none";
    std::string host = "127.0.0.1";
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.starts_with("--flaw=")) {
            flaw = a.substr(7);
        } else if (a.starts_with("--host=")) {
            host = a.substr(7);
        } else if (a.starts_with("--port=")) {
            port = std::stoi(a.substr(7));
        }
    }
    const auto f = tcpchat::conformance::testing::flaw_named(flaw);
    if (!f || port < 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s --flaw=NAME [--host=ADDR] --port=PORT\n", argv[0]);
        return 2;
    }
    FlawedServer server(*f, host, std::uint16_t(port));
    server.log_requests();
    std::printf("listening on %s:%u\n", host.c_str(), unsigned(server.port()));
    std::fflush(stdout);
    for (;;) {
        ::pause(); // until a signal ends it; a flaw that stops serving leaves it alive
    }
}
