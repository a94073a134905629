#include "chat_load.hpp"

#include "tcpchat/encode.hpp"
#include "tcpchat/stream_decoder.hpp"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <string_view>

namespace tcpchat::load {

namespace asio = boost::asio;
using boost::asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto watch_interval = std::chrono::milliseconds(50);

std::string describe(const DecodeError& e) {
    return std::string(errc_name(e.code)) + " at byte " + std::to_string(e.offset) + " (expected " +
           std::string(e.expected) + ")";
}

// A chat line of `size` printable bytes.
std::string line_of(std::size_t size, char first) {
    std::string text(size, ' ');
    for (std::size_t i = 0; i < size; ++i) {
        text[i] = char(first + i % 26);
    }
    return text;
}

} // namespace

// One end of the peer connection: its socket, its decoder and its buffers.
struct ChatWorker::Peer {
    Peer(asio::io_context& io, Context context, std::string text_)
        : socket(io), decoder(context), text(std::move(text_)) {}

    tcp::socket socket;
    StreamDecoder decoder;
    std::string text;    // the line this peer sends each turn
    std::string writing; // bytes of the write in flight
    std::string queued;  // encoded messages waiting for it
    bool quit_queued = false;
    std::array<char, 65536> in{};
    bool open = false;
};

struct ChatWorker::Pair {
    Pair(asio::io_context& io, std::size_t index, std::size_t size)
        : acceptor(io), waiter(io, Context::chat_open, line_of(size, 'a')),
          initiator(io, Context::chat, line_of(size, 'A')), id("peer-" + std::to_string(index)) {}

    tcp::acceptor acceptor;
    Peer waiter;
    Peer initiator;
    std::string id;
    std::string host;
    bool busy = false; // a round trip is in flight
    bool timed_out = false;
    clock::time_point started;
    Results results;
};

ChatWorker::ChatWorker(const LoadOptions& options, Budget& budget, std::size_t first_pair,
                       std::size_t pairs)
    : options_(options), budget_(budget), watchdog_(io_) {
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
    return all;
}

// The waiting peer listens (spec §10.3); the initiator connects and sends CHAT (spec §5.5).
void ChatWorker::start(Pair& p) {
    boost::system::error_code ec;
    const tcp::endpoint listen_on(options_.peer_host, 0);
    p.acceptor.open(listen_on.protocol(), ec);
    if (!ec) {
        p.acceptor.bind(listen_on, ec);
    }
    if (!ec) {
        p.acceptor.listen(1, ec);
    }
    if (ec) {
        p.results.fail(ErrorKind::connect, "listen: " + ec.message());
        return;
    }
    p.host = options_.peer_host.to_string();
    const tcp::endpoint waiter_at = p.acceptor.local_endpoint();
    p.waiter.open = p.initiator.open = true;
    open_peers_ += 2;
    p.busy = true;
    p.started = clock::now();

    p.acceptor.async_accept(p.waiter.socket, [this, &p](const boost::system::error_code& e) {
        boost::system::error_code ignored;
        p.acceptor.close(ignored);
        if (e) {
            fail(p, p.timed_out ? ErrorKind::timeout : ErrorKind::connect,
                 "accept: " + e.message());
            return;
        }
        read(p, p.waiter);
    });
    p.initiator.socket.async_connect(waiter_at, [this, &p](const boost::system::error_code& e) {
        if (e) {
            fail(p, p.timed_out ? ErrorKind::timeout : ErrorKind::connect,
                 "connect: " + e.message());
            return;
        }
        boost::system::error_code ignored;
        p.initiator.socket.set_option(tcp::no_delay(true), ignored);
        const auto port = p.initiator.socket.local_endpoint(ignored).port();
        send(p, p.initiator, Chat{Contact{p.id, p.host, port}});
        read(p, p.initiator);
        ping(p);
    });
}

// The initiator's turn: one more round trip, or QUIT when the budget is spent (spec §5.7).
void ChatWorker::ping(Pair& p) {
    if (!budget_.take()) {
        p.busy = false;
        send(p, p.initiator, Quit{});
        return;
    }
    p.busy = true;
    p.started = clock::now();
    send(p, p.initiator, Text{p.initiator.text});
}

