// A client-side operation on one connection, bounded by a deadline (spec §6.1, §10.1, §10.4):
// the socket, its deadline, and a handler that runs exactly once, with a result or a failure,
// unless the operation is abandoned first. RequestClient's exchange and the Initiator's attempt
// are each this plus their own steps.
//
// `Derived` supplies `static Result failure(std::error_code, std::string)` and may supply
// `void on_finish()` to release more than the socket and the deadline.
#pragma once

#include "deadline.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace tcpchat::detail {

template <class Derived, class Result>
class TimedOperation : public std::enable_shared_from_this<Derived> {
  public:
    using Handler = std::function<void(Result)>;

    // Closes everything; the handler is not called.
    void abandon() {
        handler_ = nullptr;
        finish();
    }

    [[nodiscard]] bool done() const noexcept { return done_; }

  protected:
    TimedOperation(const boost::asio::any_io_executor& executor, Handler handler)
        : socket_(executor), deadline_(executor), handler_(std::move(handler)) {}

    // After `timeout`, unless the operation has finished or is re-armed: `on_expiry(self)`.
    template <class OnExpiry>
    void arm(std::chrono::milliseconds timeout, OnExpiry on_expiry) {
        deadline_.arm(timeout, [self = this->shared_from_this(), on_expiry] {
            if (!self->done_) {
                on_expiry(*self);
            }
        });
    }

    // A completion handler that keeps the operation alive and calls `step(self, args...)` only
    // while it has not finished.
    template <class Step>
    auto guarded(Step step) {
        return [self = this->shared_from_this(), step](auto&&... args) {
            if (!self->done_) {
                step(*self, std::forward<decltype(args)>(args)...);
            }
        };
    }

    // Finishes and hands `result` to the handler.
    void deliver(Result result) {
        Handler handler = std::move(handler_);
        handler_ = nullptr;
        finish();
        if (handler) {
            handler(std::move(result));
        }
    }

    void fail(std::error_code code, std::string message) {
        deliver(Derived::failure(code, std::move(message)));
    }
    void fail(const boost::system::error_code& code, std::string message) {
        fail(std::error_code(code), std::move(message));
    }

    // Stops the deadline and closes the socket (a moved-from socket is already closed).
    void finish() {
        if (done_) {
            return;
        }
        done_ = true;
        deadline_.cancel();
        if constexpr (requires(Derived & d) { d.on_finish(); }) {
            static_cast<Derived&>(*this).on_finish();
        }
        boost::system::error_code ignored;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    boost::asio::ip::tcp::socket socket_;

  private:
    Deadline deadline_;
    Handler handler_;
    bool done_ = false;
};

} // namespace tcpchat::detail
