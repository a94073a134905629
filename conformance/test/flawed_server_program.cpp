// FlawedServer as a program, for tests that drive the real binaries (grade): serves on a free
// loopback port, prints `listening on 127.0.0.1:PORT`, and stops on SIGTERM or SIGINT.
// Flaws (--flaw=NAME): none, never-closes, misspells, bridges-to-self, no-final-blank,
// dies-on-bad-input.
#include "flawed_server.hpp"

#include <csignal>
#include <iostream>
#include <string>
#include <unistd.h>

namespace {

using tcpchat::conformance::testing::Flaw;

volatile std::sig_atomic_t stop = 0;

extern "C" void on_signal(int) {
    stop = 1;
}

} // namespace

int main(int argc, char** argv) {
    const std::string arg = argc > 1 ? argv[1] : "--flaw=none";
    const std::pair<const char*, Flaw> flaws[] = {
        {"none", Flaw::none},
        {"never-closes", Flaw::never_closes},
        {"misspells", Flaw::misspells_method},
        {"bridges-to-self", Flaw::bridges_to_self},
        {"no-final-blank", Flaw::no_final_blank},
        {"dies-on-bad-input", Flaw::dies_on_bad_input},
    };
    for (const auto& [name, flaw] : flaws) {
        if (arg != std::string("--flaw=") + name) {
            continue;
        }
        std::signal(SIGTERM, on_signal);
        std::signal(SIGINT, on_signal);
        const tcpchat::conformance::testing::FlawedServer server(flaw);
        std::cout << "listening on 127.0.0.1:" << server.port() << std::endl;
        while (stop == 0) {
            ::usleep(50 * 1000);
        }
        return 0;
    }
    std::cerr << "usage: conformance_flawed_server_program --flaw=NAME\n";
    return 2;
}
