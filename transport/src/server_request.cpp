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

Answer reply_with(const Message& reply, std::vector<LogLine> log, const Peer& peer,
                  const ServerOptions& options) {
    Answer answer{{}, std::move(log)};
    if (const std::error_code ec = encode(reply, answer.reply, options.decoding.limits)) {
        // Only values the codec itself decoded reach here, so this means a bug, not bad input.
        answer.log.push_back(
            {LogLevel::error, "cannot encode the reply to " + peer.endpoint + ": " + ec.message()});
    }
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

Answer on_register(const ContactRecord& contact, const RegisterResult& result, const Peer& peer,
                   const ServerOptions& options) {
    if (result.outcome == RegisterOutcome::refused) {
        return refuse(reply_code::forbidden,
                      "clientID " + contact.id + " is registered from another address", peer,
                      options);
    }
    if (result.outcome == RegisterOutcome::full) {
        return refuse(reply_code::unavailable,
                      "registry full: no new clientID until registrations expire", peer, options);
    }
    std::vector<LogLine> log;
    log.push_back({LogLevel::info, "REGISTER: " + contact.id + " from " +
                                       host_port(contact.host, contact.port) + " received"});
    if (result.outcome == RegisterOutcome::replaced) {
        log.push_back(
            {LogLevel::verbose, "REGISTER: " + contact.id + " replaces " +
                                    host_port(result.previous.host, result.previous.port)});
    }
    note_address_mismatch(contact.view(), peer, log);
    return reply_with(RegAck{contact.view(), options.regack_status}, std::move(log), peer, options);
}

Answer on_bridge(const std::string& id, const BridgeResult& result, const Peer& peer,
                 const ServerOptions& options) {
    switch (result.outcome) {
    case BridgeOutcome::not_registered:
        return refuse(reply_code::not_registered, "clientID " + id + " is not registered", peer,
                      options);
    case BridgeOutcome::waiting:
        return reply_with(BridgeAck{}, {{LogLevel::info, "BRIDGE: " + id + " waiting"}}, peer,
                          options);
    case BridgeOutcome::paired: break;
    }
    const ContactRecord& other = *result.peer;
    const ContactRecord& self = result.requester;
    // Peer first, then requester, as the original server prints it (spec §6.6).
    std::string line = "BRIDGE: " + other.id + " " + host_port(other.host, other.port) + " " +
                       self.id + " " + host_port(self.host, self.port);
    return reply_with(BridgeAck{other.view()}, {{LogLevel::info, std::move(line)}}, peer, options);
}

} // namespace

// The handlers own copies of what they use: the registry may answer after `request` is gone.
void answer(const Message& request, const Peer& peer, Registry& registry,
            const ServerOptions& options, AnswerHandler done) {
    if (const auto* r = std::get_if<Register>(&request)) {
        registry.async_register(
            r->self, peer.address,
            [contact = ContactRecord(r->self), peer, &options,
             done = std::move(done)](std::error_code ec, const RegisterResult& result) {
                done(ec ? unavailable(ec, peer, options)
                        : on_register(contact, result, peer, options));
            });
        return;
    }
    if (const auto* b = std::get_if<Bridge>(&request)) {
        registry.async_bridge(b->id, [id = str(b->id), peer, &options, done = std::move(done)](
                                         std::error_code ec, const BridgeResult& result) {
            done(ec ? unavailable(ec, peer, options) : on_bridge(id, result, peer, options));
        });
        return;
    }
    // The request decoder yields only REGISTER and BRIDGE; this keeps the server safe if that
    // ever changes.
    done(refuse(reply_code::method_not_allowed,
                str(method_name(request)) + " is not a request to the server", peer, options));
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
