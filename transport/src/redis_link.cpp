#include "redis_link.hpp"

#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <utility>

namespace tcpchat::redis {

namespace asio = boost::asio;

namespace {

Link* link_of(const redisAsyncContext* context) {
    return static_cast<Link*>(context->data);
}

} // namespace

Link::Link(Strand strand, Events events)
    : strand_(std::move(strand)), socket_(strand_), events_(std::move(events)) {}

Link::~Link() {
    close();
}

std::shared_ptr<Link> Link::connect(Strand strand, const std::string& host, std::uint16_t port,
                                    Events events) {
    std::shared_ptr<Link> link(new Link(std::move(strand), std::move(events)));
    redisAsyncContext* context = redisAsyncConnect(host.c_str(), port);
    if (context == nullptr || context->err != 0) {
        link->report(context == nullptr ? "out of memory" : context->errstr);
        if (context != nullptr) {
            redisAsyncFree(context);
        }
        return link;
    }
    boost::system::error_code ec;
    link->socket_.assign(context->c.fd, ec);
    if (ec) {
        link->report(ec.message());
        redisAsyncFree(context);
        return link;
    }
    link->context_ = context;
    context->data = link.get();
    context->ev.data = link.get();
    context->ev.addRead = [](void* self) {
        static_cast<Link*>(self)->want_read_ = true;
        static_cast<Link*>(self)->watch(Direction::read);
    };
    context->ev.delRead = [](void* self) { static_cast<Link*>(self)->want_read_ = false; };
    context->ev.addWrite = [](void* self) {
        static_cast<Link*>(self)->want_write_ = true;
        static_cast<Link*>(self)->watch(Direction::write);
    };
    context->ev.delWrite = [](void* self) { static_cast<Link*>(self)->want_write_ = false; };
    context->ev.cleanup = [](void* self) { static_cast<Link*>(self)->closed(); };
    // Setting the connect callback watches for the first write event, which says the
    // connection is established.
    redisAsyncSetConnectCallback(context, &Link::on_connect);
    redisAsyncSetDisconnectCallback(context, &Link::on_disconnect);
    return link;
}

bool Link::command(const std::vector<std::string_view>& args, ReplyHandler done) {
    if (context_ == nullptr) {
        return false;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    auto* handler = new ReplyHandler(std::move(done));
    if (redisAsyncCommandArgv(context_, &Link::on_reply, handler, static_cast<int>(args.size()),
                              argv.data(), lengths.data()) != REDIS_OK) {
        delete handler;
        return false;
    }
    return true;
}

void Link::close() {
    if (context_ != nullptr) {
        // Runs every pending reply handler with nullptr, then the cleanup hook.
        redisAsyncFree(context_);
    }
}

// An async_wait in flight keeps the Link alive; hiredis may free the context meanwhile, which
// the handler sees as context_ == nullptr.
void Link::watch(Direction direction) {
    const bool reading = direction == Direction::read;
    bool& waiting = reading ? read_waiting_ : write_waiting_;
    if (waiting || context_ == nullptr) {
        return;
    }
    waiting = true;
    socket_.async_wait(reading ? asio::posix::descriptor_base::wait_read
                               : asio::posix::descriptor_base::wait_write,
                       [self = shared_from_this(), direction, reading,
                        &waiting](const boost::system::error_code& ec) {
                           waiting = false;
                           const bool& wanted = reading ? self->want_read_ : self->want_write_;
                           if (ec || self->context_ == nullptr || !wanted) {
                               return;
                           }
                           if (reading) {
                               redisAsyncHandleRead(self->context_);
                           } else {
                               redisAsyncHandleWrite(self->context_);
                           }
                           if (wanted) {
                               self->watch(direction);
                           }
                       });
}

// hiredis is about to close the descriptor: let go of it without closing it twice.
void Link::closed() {
    context_ = nullptr;
    want_read_ = false;
    want_write_ = false;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    (void)socket_.release();
    report(reason_);
}

void Link::report(std::string reason) {
    if (reported_) {
        return;
    }
    reported_ = true;
    if (events_.on_closed) {
        asio::post(strand_, [closed = std::move(events_.on_closed), reason = std::move(reason)] {
            closed(reason);
        });
    }
}

void Link::on_connect(const redisAsyncContext* context, int status) {
    Link* link = link_of(context);
    if (status != REDIS_OK) {
        link->reason_ = context->errstr;
        return; // hiredis frees the context next, which calls cleanup
    }
    if (link->events_.on_connected) {
        asio::post(link->strand_, link->events_.on_connected);
    }
}

void Link::on_disconnect(const redisAsyncContext* context, int status) {
    if (status != REDIS_OK) {
        link_of(context)->reason_ = context->errstr;
    }
}

void Link::on_reply(redisAsyncContext* /*context*/, void* reply, void* handler) {
    const std::unique_ptr<ReplyHandler> done(static_cast<ReplyHandler*>(handler));
    (*done)(static_cast<const redisReply*>(reply));
}

} // namespace tcpchat::redis
