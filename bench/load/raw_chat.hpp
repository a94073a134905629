// The chat load's floor (bench/README.md): the same ping-pong as ChatWorker (pairs of peers over
// loopback, a line there and a line back per round trip, the same line sizes) over plain POSIX
// sockets: non-blocking, one epoll loop per thread, lines found with memchr, no codec, no Asio.
// What `--mode chat` costs above this is what the codec, Asio and tcpchat::PeerLink add to a
// chat turn.
#pragma once

#include "budget.hpp"
#include "options.hpp"
#include "results.hpp"
#include "steady_allocations.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace tcpchat::load {

class RawChatWorker {
  public:
    RawChatWorker(const LoadOptions& options, Budget& budget, std::size_t first_pair,
                  std::size_t pairs);
    ~RawChatWorker();
    RawChatWorker(const RawChatWorker&) = delete;
    RawChatWorker& operator=(const RawChatWorker&) = delete;

    // Runs until the budget is spent and every pair has closed (or failed).
    void run();
    [[nodiscard]] Results results();

    struct End;
    struct Pair;

  private:
    void start(Pair& p);
    void ping(Pair& p);
    void on_readable(Pair& p, End& end);
    void send(Pair& p, End& end);
    void fail(Pair& p, ErrorKind kind, const char* what);
    void close(Pair& p);

    const LoadOptions& options_;
    Budget& budget_;
    int epoll_ = -1;
    std::vector<std::unique_ptr<Pair>> pairs_;
    std::size_t open_pairs_ = 0;
    SteadyAllocations allocations_;
};

} // namespace tcpchat::load
