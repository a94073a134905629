#include "chat_load.hpp"

#include "tcpchat/peer_link.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace tcpchat::load {

namespace asio = boost::asio;
using boost::asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto watch_interval = std::chrono::milliseconds(50);
constexpr std::uint16_t first_port = 20000; // the initiators' Port in CHAT, as request slots'

// A chat line of `size` printable bytes.
std::string line_of(std::size_t size, char first) {
    std::string text(size, ' ');
    for (std::size_t i = 0; i < size; ++i) {
        text[i] = char(first + i % 26);
    }
    return text;
}

// What the client uses, but no pause between CHAT and the first line (§5.5): both peers are
// ours and take CHAT and a line in one segment, and the run's rate would count the gap.
PeerOptions peer_options() {
    PeerOptions options;
    options.chat_gap = std::chrono::milliseconds(0);
    return options;
}

} // namespace

struct ChatWorker::Pair {
    Pair(asio::io_context& io, std::size_t index, std::size_t size)
        : wait(io.get_executor(), peer_options(), nullptr),
          initiator(io.get_executor(), peer_options()), waiter_text(line_of(size, 'a')),
          initiator_text(line_of(size, 'A')), id("peer-" + std::to_string(index)),
          port(std::uint16_t(first_port + index % (65536 - first_port))) {}

    WaitMode wait;
    Initiator initiator;
    std::shared_ptr<PeerLink> waiter_link;
    std::shared_ptr<PeerLink> initiator_link;
    std::string waiter_text;    // the line the waiting peer answers with
    std::string initiator_text; // the line the initiator sends each turn
    std::string id;
    std::uint16_t port;
    bool open = false;     // counted in open_pairs_
    bool busy = false;     // a round trip is in flight
    bool answered = false; // a round trip has completed
    bool timed_out = false;
    int links_ended = 0; // the links that reported on_end
    clock::time_point started;
    Results results;
};

ChatWorker::ChatWorker(const LoadOptions& options, Budget& budget, std::size_t first_pair,
                       std::size_t pairs)
    : options_(options), budget_(budget), watchdog_(io_), allocations_(pairs) {
    for (std::size_t i = 0; i < pairs; ++i) {
        pairs_.push_back(std::make_unique<Pair>(io_, first_pair + i, options.text_size));
    }
}

ChatWorker::~ChatWorker() = default;

void ChatWorker::run() {
    for (auto& p : pairs_) {
        start(*p);
    }
    watch();
    io_.run();
}

Results ChatWorker::results() {
    Results all;
    for (auto& p : pairs_) {
        all.merge(std::move(p->results));
    }
    allocations_.report(all);
    return all;
}

// The waiting peer listens (spec §10.3); the initiator connects and sends CHAT (spec §5.5).
void ChatWorker::start(Pair& p) {
    if (const std::error_code ec = p.wait.listen(tcp::endpoint(options_.peer_host, 0))) {
        p.results.fail(ErrorKind::connect, "listen: " + ec.message());
        return;
    }
    p.open = true;
    ++open_pairs_;
    p.busy = true;
    p.started = clock::now();
    const auto at = p.wait.local_endpoint();
    const std::string host = at.address().to_string();

    p.wait.async_wait([this, &p](std::shared_ptr<PeerLink> link) {
        p.wait.close(); // one chat per pair
        p.waiter_link = std::move(link);
        p.waiter_link->start(
            {[this, &p](std::string_view text) {
                 if (text != p.initiator_text) {
                     fail(p, ErrorKind::bad_reply, "the waiting peer got a line of another text");
                     return;
                 }
                 // Its turn: answer (spec §10.4).
                 if (const auto ec = p.waiter_link->send_text(p.waiter_text)) {
                     fail(p, ErrorKind::closed, "the waiting peer cannot answer: " + ec.message());
                 }
             },
             [this, &p](const ChatEnded& end) {
                 if (end.how != ChatEnd::quit_received) {
                     fail(p, ErrorKind::closed, "the waiting peer: " + end.message);
                 }
                 ended(p);
             }});
    });
    p.initiator.async_open(
        ContactRecord{"waiter-" + p.id, host, at.port()}, ContactRecord{p.id, host, p.port},
        [this, &p](PeerResult result) {
            if (!result.link) {
                fail(p, p.timed_out ? ErrorKind::timeout : ErrorKind::connect, result.message);
                return;
            }
            p.initiator_link = std::move(result.link);
            p.initiator_link->start(
                {[this, &p](std::string_view text) {
                     if (text != p.waiter_text) {
                         fail(p, ErrorKind::bad_reply, "the initiator got a line of another text");
                         return;
                     }
                     answered(p);
                 },
                 [this, &p](const ChatEnded& end) {
                     if (end.how != ChatEnd::quit_sent) {
                         fail(p, ErrorKind::closed, "the initiator: " + end.message);
                     }
                     ended(p);
                 }});
            ping(p);
        });
}

// The initiator's turn: one more round trip, or QUIT when the budget is spent (spec §5.7).
void ChatWorker::ping(Pair& p) {
    if (!budget_.take()) {
        p.busy = false;
        allocations_.stop();
        p.initiator_link->quit();
        return;
    }
    p.busy = true;
    p.started = clock::now();
    if (const auto ec = p.initiator_link->send_text(p.initiator_text)) {
        fail(p, ErrorKind::closed, "the initiator cannot send: " + ec.message());
    }
}

void ChatWorker::answered(Pair& p) {
    p.results.record(clock::now() - p.started);
    allocations_.round_trip(!std::exchange(p.answered, true));
    ping(p);
}

void ChatWorker::fail(Pair& p, ErrorKind kind, std::string text) {
    if (!p.open) {
        return;
    }
    p.results.fail(kind, std::move(text));
    allocations_.stop();
    p.busy = false;
    p.wait.close();
    p.initiator.cancel();
    for (auto* link : {&p.waiter_link, &p.initiator_link}) {
        if (*link) {
            (*link)->close();
        }
    }
    p.links_ended = 2;
    ended(p);
}

// Both links have ended (QUIT through, or failed): the pair is done.
void ChatWorker::ended(Pair& p) {
    if (!p.open || ++p.links_ended < 2) {
        return;
    }
    p.open = false;
    if (--open_pairs_ == 0) {
        watchdog_.cancel();
    }
}

// Cuts a round trip (or the opening) that takes longer than --timeout.
void ChatWorker::watch() {
    if (open_pairs_ == 0) {
        return;
    }
    watchdog_.expires_after(watch_interval);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        const auto now = clock::now();
        for (auto& p : pairs_) {
            if (p->busy && !p->timed_out && now - p->started > options_.timeout) {
                p->timed_out = true;
                fail(*p, ErrorKind::timeout, "no answer within the timeout");
            }
        }
        watch();
    });
}

} // namespace tcpchat::load
