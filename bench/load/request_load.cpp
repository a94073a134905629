#include "request_load.hpp"

#include "tcpchat/encode.hpp"
#include "tcpchat/stream_decoder.hpp"

#include <array>
#include <boost/asio/write.hpp>
#include <string>
#include <string_view>

namespace tcpchat::load {

namespace asio = boost::asio;
using boost::asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t first_port = 20000;
constexpr auto watch_interval = std::chrono::milliseconds(50);

// With nothing listening, a connect to a port of the ephemeral range can meet itself (TCP
// simultaneous open) and read back its own request: that is no reply, but no server at all.
bool connected_to_itself(const tcp::socket& socket) {
    boost::system::error_code local_ec;
    boost::system::error_code remote_ec;
    return socket.local_endpoint(local_ec) == socket.remote_endpoint(remote_ec) && !local_ec;
}

} // namespace

struct RequestWorker::Slot {
    Slot(asio::io_context& io, std::size_t index, tcp::endpoint server_)
        : socket(io), server(server_), pace(io), id("load-" + std::to_string(index)),
          port(std::uint16_t(first_port + index % (65536 - first_port))) {}

    tcp::socket socket;
    tcp::endpoint server;    // --server: where this slot's requests go
    asio::steady_timer pace; // --rate: waits for the request's scheduled start
    StreamDecoder decoder{Context::response};
    std::string id;
    std::uint16_t port;
    std::string out;
    std::array<char, 4096> in{};

    bool send_register = true; // the kind of the request in flight, or of the next one
    bool counted = true;       // false for the REGISTER that sets up a bridge-only slot
    bool registered = false;
    bool replied = false;
    bool timed_out = false;
    bool busy = false;
    clock::time_point started; // when the request was started (for --timeout)
    clock::time_point origin;  // where its latency counts from: started, or its scheduled time
    Results results;
};

RequestWorker::RequestWorker(const LoadOptions& options, Budget& budget, std::size_t first_slot,
                             std::size_t slots)
    : options_(options), budget_(budget), watchdog_(io_) {
    if (options.rate) {
        // This worker's share of the rate: one request every threads/rate seconds.
        interval_ = std::chrono::duration_cast<clock::duration>(
            std::chrono::duration<double>(double(options.threads) / *options.rate));
    }
    for (std::size_t i = 0; i < slots; ++i) {
        const std::size_t index = first_slot + i;
        slots_.push_back(
            std::make_unique<Slot>(io_, index, options.servers[index % options.servers.size()]));
    }
}

RequestWorker::~RequestWorker() = default;

void RequestWorker::run() {
    next_start_ = clock::now();
    for (auto& s : slots_) {
        ++active_;
        start(*s);
    }
    watch();
    io_.run();
}

Results RequestWorker::results() {
    Results all;
    for (auto& s : slots_) {
        all.merge(std::move(s->results));
    }
    return all;
}

void RequestWorker::start(Slot& s) {
    switch (options_.mode) {
    case Mode::register_only:
        s.send_register = true;
        s.counted = true;
        break;
    case Mode::bridge_only:
        s.send_register = !s.registered;
        s.counted = s.registered;
        break;
    default:
        s.send_register = !s.send_register || !s.registered;
        s.counted = true;
        break;
    }
    if (s.counted && !budget_.take()) {
        if (--active_ == 0) {
            watchdog_.cancel();
        }
        return;
    }
    if (!options_.rate || !s.counted) {
        send(s, clock::now());
        return;
    }
    // Paced (--rate): requests start on a fixed schedule, and latency counts from the scheduled
    // time, so that a server falling behind shows as latency (no coordinated omission).
    const clock::time_point at = next_start_;
    next_start_ += interval_;
    if (at <= clock::now()) {
        send(s, at);
        return;
    }
    s.pace.expires_at(at);
    s.pace.async_wait([this, &s, at](const boost::system::error_code&) { send(s, at); });
}

void RequestWorker::send(Slot& s, clock::time_point origin) {
    s.origin = origin;
    s.out.clear();
    const Message request = s.send_register ? Message{Register{Contact{s.id, "127.0.0.1", s.port}}}
                                            : Message{Bridge{s.id}};
    if (const std::error_code ec = encode(request, s.out)) {
        s.results.fail(ErrorKind::bad_reply, "cannot encode the request: " + ec.message());
        --active_;
        return;
    }
    s.decoder.reset(Context::response);
    s.replied = false;
    s.timed_out = false;
    s.busy = true;
    s.started = clock::now();
    boost::system::error_code ec;
    s.socket.open(s.server.protocol(), ec);
    if (ec) {
        s.results.fail(ErrorKind::connect, "socket: " + ec.message());
        asio::post(io_, [this, &s] { finish(s); });
        return;
    }
    s.socket.async_connect(s.server,
                           [this, &s](const boost::system::error_code& e) { on_connect(s, e); });
}

