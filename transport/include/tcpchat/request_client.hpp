// The client's side of a request connection (spec §6.1, §10): connect to the server, send one
// REGISTER or BRIDGE, read one reply through the codec's StreamDecoder(Context::response), close.
//
// Every failure comes back as a value naming the server's address (spec §10.6), never as an
// exception: the interactive client reports it and stays usable.
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/message.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

namespace tcpchat {

// A server address as written on the command line: `host:port`, or `[v6addr]:port` for IPv6.
// `host` is an IP address or a name to resolve; it is kept without brackets.
struct ServerAddress {
    std::string host;
    std::uint16_t port = 0;

    friend bool operator==(const ServerAddress&, const ServerAddress&) = default;
};

// `127.0.0.2:5555` -> {"127.0.0.2", 5555}; `[::1]:5555` -> {"::1", 5555}. An IPv6 address must
// be bracketed (`::1:5555` is ambiguous); the port is 1-65535. nullopt when the text is not one
// of these forms.
[[nodiscard]] std::optional<ServerAddress> parse_server_address(std::string_view text);

// `127.0.0.1:3000`, `[::1]:3000`: how every message of the transport names an address.
[[nodiscard]] std::string address_text(std::string_view host, std::uint16_t port);
[[nodiscard]] std::string address_text(const ServerAddress& address);
[[nodiscard]] std::string address_text(const boost::asio::ip::tcp::endpoint& endpoint);

// An address as it goes into an IP header field (spec §4.3): IPv4-mapped IPv6 as IPv4, no scope.
[[nodiscard]] std::string host_text(const boost::asio::ip::address& address);

// `5 s`, `0.25 s`: a timeout in a message.
[[nodiscard]] std::string duration_text(std::chrono::milliseconds duration);

// REGISTER (spec §5.1). Without `host`, the IP field is the local address of the request
// connection (getsockname), not what the hostname resolves to (spec §10).
struct RegisterRequest {
    std::string id;
    std::uint16_t port = 0;
    std::optional<std::string> host;
};

// BRIDGE (spec §5.3).
struct BridgeRequest {
    std::string id;
};

using Request = std::variant<RegisterRequest, BridgeRequest>;

// Owning forms of the replies (spec §5.2, §5.4, §5.8): they outlive the bytes they came from.
struct RegAckRecord {
    ContactRecord self;
    bool status = false; // the installed base's optional `Status: registered` line was present
    friend bool operator==(const RegAckRecord&, const RegAckRecord&) = default;
};

struct BridgeAckRecord {
    std::optional<ContactRecord> peer; // nullopt: the empty BRIDGEACK, wait for a peer (§10.3)
    friend bool operator==(const BridgeAckRecord&, const BridgeAckRecord&) = default;
};

struct ErrorRecord {
    std::uint16_t code = 0;
    std::string reason;
    friend bool operator==(const ErrorRecord&, const ErrorRecord&) = default;
};

using Reply = std::variant<RegAckRecord, BridgeAckRecord, ErrorRecord>;

// A reply that matches the request (REGACK or ERROR for REGISTER, BRIDGEACK or ERROR for BRIDGE).
struct Response {
    Reply reply;
    std::string sent;                         // the request's bytes, as written
    boost::asio::ip::tcp::endpoint local;     // our end of the request connection
    boost::asio::ip::tcp::endpoint remote;    // the server's end
    std::optional<ContactRecord> registering; // REGISTER: the contact it carried (spec §5.2)
};

// Why there is no reply. `code` is an Asio/system error (connection_refused, timed_out, eof, ...)
// or the codec's Errc (a malformed or unexpected reply); `message` is one line for the user that
// names the server's address, e.g. `cannot connect to server 127.0.0.2:5555: Connection refused`.
struct RequestError {
    std::error_code code;
    std::string message;
};

class RequestResult {
  public:
    RequestResult(Response r) : v_(std::move(r)) {}
    RequestResult(RequestError e) : v_(std::move(e)) {}

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] const Response& value() const { return std::get<0>(v_); }
    [[nodiscard]] const RequestError& error() const { return std::get<1>(v_); }

  private:
    std::variant<Response, RequestError> v_;
};

struct RequestOptions {
    std::chrono::milliseconds connect_timeout{5000}; // resolving and connecting
    std::chrono::milliseconds reply_timeout{5000};   // from connected to the whole reply
    DecodeOptions decoding{};                        // lenient profile by default (spec §9.2)
};

// One request at a time, on the caller's executor; not thread-safe (use it from the executor's
// thread). The handler runs on the executor, exactly once per async_send unless cancelled.
class RequestClient {
  public:
    using Handler = std::function<void(RequestResult)>;

    explicit RequestClient(boost::asio::any_io_executor executor, RequestOptions options = {});
    ~RequestClient(); // cancels a pending request
    RequestClient(const RequestClient&) = delete;
    RequestClient& operator=(const RequestClient&) = delete;

    // Starts a request; a request still pending is cancelled first.
    void async_send(const ServerAddress& server, Request request, Handler handler);

    // Abandons the pending request: its connection is closed and its handler is not called.
    void cancel();

    [[nodiscard]] bool busy() const noexcept;
    [[nodiscard]] const RequestOptions& options() const noexcept { return options_; }

    class Exchange; // one request on its connection; defined in request_client.cpp

  private:
    boost::asio::any_io_executor executor_;
    RequestOptions options_;
    std::shared_ptr<Exchange> pending_;
};

// Blocking form on a private io_context, for tools and tests.
[[nodiscard]] RequestResult send_request(const ServerAddress& server, const Request& request,
                                         const RequestOptions& options = {});

} // namespace tcpchat
