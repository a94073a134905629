// One request on its own connection (spec §6.1): resolve, connect, write the request while
// already reading, stop at the first complete reply, close. A single timer bounds each phase.
#include "tcpchat/request_client.hpp"

#include "tcpchat/encode.hpp"
#include "tcpchat/stream_decoder.hpp"
#include "timed_operation.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstdio>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it
#include <vector>

namespace tcpchat {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

std::string_view request_name(const Request& request) {
    return std::holds_alternative<RegisterRequest>(request) ? "REGISTER" : "BRIDGE";
}

// The decoded reply in its owning form, if it answers `request` (spec §5.2, §5.4, §5.8).
std::optional<Reply> own_reply(const Request& request, const Message& message) {
    if (const auto* error = std::get_if<ErrorReply>(&message)) {
        return ErrorRecord{error->code, std::string(error->reason)};
    }
    if (std::holds_alternative<RegisterRequest>(request)) {
        if (const auto* ack = std::get_if<RegAck>(&message)) {
            return RegAckRecord{ContactRecord(ack->self), ack->status};
        }
        return std::nullopt;
    }
    if (const auto* ack = std::get_if<BridgeAck>(&message)) {
        BridgeAckRecord record;
        if (ack->peer) {
            record.peer = ContactRecord(*ack->peer);
        }
        return record;
    }
    return std::nullopt;
}

} // namespace

std::optional<ServerAddress> parse_server_address(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        boost::system::error_code ec;
        asio::ip::make_address_v6(std::string(host), ec);
        if (ec) {
            return std::nullopt;
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return std::nullopt; // an unbracketed IPv6 address: where does it end?
        }
    }
    if (host.empty() || host.find_first_of(" \t\r\n") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto number = parse_port(port);
    if (!number) {
        return std::nullopt;
    }
    return ServerAddress{std::string(host), *number};
}

std::string address_text(std::string_view host, std::uint16_t port) {
    std::string out;
    const bool v6 = host.find(':') != std::string_view::npos;
    if (v6) {
        out += '[';
    }
    out += host;
    if (v6) {
        out += ']';
    }
    out += ':';
    out += std::to_string(port);
    return out;
}

std::string address_text(const ServerAddress& address) {
    return address_text(address.host, address.port);
}

std::string address_text(const tcp::endpoint& endpoint) {
    return address_text(host_text(endpoint.address()), endpoint.port());
}

std::string host_text(const asio::ip::address& address) {
    if (address.is_v6()) {
        auto v6 = address.to_v6();
        if (v6.is_v4_mapped()) {
            return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
        }
        v6.scope_id(0); // a scope ("%eth0") is meaningful on this host only
        return v6.to_string();
    }
    return address.to_string();
}

std::string duration_text(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + " s";
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g s", static_cast<double>(ms) / 1000.0);
    return buffer;
}

// One request: owned by its own handlers, so it lives until the last of them has run.
class RequestClient::Exchange : public detail::TimedOperation<Exchange, RequestResult> {
  public:
    Exchange(const asio::any_io_executor& executor, ServerAddress server, Request request,
             RequestOptions options, Handler handler)
        : TimedOperation(executor, std::move(handler)), resolver_(executor),
          server_(std::move(server)), name_(address_text(server_)), request_(std::move(request)),
          options_(std::move(options)), decoder_(Context::response, options_.decoding) {}

    void start() {
        arm(options_.connect_timeout, [](Exchange& self) {
            self.fail(asio::error::timed_out, "cannot connect to server " + self.name_ +
                                                  ": no answer within " +
                                                  duration_text(self.options_.connect_timeout));
        });
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(server_.host, ec);
        if (!ec) {
            connect({tcp::endpoint(address, server_.port)});
            return;
        }
        resolver_.async_resolve(server_.host, std::to_string(server_.port),
                                guarded([](Exchange& self, boost::system::error_code error,
                                           const tcp::resolver::results_type& results) {
                                    if (error) {
                                        self.fail(error, "cannot resolve server " + self.name_ +
                                                             ": " + error.message());
                                        return;
                                    }
                                    self.connect({results.begin(), results.end()});
                                }));
    }

  private:
    friend TimedOperation;

    static RequestResult failure(std::error_code code, std::string message) {
        return RequestError{code, std::move(message)};
    }

    void on_finish() { resolver_.cancel(); }

    void connect(std::vector<tcp::endpoint> endpoints) {
        endpoints_ = std::move(endpoints);
        asio::async_connect(
            socket_, endpoints_,
            guarded([](Exchange& self, boost::system::error_code ec, const tcp::endpoint&) {
                if (ec) {
                    self.fail(ec, "cannot connect to server " + self.name_ + ": " + ec.message());
                    return;
                }
                self.on_connected();
            }));
    }