void RequestWorker::on_connect(Slot& s, const boost::system::error_code& ec) {
    if (ec) {
        s.results.fail(s.timed_out ? ErrorKind::timeout : ErrorKind::connect,
                       "connect: " + ec.message());
        finish(s);
        return;
    }
    asio::async_write(
        s.socket, asio::buffer(s.out),
        [this, &s](const boost::system::error_code& e, std::size_t /*n*/) { on_write(s, e); });
}

void RequestWorker::on_write(Slot& s, const boost::system::error_code& ec) {
    if (ec) {
        s.results.fail(s.timed_out ? ErrorKind::timeout : ErrorKind::closed,
                       "write: " + ec.message());
        finish(s);
        return;
    }
    read(s);
}

void RequestWorker::read(Slot& s) {
    s.socket.async_read_some(asio::buffer(s.in), [this, &s](const boost::system::error_code& e,
                                                            std::size_t n) { on_read(s, e, n); });
}

// Reads until the server closes (spec §6.1): the reply, then end of stream.
void RequestWorker::on_read(Slot& s, const boost::system::error_code& ec, std::size_t n) {
    if (!ec) {
        if (consume(s, n)) {
            read(s);
        } else {
            finish(s);
        }
        return;
    }
    if (ec == asio::error::eof) {
        while (!s.replied) {
            const Step step = s.decoder.finish();
            if (step.status == Status::message) {
                if (!on_reply(s, s.decoder.message())) {
                    break;
                }
            } else if (step.status == Status::end) {
                s.results.fail(ErrorKind::closed, "the server closed without a reply");
                break;
            } else {
                s.results.fail(ErrorKind::closed, "the server closed inside its reply: " +
                                                      to_string(s.decoder.error()));
                break;
            }
        }
    } else if (s.timed_out) {
        s.results.fail(ErrorKind::timeout,
                       s.replied ? "the server did not close after its reply" : "no reply");
    } else if (!s.replied) {
        s.results.fail(ErrorKind::closed, "read: " + ec.message());
    } // a reset after the reply loses nothing
    finish(s);
}

// Feeds what arrived to the decoder; false when the connection is to be dropped.
bool RequestWorker::consume(Slot& s, std::size_t n) {
    std::string_view data(s.in.data(), n);
    for (;;) {
        const Step step = s.decoder.feed(data);
        data.remove_prefix(step.consumed);
        switch (step.status) {
        case Status::message:
            if (!on_reply(s, s.decoder.message())) {
                return false;
            }
            break;
        case Status::error:
            if (connected_to_itself(s.socket)) {
                s.results.fail(ErrorKind::connect, "connected to itself: is the server running?");
            } else {
                s.results.fail(ErrorKind::bad_reply,
                               "undecodable reply: " + to_string(s.decoder.error()));
            }
            return false;
        default: return true;
        }
    }
}

// The reply the request calls for (spec §5.2, §5.4), or ERROR (spec §5.8).
bool RequestWorker::on_reply(Slot& s, const Message& reply) {
    if (s.replied) {
        s.results.fail(ErrorKind::bad_reply, "a second reply: " + to_string(reply));
        return false;
    }
    s.replied = true;
    if (const auto* e = std::get_if<ErrorReply>(&reply)) {
        s.results.fail(ErrorKind::refused,
                       "ERROR " + std::to_string(e->code) + " " + std::string(e->reason));
        return true;
    }
    const auto* regack = std::get_if<RegAck>(&reply);
    const auto* bridgeack = std::get_if<BridgeAck>(&reply);
    const bool expected =
        s.send_register ? regack != nullptr && regack->self.id == s.id
                        : bridgeack != nullptr && (!bridgeack->peer || bridgeack->peer->id != s.id);
    if (!expected) {
        s.results.fail(ErrorKind::bad_reply, std::string(s.send_register ? "REGISTER" : "BRIDGE") +
                                                 " answered with " + to_string(reply));
        return false;
    }
    if (s.send_register) {
        s.registered = true;
    }
    if (s.counted) {
        s.results.record(clock::now() - s.origin);
    }
    return true;
}

void RequestWorker::finish(Slot& s) {
    boost::system::error_code ignored;
    s.socket.close(ignored);
    s.busy = false;
    start(s);
}

// Cuts requests that take longer than --timeout: closing the socket completes their handlers.
void RequestWorker::watch() {
    if (active_ == 0) {
        return;
    }
    watchdog_.expires_after(watch_interval);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        const auto now = clock::now();
        for (auto& s : slots_) {
            if (s->busy && !s->timed_out && now - s->started > options_.timeout) {
                s->timed_out = true;
                boost::system::error_code ignored;
                s->socket.close(ignored);
            }
        }
        watch();
    });
}

} // namespace tcpchat::load
