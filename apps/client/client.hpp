// The running client: carries out the state machine's effects with the transport (request
// client, WAIT mode, initiator, peer link) and the terminal, and feeds their outcomes back.
#pragma once

#include "state_machine.hpp"
#include "tcpchat/peer_link.hpp"
#include "tcpchat/request_client.hpp"
#include "terminal.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>

namespace tcpchat::client {

struct Timeouts {
    std::chrono::milliseconds network{5000}; // connect, each reply, a waiting peer's CHAT (§10)
    std::chrono::milliseconds wait_reminder{600000}; // the server's wait timeout (§6.5, §10.3)
};

// How this client frames its chat turns (§10.4): a fixed form, or none to learn the peer's.
using ChatFraming = std::optional<Framing>;

class Client {
  public:
    Client(boost::asio::io_context& io, Config config, Timeouts timeouts, Terminal& terminal,
           ChatFraming framing = std::nullopt);

    // Greets, then reads the terminal and handles SIGINT, SIGTERM and SIGHUP as /quit.
    void start();
    [[nodiscard]] int exit_status() const noexcept { return exit_status_; }

  private:
    void apply(Effects effects);
    void carry_out(const Effect& effect);
    void bridge(const std::string& listen_host);
    void wait_for_peer();
    void stop_listening();
    void open_chat(const effect::OpenChat& open);
    void begin_chat(std::shared_ptr<PeerLink> link);
    void catch_signals();
    void shut_down(int status);

    boost::asio::io_context& io_;
    StateMachine machine_;
    Timeouts timeouts_;
    Terminal& terminal_;
    RequestClient requests_;
    WaitMode wait_mode_;
    Initiator initiator_;
    std::shared_ptr<PeerLink> link_;
    boost::asio::steady_timer reminder_;
    boost::asio::signal_set signals_;
    bool waiting_ = false;
    bool done_ = false;
    int signals_seen_ = 0;
    int exit_status_ = exit_ok;
};

} // namespace tcpchat::client
