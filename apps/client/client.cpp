#include "client.hpp"

#include "tcpchat/version.hpp"

#include <csignal>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace tcpchat::client {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

RequestOptions request_options(const Timeouts& timeouts) {
    RequestOptions options;
    options.connect_timeout = timeouts.network;
    options.reply_timeout = timeouts.network;
    return options;
}

PeerOptions peer_options(const Timeouts& timeouts, ChatFraming framing) {
    PeerOptions options;
    options.connect_timeout = timeouts.network;
    options.handshake_timeout = timeouts.network;
    options.framing = framing;
    return options;
}

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

} // namespace

Client::Client(asio::io_context& io, Config config, Timeouts timeouts, Terminal& terminal,
               ChatFraming framing)
    : io_(io), machine_(std::move(config)), timeouts_(timeouts), terminal_(terminal),
      requests_(io.get_executor(), request_options(timeouts)),
      wait_mode_(io.get_executor(), peer_options(timeouts, framing),
                 [this](std::string_view line) { apply(machine_.wait_log(line)); }),
      initiator_(io.get_executor(), peer_options(timeouts, framing)), reminder_(io),
      signals_(io, SIGINT, SIGTERM, SIGHUP) {}

void Client::start() {
    const Config& config = machine_.config();
    terminal_.show(Tone::info, "tcp-chat-client " + std::string(project_version) + ": " +
                                   config.id + " (port " + std::to_string(config.port) +
                                   "), server " + address_text(config.server) +
                                   "; /help lists the commands");
    terminal_.set_prompt(machine_.prompt());
    terminal_.start({[this](std::string line) { apply(machine_.typed(line)); },
                     [this] { apply(machine_.end_of_input()); }});
    catch_signals();
}

void Client::apply(Effects effects) {
    for (const auto& effect : effects) {
        if (done_) {
            return;
        }
        carry_out(effect);
    }
    if (done_) {
        return;
    }
    if (Effects typed_ahead = machine_.resume(); !typed_ahead.empty()) {
        apply(std::move(typed_ahead)); // lines typed during the request just finished
        return;
    }
    terminal_.set_prompt(machine_.prompt());
    terminal_.set_pace(machine_.script_input());
}

void Client::carry_out(const Effect& effect) {
    const Config& config = machine_.config();
    std::visit(Overloaded{
                   [&](const effect::Show& show) { terminal_.show(show.tone, show.text); },
                   [&](const effect::Register&) {
                       requests_.async_send(
                           config.server, RegisterRequest{config.id, config.port, config.advertise},
                           [this](RequestResult r) { apply(machine_.registered(r)); });
                   },
                   [&](const effect::Bridge& bridge_effect) { bridge(bridge_effect.listen_host); },
                   [&](const effect::Wait&) { wait_for_peer(); },
                   [&](const effect::StopListening&) { stop_listening(); },
                   [&](const effect::OpenChat& open) { open_chat(open); },
                   [&](const effect::SendText& send) {
                       if (link_) {
                           // A refusal here means the link is closing; its on_end will tell.
                           (void)link_->send_text(send.text);
                       }
                   },
                   [&](const effect::SendQuit&) {
                       if (link_) {
                           link_->quit();
                       }
                   },
                   [&](const effect::Exit& exit) { shut_down(exit.status); },
               },
               effect);
}

// §10.3: the listening socket is open before BRIDGE goes out, so an initiator given our contact
// at once finds the port open.
void Client::bridge(const std::string& listen_host) {
    const Config& config = machine_.config();
    if (!wait_mode_.listening()) {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(listen_host, ec);
        std::error_code error = ec;
        if (!ec) {
            error = wait_mode_.listen(tcp::endpoint(address, config.port));
        }
        if (error) {
            apply(machine_.listen_failed("cannot listen on " +
                                         address_text(listen_host, config.port) + ": " +
                                         error.message()));
            return;
        }
    }
    requests_.async_send(config.server, BridgeRequest{config.id},
                         [this](RequestResult r) { apply(machine_.bridged(r)); });
}

void Client::wait_for_peer() {
    if (!waiting_) {
        waiting_ = true;
        wait_mode_.async_wait([this](std::shared_ptr<PeerLink> link) {
            reminder_.cancel();
            requests_.cancel(); // a renewed BRIDGE's reply no longer matters
            begin_chat(link);
            apply(machine_.peer_arrived(link->peer(), link->remote_address()));
        });
    }
    // Every BRIDGE renews the server's wait timeout, so the reminder starts again.
    reminder_.expires_after(timeouts_.wait_reminder);
    reminder_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            apply(machine_.wait_expired());
        }
    });
}

void Client::stop_listening() {
    wait_mode_.close();
    waiting_ = false;
    reminder_.cancel();
}

void Client::open_chat(const effect::OpenChat& open) {
    initiator_.async_open(open.peer, open.self, [this](PeerResult result) {
        if (!result.link) {
            apply(machine_.chat_open_failed(result.message));
            return;
        }
        begin_chat(result.link);
        apply(machine_.chat_opened(result.link->remote_address()));
    });
}

void Client::begin_chat(std::shared_ptr<PeerLink> link) {
    link_ = std::move(link);
    link_->start({[this](std::string_view text) { apply(machine_.text_received(text)); },
                  [this](const ChatEnded& ended) { apply(machine_.chat_ended(ended)); }});
}

void Client::catch_signals() {
    signals_.async_wait([this](boost::system::error_code ec, int) {
        if (ec || done_) {
            return;
        }
        // The first signal is /quit (QUIT goes out if chatting); a second one does not wait.
        if (++signals_seen_ > 1) {
            shut_down(exit_status_);
            return;
        }
        apply(machine_.end_of_input());
        catch_signals();
    });
}

void Client::shut_down(int status) {
    if (done_) {
        return;
    }
    done_ = true;
    exit_status_ = status;
    terminal_.stop();
    requests_.cancel();
    initiator_.cancel();
    wait_mode_.close();
    if (link_) {
        link_->close();
    }
    reminder_.cancel();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    io_.stop();
}

} // namespace tcpchat::client