// Encodes `m` behind whatever this peer has queued, and writes. A line is sent only after the
// previous one was answered, so at most the CHAT and the first line are queued at once.
void ChatWorker::send(Pair& p, Peer& peer, const Message& m) {
    if (const std::error_code ec = encode(m, peer.queued)) {
        fail(p, ErrorKind::bad_reply, "cannot encode " + to_string(m) + ": " + ec.message());
        return;
    }
    peer.quit_queued = peer.quit_queued || std::holds_alternative<Quit>(m);
    flush(p, peer);
}

void ChatWorker::flush(Pair& p, Peer& peer) {
    if (!peer.writing.empty() || peer.queued.empty() || !peer.open) {
        return;
    }
    std::swap(peer.writing, peer.queued);
    asio::async_write(peer.socket, asio::buffer(peer.writing),
                      [this, &p, &peer](const boost::system::error_code& ec, std::size_t /*n*/) {
                          if (ec) {
                              fail(p, p.timed_out ? ErrorKind::timeout : ErrorKind::closed,
                                   "write: " + ec.message());
                              return;
                          }
                          peer.writing.clear();
                          if (!peer.queued.empty()) {
                              flush(p, peer);
                          } else if (peer.quit_queued) {
                              close(peer); // the sender of QUIT closes (spec §5.7)
                          }
                      });
}

void ChatWorker::read(Pair& p, Peer& peer) {
    peer.socket.async_read_some(asio::buffer(peer.in), [this, &p,
                                                        &peer](const boost::system::error_code& ec,
                                                               std::size_t n) {
        if (!peer.open) {
            return;
        }
        if (ec) {
            if (ec == asio::error::eof && &peer == &p.initiator && !p.busy) {
                close(peer); // the waiter closed after our QUIT
                return;
            }
            fail(p, p.timed_out ? ErrorKind::timeout : ErrorKind::closed, "read: " + ec.message());
            return;
        }
        std::string_view data(peer.in.data(), n);
        for (;;) {
            const Step step = peer.decoder.feed(data);
            data.remove_prefix(step.consumed);
            if (step.status == Status::message) {
                on_message(p, peer, step.message);
                if (!peer.open) {
                    return;
                }
            } else if (step.status == Status::error) {
                fail(p, ErrorKind::bad_reply, "undecodable chat line: " + describe(step.error));
                return;
            } else {
                break;
            }
        }
        read(p, peer);
    });
}

void ChatWorker::on_message(Pair& p, Peer& peer, const Message& m) {
    const auto* text = std::get_if<Text>(&m);
    if (&peer == &p.waiter) {
        if (std::holds_alternative<Chat>(m)) {
            return; // the opening (spec §5.5): the initiator's line follows
        }
        if (std::holds_alternative<Quit>(m)) {
            close(peer);
            return;
        }
        if (text == nullptr || text->text != p.initiator.text) {
            fail(p, ErrorKind::bad_reply, "the waiting peer got " + to_string(m));
            return;
        }
        send(p, peer, Text{peer.text}); // its turn: answer (spec §10.4)
        return;
    }
    if (text == nullptr || text->text != p.waiter.text) {
        fail(p, ErrorKind::bad_reply, "the initiator got " + to_string(m));
        return;
    }
    p.results.record(clock::now() - p.started);
    ping(p);
}

void ChatWorker::fail(Pair& p, ErrorKind kind, std::string text) {
    if (!p.waiter.open && !p.initiator.open) {
        return;
    }
    p.results.fail(kind, std::move(text));
    p.busy = false;
    boost::system::error_code ignored;
    p.acceptor.close(ignored);
    close(p.waiter);
    close(p.initiator);
}

void ChatWorker::close(Peer& peer) {
    if (!peer.open) {
        return;
    }
    peer.open = false;
    boost::system::error_code ignored;
    peer.socket.close(ignored);
    if (--open_peers_ == 0) {
        watchdog_.cancel();
    }
}

// Cuts a round trip (or the opening) that takes longer than --timeout.
void ChatWorker::watch() {
    if (open_peers_ == 0) {
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
