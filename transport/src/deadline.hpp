// One deadline at a time on a steady timer (spec §6.5, §10.1): re-arming replaces the previous
// deadline, and an expiry already queued when the timer was re-armed or cancelled is ignored.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace tcpchat::detail {

class Deadline {
  public:
    template <class Executor>
    explicit Deadline(const Executor& executor) : timer_(executor) {}

    // `on_expiry()` runs once `after` has passed, unless arm() or cancel() comes first. The
    // caller keeps whatever `on_expiry` needs alive (typically a shared_ptr in its capture).
    template <class OnExpiry>
    void arm(std::chrono::milliseconds after, OnExpiry on_expiry) {
        timer_.expires_after(after);
        timer_.async_wait([this, generation = ++generation_,
                           on_expiry = std::move(on_expiry)](const boost::system::error_code& ec) {
            if (!ec && generation == generation_) {
                on_expiry();
            }
        });
    }

    void cancel() {
        ++generation_;
        timer_.cancel();
    }

  private:
    boost::asio::steady_timer timer_;
    unsigned generation_ = 0;
};

} // namespace tcpchat::detail
