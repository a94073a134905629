// The request load (spec §6.1): connection slots that each connect, send one REGISTER or BRIDGE,
// read the reply through the codec's StreamDecoder(Context::response), wait for the server to
// close, and start over. One RequestWorker per thread, each with its own io_context and slots.
#pragma once

#include "budget.hpp"
#include "options.hpp"
#include "results.hpp"
#include "tcpchat/message.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

namespace tcpchat::load {

class RequestWorker {
  public:
    // Slots number first_slot .. first_slot + slots - 1: slot k is clientID `load-k`, Port 20000+k.
    RequestWorker(const LoadOptions& options, Budget& budget, std::size_t first_slot,
                  std::size_t slots);
    ~RequestWorker();
    RequestWorker(const RequestWorker&) = delete;
    RequestWorker& operator=(const RequestWorker&) = delete;

    // Runs until the budget is spent and every slot's last request is over.
    void run();
    // Everything the slots measured; call after run().
    [[nodiscard]] Results results();

    struct Slot;

  private:
    void start(Slot& s);
    void send(Slot& s, std::chrono::steady_clock::time_point origin);
    void on_connect(Slot& s, const boost::system::error_code& ec);
    void on_write(Slot& s, const boost::system::error_code& ec);
    void read(Slot& s);
    void on_read(Slot& s, const boost::system::error_code& ec, std::size_t n);
    bool consume(Slot& s, std::size_t n);
    bool on_reply(Slot& s, const Message& reply);
    void finish(Slot& s);
    void watch();

    const LoadOptions& options_;
    Budget& budget_;
    boost::asio::io_context io_;
    boost::asio::steady_timer watchdog_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::size_t active_ = 0;
    std::chrono::steady_clock::time_point next_start_; // --rate: the next scheduled start
    std::chrono::steady_clock::duration interval_{};   // --rate: between two starts
};

} // namespace tcpchat::load
