// A small TCP-Chat server for the runner's own tests, with one deliberate flaw at a time, so that
// the tests can check that tcp-chat-conformance fails exactly the cases the flaw breaks.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace tcpchat::conformance::testing {

enum class Flaw {
    none,
    never_closes,      // keeps every connection open after its response
    misspells_method,  // REGACK is sent as REGAK
    bridges_to_self,   // gives a client its own contact when it is the one waiting
    no_final_blank,    // responses lack the empty line that ends a message
    dies_on_bad_input, // stops accepting at the first malformed request, but stays alive
    // Process-level faults, for the runner's supervision (flawed_server_main.cpp runs them):
    exits_on_bad_input,     // exit(1) at the first malformed request
    segfaults_on_bad_input, // SIGSEGV idem
    throws_on_bad_input,    // an uncaught exception idem (std::terminate, SIGABRT)
    hangs_on_bad_input,     // stops answering idem: still listening, never accepts again
    one_recv,               // reads each request with one recv(): a split request is misread
};

// By name as in the flaw's comment's subject, e.g. "exits_on_bad_input"; nullopt if unknown.
std::optional<Flaw> flaw_named(std::string_view name);

class FlawedServer {
  public:
    // Listens on host:port (port 0: any free port), serving in a thread.
    explicit FlawedServer(Flaw flaw, const std::string& host = "127.0.0.1", std::uint16_t port = 0);
    ~FlawedServer();
    FlawedServer(const FlawedServer&) = delete;
    FlawedServer& operator=(const FlawedServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    // Prints a line per request on stdout, as servers do.
    void log_requests() noexcept { log_ = true; }

  private:
    void serve();
    // What a process-level flaw does to the process at a malformed request.
    void fail_on_bad_input() const;

    Flaw flaw_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    int requests_ = 0;
    std::atomic<bool> log_{false};
};

} // namespace tcpchat::conformance::testing
