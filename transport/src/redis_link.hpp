// One hiredis asynchronous connection driven by an Asio executor (hiredis 0.14 ships no Asio
// adapter): the connection's socket is watched with posix::stream_descriptor::async_wait, and
// hiredis reads and writes it when Asio says it is ready. No thread of its own, no blocking call.
//
// Everything here runs on one strand; hiredis is not thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace tcpchat::redis {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

// A command's reply, valid only during the call; nullptr when the connection went away first.
using ReplyHandler = std::function<void(const redisReply*)>;

class Link : public std::enable_shared_from_this<Link> {
  public:
    // `on_connected` runs once the connection is established; `on_closed` runs once, with the
    // reason, when it fails or ends (never inline from a call into the Link).
    struct Events {
        std::function<void()> on_connected;
        std::function<void(std::string reason)> on_closed;
    };

    // Starts connecting to host:port. Commands may be sent at once; hiredis queues them.
    static std::shared_ptr<Link> connect(Strand strand, const std::string& host, std::uint16_t port,
                                         Events events);
    ~Link();
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;

    // Sends one command (binary-safe arguments); `done` runs exactly once. False when the link
    // cannot take commands any more (then `done` is not called).
    bool command(const std::vector<std::string_view>& args, ReplyHandler done);

    // Drops the connection now: every command still pending gets nullptr.
    void close();

    [[nodiscard]] bool open() const noexcept { return context_ != nullptr; }

  private:
    Link(Strand strand, Events events);

    enum class Direction : std::uint8_t { read, write };
    // Waits until the socket is ready for `direction`, then lets hiredis read or write.
    void watch(Direction direction);
    void closed(); // hiredis freed the context
    void report(std::string reason);

    static void on_connect(const redisAsyncContext* context, int status);
    static void on_disconnect(const redisAsyncContext* context, int status);
    static void on_reply(redisAsyncContext* context, void* reply, void* handler);

    Strand strand_;
    boost::asio::posix::stream_descriptor socket_;
    redisAsyncContext* context_ = nullptr;
    Events events_;
    std::string reason_ = "connection closed";
    bool want_read_ = false;
    bool want_write_ = false;
    bool read_waiting_ = false;
    bool write_waiting_ = false;
    bool reported_ = false;
};

} // namespace tcpchat::redis