    void on_connected() {
        boost::system::error_code ec;
        local_ = socket_.local_endpoint(ec);
        remote_ = socket_.remote_endpoint(ec);

        Message message;
        std::string host;
        if (const auto* reg = std::get_if<RegisterRequest>(&request_)) {
            host = reg->host ? *reg->host : host_text(local_.address());
            registering_ = ContactRecord{reg->id, host, reg->port};
            message = Register{registering_->view()};
        } else {
            message = Bridge{std::get<BridgeRequest>(request_).id};
        }
        if (const auto error = encode(message, out_, options_.decoding.limits)) {
            fail(error, "cannot send " + std::string(request_name(request_)) + " to server " +
                            name_ + ": " + error.message());
            return;
        }

        arm(options_.reply_timeout, [](Exchange& self) {
            self.fail(asio::error::timed_out, "no reply from server " + self.name_ + " within " +
                                                  duration_text(self.options_.reply_timeout));
        });
        // Read while writing: a server over its connection cap answers ERROR 503 without
        // reading (spec §6.5), and that reply must not be lost to a failed write.
        read();
        asio::async_write(socket_, asio::buffer(out_),
                          guarded([](Exchange& self, boost::system::error_code error, std::size_t) {
                              if (error) {
                                  self.write_error_ = error;
                              }
                          }));
    }

    void read() {
        socket_.async_read_some(
            asio::buffer(chunk_),
            guarded([](Exchange& self, boost::system::error_code ec, std::size_t n) {
                self.received_ += n;
                if (!self.consume(std::string_view(self.chunk_.data(), n))) {
                    return;
                }
                if (ec == asio::error::eof) {
                    self.end_of_stream();
                } else if (ec) {
                    // A reset right after the reply was cut by the server's close.
                    self.fail(ec,
                              "connection to server " + self.name_ + " failed: " + ec.message());
                } else {
                    self.read();
                }
            }));
    }

    // Feeds the decoder; false once the exchange has finished.
    bool consume(std::string_view data) {
        while (!data.empty()) {
            Step step = decoder_.feed(data);
            data.remove_prefix(step.consumed);
            if (step.status == Status::message) {
                complete(decoder_.message()); // bytes after the reply are ignored (spec §6.1)
                return false;
            }
            if (step.status == Status::error) {
                malformed(decoder_.error());
                return false;
            }
        }
        return true;
    }

    void end_of_stream() {
        Step step = decoder_.finish();
        if (step.status == Status::message) {
            complete(decoder_.message());
        } else if (step.status == Status::error && received_ > 0) {
            malformed(decoder_.error());
        } else {
            std::string why = "server " + name_ + " closed the connection without a reply";
            if (write_error_) {
                why += " (" + write_error_.message() + ")";
            }
            fail(asio::error::eof, why);
        }
    }

    void malformed(const DecodeError& error) {
        fail(error.error_code(), "malformed reply from server " + name_ + ": " + to_string(error));
    }

    void complete(const Message& message) {
        auto reply = own_reply(request_, message);
        if (!reply) {
            fail(make_error_code(Errc::unexpected_method),
                 "unexpected reply from server " + name_ + ": " +
                     std::string(method_name(message)) + " to " +
                     std::string(request_name(request_)));
            return;
        }
        deliver(
            Response{std::move(*reply), std::move(out_), local_, remote_, std::move(registering_)});
    }

    tcp::resolver resolver_;
    ServerAddress server_;
    std::string name_;
    Request request_;
    RequestOptions options_;
    StreamDecoder decoder_;
    std::string out_;
    std::array<char, 1024> chunk_{};
    std::size_t received_ = 0;
    boost::system::error_code write_error_;
    std::vector<tcp::endpoint> endpoints_;
    tcp::endpoint local_;
    tcp::endpoint remote_;
    std::optional<ContactRecord> registering_;
};

RequestClient::RequestClient(asio::any_io_executor executor, RequestOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

RequestClient::~RequestClient() {
    cancel();
}

void RequestClient::async_send(const ServerAddress& server, Request request, Handler handler) {
    cancel();
    pending_ = std::make_shared<Exchange>(executor_, server, std::move(request), options_,
                                          std::move(handler));
    pending_->start();
}

void RequestClient::cancel() {
    if (pending_) {
        pending_->abandon();
        pending_.reset();
    }
}

bool RequestClient::busy() const noexcept {
    return pending_ && !pending_->done();
}

RequestResult send_request(const ServerAddress& server, const Request& request,
                           const RequestOptions& options) {
    asio::io_context io;
    std::optional<RequestResult> result;
    {
        RequestClient client(io.get_executor(), options);
        client.async_send(server, request, [&result](RequestResult r) { result = std::move(r); });
        io.run();
    }
    return std::move(*result);
}

} // namespace tcpchat
