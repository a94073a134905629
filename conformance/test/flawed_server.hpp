// A small TCP-Chat server for the runner's own tests, with one deliberate flaw at a time, so that
// the tests can check that tcp-chat-conformance fails exactly the cases the flaw breaks.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace tcpchat::conformance::testing {

enum class Flaw {
    none,
    never_closes,      // keeps every connection open after its response
    misspells_method,  // REGACK is sent as REGAK
    bridges_to_self,   // gives a client its own contact when it is the one waiting
    no_final_blank,    // responses lack the empty line that ends a message
    dies_on_bad_input, // stops serving at the first malformed request
};

class FlawedServer {
  public:
    explicit FlawedServer(Flaw flaw);
    ~FlawedServer();
    FlawedServer(const FlawedServer&) = delete;
    FlawedServer& operator=(const FlawedServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  private:
    void serve();

    Flaw flaw_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace tcpchat::conformance::testing
