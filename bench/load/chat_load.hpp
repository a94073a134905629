// The chat load (spec §5.5-§5.7): pairs of peers over loopback, the initiator connecting to the
// waiting peer and sending CHAT, then text lines ping-ponging in turns; one round trip is a line
// there and a line back. Every byte is encoded and decoded by the codec. One ChatWorker per
// thread, each with its own io_context and pairs.
#pragma once

#include "budget.hpp"
#include "options.hpp"
#include "results.hpp"
#include "tcpchat/message.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <memory>
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
    struct Peer;

  private:
    void start(Pair& p);
    void read(Pair& p, Peer& peer);
    void on_message(Pair& p, Peer& peer, const Message& m);
    void send(Pair& p, Peer& peer, const Message& m);
    void flush(Pair& p, Peer& peer);
    void ping(Pair& p);
    void fail(Pair& p, ErrorKind kind, std::string text);
    void close(Peer& peer);
    void watch();

    const LoadOptions& options_;
    Budget& budget_;
    boost::asio::io_context io_;
    boost::asio::steady_timer watchdog_;
    std::vector<std::unique_ptr<Pair>> pairs_;
    std::size_t open_peers_ = 0;
};

} // namespace tcpchat::load
