// The chat load (spec §5.5-§5.7): pairs of peers over loopback, each pair a WaitMode and an
// Initiator of the transport, so the chat runs through the same tcpchat::PeerLink that
// tcp-chat-client chats through. The initiator connects and sends CHAT, then text lines
// ping-pong in turns: one round trip is a line there and a line back, the waiting side answering
// each on_text with send_text. One ChatWorker per thread, each with its own io_context and pairs.
#pragma once

#include "budget.hpp"
#include "options.hpp"
#include "results.hpp"
#include "steady_allocations.hpp"
#include "tcpchat/peer_link.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace tcpchat::load {

class ChatWorker {
  public:
    ChatWorker(const LoadOptions& options, Budget& budget, std::size_t first_pair,
               std::size_t pairs);
    ~ChatWorker();
    ChatWorker(const ChatWorker&) = delete;
    ChatWorker& operator=(const ChatWorker&) = delete;

    // Runs until the budget is spent and every pair has said QUIT (or failed).
    void run();
    [[nodiscard]] Results results();

    struct Pair;

  private:
    void start(Pair& p);
    void ping(Pair& p);
    void answered(Pair& p);
    void fail(Pair& p, ErrorKind kind, std::string text);
    void ended(Pair& p);
    void watch();

    const LoadOptions& options_;
    Budget& budget_;
    boost::asio::io_context io_{chat_concurrency_hint}; // as tcp-chat-client's
    boost::asio::steady_timer watchdog_;
    std::vector<std::unique_ptr<Pair>> pairs_;
    std::size_t open_pairs_ = 0;
    SteadyAllocations allocations_;
};

} // namespace tcpchat::load
