#include "server_request.hpp"

#include "tcpchat/encode.hpp"

#include <boost/asio/ip/address.hpp>
#include <type_traits>
#include <utility>
#include <variant>

namespace tcpchat::server_request {
namespace {

std::string str(std::string_view s) {
    return std::string(s);
}

[[nodiscard]] bool logs(LogLevel level, const ServerOptions& options) {
    return level <= options.log_level;
}

// Encodes `reply` into `answer.reply`, keeping its capacity.
void reply_with(const Message& reply, Answer& answer, const Peer& peer,
                const ServerOptions& options) {
    answer.reply.clear();
    if (const std::error_code ec = encode(reply, answer.reply, options.decoding.limits)) {
        // Only values the codec itself decoded reach here, so this means a bug, not bad input.
        answer.reply.clear();
        answer.log.push_back(
            {LogLevel::error, "cannot encode the reply to " + peer.endpoint + ": " + ec.message()});
    }
}

Answer reply_with(const Message& reply, std::vector<LogLine> log, const Peer& peer,
                  const ServerOptions& options) {
    Answer answer{{}, std::move(log)};
    reply_with(reply, answer, peer, options);
    return answer;
}

// The IP header says where the client wants to be reached; the connection says where the
// request came from. They differ behind NAT or with --advertise, which is allowed (spec §6.2),
// but worth a verbose line when debugging a pairing that does not connect.
void note_address_mismatch(const Contact& contact, const Peer& peer, std::vector<LogLine>& log) {
    boost::system::error_code ec;
    const auto header = boost::asio::ip::make_address(std::string(contact.host), ec);
    const std::string canonical = ec ? str(contact.host) : header.to_string();
    if (canonical != peer.address) {
        log.push_back({LogLevel::verbose, "REGISTER: " + str(contact.id) + " IP " +
                                              str(contact.host) + " differs from source address " +
                                              peer.address});
    }
}

// The registry could not answer (spec §6.7): the request is refused, never half done.
Answer unavailable(std::error_code ec, const Peer& peer, const ServerOptions& options) {
    return refuse(reply_code::unavailable, ec.message(), peer, options);
}

void on_register(const Contact& contact, const RegisterResult& result, Asking& asking) {
    const Peer& peer = *asking.peer;
    const ServerOptions& options = *asking.options;
    if (result.outcome == RegisterOutcome::refused) {
        asking.answer = refuse(
            reply_code::forbidden,
            "clientID " + str(contact.id) + " is registered from another address", peer, options);
        return;
    }
    if (result.outcome == RegisterOutcome::full) {
        asking.answer =
            refuse(reply_code::unavailable,
                   "registry full: no new clientID until registrations expire", peer, options);
        return;
    }
    auto& log = asking.answer.log;
    if (logs(LogLevel::info, options)) {
        log.push_back({LogLevel::info, "REGISTER: " + str(contact.id) + " from " +
                                           host_port(contact.host, contact.port) + " received"});
    }
    if (logs(LogLevel::verbose, options)) {
        if (result.outcome == RegisterOutcome::replaced) {
            log.push_back(
                {LogLevel::verbose, "REGISTER: " + str(contact.id) + " replaces " +
                                        host_port(result.previous.host, result.previous.port)});
        }
        note_address_mismatch(contact, peer, log);
    }
    reply_with(RegAck{contact, options.regack_status}, asking.answer, peer, options);
}

void on_bridge(std::string_view id, const BridgeResult& result, Asking& asking) {
    const Peer& peer = *asking.peer;
    const ServerOptions& options = *asking.options;
    switch (result.outcome) {
    case BridgeOutcome::not_registered:
        asking.answer = refuse(reply_code::not_registered,
                               "clientID " + str(id) + " is not registered", peer, options);
        return;
    case BridgeOutcome::waiting:
        if (logs(LogLevel::info, options)) {
            asking.answer.log.push_back({LogLevel::info, "BRIDGE: " + str(id) + " waiting"});
        }
        reply_with(BridgeAck{}, asking.answer, peer, options);
        return;
    case BridgeOutcome::paired: break;
    }
    const ContactRecord& other = *result.peer;
    const ContactRecord& self = result.requester;
    if (logs(LogLevel::info, options)) {
        // Peer first, then requester, as the original server prints it (spec §6.6).
        asking.answer.log.push_back(
            {LogLevel::info, "BRIDGE: " + other.id + " " + host_port(other.host, other.port) + " " +
                                 self.id + " " + host_port(self.host, self.port)});
    }
    reply_with(BridgeAck{other.view()}, asking.answer, peer, options);
}

} // namespace

// The registry's handlers hold only the address of `asking`, which stays put until done runs;
// the request's views stay valid as long (server.cpp feeds the decoder no more meanwhile).
void ask(Registry& registry, Asking& asking) {
    asking.answer.reply.clear();
    asking.answer.log.clear();
    if (const auto* r = std::get_if<Register>(&asking.request)) {
        registry.async_register(
            r->self, asking.peer->address,
            [&asking](std::error_code ec, const RegisterResult& result) {
                if (ec) {
                    asking.answer = unavailable(ec, *asking.peer, *asking.options);
                } else {
                    on_register(std::get<Register>(asking.request).self, result, asking);
                }
                asking.done();
            });
        return;
    }
    if (const auto* b = std::get_if<Bridge>(&asking.request)) {
        registry.async_bridge(b->id, [&asking](std::error_code ec, const BridgeResult& result) {
            if (ec) {
                asking.answer = unavailable(ec, *asking.peer, *asking.options);
            } else {
                on_bridge(std::get<Bridge>(asking.request).id, result, asking);
            }
            asking.done();
        });
        return;
    }
    // The request decoder yields only REGISTER and BRIDGE; this keeps the server safe if that
    // ever changes.
    asking.answer = refuse(reply_code::method_not_allowed,
                           str(method_name(asking.request)) + " is not a request to the server",
                           *asking.peer, *asking.options);
    asking.done();
}

Answer refuse(std::uint16_t code, std::string_view reason, const Peer& peer,
              const ServerOptions& options) {
    std::string line = "rejected " + peer.endpoint + ": " + str(reason);
    if (options.error_replies == ErrorReplies::send) {
        return reply_with(ErrorReply{code, reason}, {{LogLevel::error, std::move(line)}}, peer,
                          options);
    }
    // §9.3: what an installed-base server answers instead. The original names no peer when it has
    // none, whoever asks; every other refusal is a close without a reply, then FIN.
    if (code == reply_code::not_registered) {
        return reply_with(BridgeAck{}, {{LogLevel::error, line + "; sent the empty BRIDGEACK"}},
                          peer, options);
    }
    return Answer{{}, {{LogLevel::error, line + "; closed without a reply"}}};
}

Answer refuse(const DecodeError& error, const Peer& peer, const ServerOptions& options) {
    return refuse(reply_code_for(error.code), to_string(error), peer, options);
}

std::uint16_t reply_code_for(Errc code) noexcept {
    switch (code) {
    case Errc::unexpected_method: return reply_code::method_not_allowed;
    case Errc::line_too_long:
    case Errc::too_many_headers:
    case Errc::message_too_large:
    case Errc::id_too_long: return reply_code::too_large;
    default: return reply_code::bad_request;
    }
}

std::string describe(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    std::string text = std::to_string(ms / 1000);
    if (auto fraction = ms % 1000; fraction != 0) {
        std::string digits = std::to_string(1000 + fraction).substr(1); // "005", "250"
        digits.erase(digits.find_last_not_of('0') + 1);
        text += "." + digits;
    }
    return text + " s";
}

std::string host_port(std::string_view host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string_view::npos;
    std::string text;
    text.reserve(host.size() + 8);
    if (v6) {
        text += '[';
    }
    text += host;
    if (v6) {
        text += ']';
    }
    return text + ":" + std::to_string(port);
}

} // namespace tcpchat::server_request
