#include "state_machine.hpp"

#include "display.hpp"
#include "tcpchat/error.hpp"

namespace tcpchat::client {

namespace {

using effect::Show;

Show info(std::string text) {
    return {Tone::info, std::move(text)};
}
Show error(std::string text) {
    return {Tone::error, std::move(text)};
}

// A refusal (spec §10.2): one line saying what to do instead; nothing changes.
Effects refuse(std::string text) {
    return {error(std::move(text))};
}

std::string refused_by(const std::string& server, std::string_view request,
                       const ErrorRecord& reply) {
    return "server " + server + " refused " + std::string(request) + ": " +
           std::to_string(reply.code) + " " + printable(reply.reason);
}

bool is_chat(State state) {
    return state == State::chat_writing || state == State::chat_reading;
}

} // namespace

std::string_view state_name(State state) noexcept {
    switch (state) {
    case State::idle: return "IDLE";
    case State::registered: return "REGISTERED";
    case State::wait: return "WAIT";
    case State::ready: return "READY";
    case State::chat_writing: return "CHAT-writing";
    case State::chat_reading: return "CHAT-reading";
    case State::closed: return "closed";
    }
    return "?";
}

StateMachine::StateMachine(Config config) : config_(std::move(config)) {}

std::string StateMachine::server_name() const {
    return address_text(config_.server);
}

std::string StateMachine::peer_name() const {
    return peer_ ? peer_->id : std::string("the peer");
}

// §10.3: the registered address, or every local address when --advertise named another one.
std::string StateMachine::listen_host() const {
    if (config_.advertise) {
        return config_.advertise->find(':') != std::string::npos ? "::" : "0.0.0.0";
    }
    return local_host_;
}

bool StateMachine::ready_for_input() const noexcept {
    return script_input() == ScriptInput::next_line;
}

ScriptInput StateMachine::script_input() const noexcept {
    if (pending_ != Pending::none) {
        return ScriptInput::hold;
    }
    switch (state_) {
    case State::idle:
    case State::registered:
    case State::ready:
    case State::chat_writing: return ScriptInput::next_line;
    case State::wait: return ScriptInput::end_only;
    default: return ScriptInput::hold;
    }
}

std::string StateMachine::prompt() const {
    std::string where;
    switch (state_) {
    case State::chat_writing: where = "your turn"; break;
    case State::chat_reading: where = peer_name() + "'s turn"; break;
    case State::closed: return "";
    default: where = state_name(state_);
    }
    switch (pending_) {
    case Pending::register_request: where += ", registering"; break;
    case Pending::bridge_request: where += ", bridging"; break;
    case Pending::chat: where += ", connecting"; break;
    default: break;
    }
    return config_.id + " [" + where + "]> ";
}

Effects StateMachine::typed(std::string_view line) {
    if (state_ == State::closed || pending_ == Pending::quit || line.empty()) {
        return {}; // an empty line is ignored, and in a chat the turn is kept (§10.4)
    }
    if (line.starts_with("//") && is_chat(state_)) {
        return text(line.substr(1)); // `//text` sends `/text` (§10.2)
    }
    const bool is_command = line.starts_with('/');
    const std::string_view word = is_command ? line.substr(0, line.find_first_of(" \t")) : "";
    const bool at_once = word == "/quit" || word == "/id" || word == "/help";
    if (pending_ != Pending::none && !at_once) {
        // Typed before the reply: taken after it, in order, as a script's lines are (§10.2).
        if (typed_ahead_.size() >= max_typed_ahead) {
            return refuse("not taken: " + std::to_string(max_typed_ahead) +
                          " lines already wait for the reply from server " + server_name());
        }
        typed_ahead_.emplace_back(line);
        return {};
    }
    return is_command ? command(word) : text(line);
}

Effects StateMachine::resume() {
    Effects out;
    while (!typed_ahead_.empty() && pending_ == Pending::none && state_ != State::closed) {
        const std::string line = std::move(typed_ahead_.front());
        typed_ahead_.pop_front();
        for (auto& effect : typed(line)) {
            out.push_back(std::move(effect));
        }
    }
    return out;
}

Effects StateMachine::end_of_input() {
    return quit();
}

Effects StateMachine::command(std::string_view word) {
    if (word == "/quit") {
        return quit();
    }
    if (word == "/help") {
        return help();
    }
    if (word == "/id") {
        return id();
    }
    const bool known = word == "/register" || word == "/bridge" || word == "/chat";
    if (!known) {
        return refuse("unknown command " + printable(word) + "; /help lists the commands");
    }
    if (word == "/register") {
        switch (state_) {
        case State::idle:
        case State::registered: pending_ = Pending::register_request; return {effect::Register{}};
        case State::wait: return refuse("waiting for a peer; /quit to stop");
        case State::ready: return refuse("you have a peer; /chat to start");
        default: return refuse("in a chat; /quit to end it");
        }
    }
    if (word == "/bridge") {
        switch (state_) {
        case State::idle: return refuse("register first: /register");
        case State::registered:
        case State::wait:
            pending_ = Pending::bridge_request;
            bridged_from_ = state_;
            return {effect::Bridge{listen_host()}};
        case State::ready: return refuse("you have a peer; /chat to start");
        default: return refuse("in a chat");
        }
    }
    // /chat
    switch (state_) {
    case State::idle: return refuse("register and bridge first");
    case State::registered: return refuse("bridge first: /bridge");
    case State::wait: return refuse("waiting: the peer starts the chat");
    case State::ready:
        pending_ = Pending::chat;
        return {info("connecting to " + peer_->id + " at " +
                     address_text(peer_->host, peer_->port) + " ..."),
                effect::OpenChat{*peer_, *self_}};
    default: return refuse("already in a chat");
    }
}

Effects StateMachine::text(std::string_view line) {
    switch (state_) {
    case State::idle: return refuse("not in a chat; /register, then /bridge");
    case State::registered: return refuse("not in a chat; /bridge first");
    case State::wait: return refuse("not in a chat yet; waiting for a peer");
    case State::ready: return refuse("not in a chat yet; /chat to start");
    case State::chat_reading: return refuse("not your turn; wait for " + peer_name());
    case State::chat_writing: break;
    case State::closed: return {};
    }
    if (const auto error_code = check_text(line)) {
        // Nothing reaches the wire and the turn is kept (§10.4).
        if (error_code == Errc::line_too_long) {
            return refuse("not sent: the line is longer than 1024 bytes");
        }
        return refuse("not sent: the line contains a control character");
    }
    state_ = State::chat_reading;
    return {effect::SendText{std::string(line)},
            Show{Tone::outgoing, config_.id + ": " + printable(line)}};
}

Effects StateMachine::quit() {
    if (state_ == State::closed || pending_ == Pending::quit) {
        return {};
    }
    if (is_chat(state_)) {
        pending_ = Pending::quit; // QUIT ignores turns (§5.7); exit once it is through
        return {effect::SendQuit{}};
    }
    state_ = State::closed;
    pending_ = Pending::none;
    typed_ahead_.clear();
    return {effect::Exit{exit_ok}};
}

Effects StateMachine::help() const {
    Effects out{
        info("commands:"),
        info("  /register  register " + config_.id + " with server " + server_name()),
        info("  /bridge    ask the server for a peer; with none yet, wait for one on port " +
             std::to_string(config_.port)),
        info("  /chat      connect to the peer the server named and start the chat"),
        info("  /quit      leave (in a chat, sends QUIT whoever's turn it is)"),
        info("  /id        show who you are and where you are"),
        info("  /help      this list"),
        info("in a chat, a line is sent when it is your turn; //text sends /text"),
    };
    std::string now = "now " + std::string(state_name(state_)) + ": ";
    switch (state_) {
    case State::idle: now += "/register, /id, /help, /quit"; break;
    case State::registered: now += "/bridge, /register, /id, /help, /quit"; break;
    case State::wait: now += "/bridge (renews the wait), /id, /help, /quit"; break;
    case State::ready: now += "/chat, /id, /help, /quit"; break;
    case State::chat_writing: now += "type a line, /id, /help, /quit"; break;
    case State::chat_reading:
        now += "wait for " + peer_name() + "'s line, /id, /help, /quit";
        break;
    case State::closed: now += "nothing"; break;
    }
    out.push_back(info(now));
    return out;
}

Effects StateMachine::id() const {
    std::string text = "clientID " + config_.id;
    if (!self_) {
        return {info(text + ", port " + std::to_string(config_.port) +
                     ", not registered yet (server " + server_name() + ")")};
    }
    text += ", registered as " + address_text(self_->host, self_->port) + " with server " +
            server_name();
    if (state_ == State::wait) {
        text += ", waiting for a peer";
    } else if (state_ == State::ready && peer_) {
        text += ", peer " + peer_->id + " at " + address_text(peer_->host, peer_->port);
    } else if (is_chat(state_)) {
        text += ", chatting with " + peer_name() + " (" + peer_address_ + ")";
    }
    return {info(text)};
}

Effects StateMachine::registered(const RequestResult& result) {
    if (pending_ != Pending::register_request) {
        return {};
    }
    pending_ = Pending::none;
    if (!result.ok()) {
        return {error(result.error().message)}; // the state is unchanged (§10.6)
    }
    const auto& response = result.value();
    if (const auto* refusal = std::get_if<ErrorRecord>(&response.reply)) {
        return {error(refused_by(server_name(), "REGISTER", *refusal))};
    }
    const auto& ack = std::get<RegAckRecord>(response.reply);
    // §5.2: REGACK echoes the contact sent. One that differs is still a success, but the client
    // keeps its own contact: a server must not make it claim another name or address.
    const ContactRecord& own = response.registering ? *response.registering : ack.self;
    Effects out;
    if (ack.self != own) {
        out.push_back(Show{Tone::notice, "warning: server " + server_name() + " echoed " +
                                             ack.self.id + " at " +
                                             address_text(ack.self.host, ack.self.port) +
                                             ", not the contact sent; keeping " + own.id + " at " +
                                             address_text(own.host, own.port)});
    }
    self_ = own;
    local_host_ = host_text(response.local.address());
    const bool first = state_ == State::idle;
    state_ = State::registered;
    std::string text = "registered as " + own.id + " at " + address_text(own.host, own.port) +
                       " with server " + server_name();
    if (first) {
        text += "; /bridge to find a peer";
    }
    out.push_back(info(text));
    return out;
}

Effects StateMachine::listen_failed(const std::string& message) {
    if (pending_ != Pending::bridge_request) {
        return {};
    }
    pending_ = Pending::none;
    return {error(message + "; BRIDGE not sent")};
}

Effects StateMachine::bridged(const RequestResult& result) {
    if (pending_ != Pending::bridge_request) {
        return {}; // a peer's CHAT came first
    }
    pending_ = Pending::none;
    const bool renewing = bridged_from_ == State::wait;
    Effects out;
    // A listening socket opened for this BRIDGE is closed again unless the client waits.
    const auto unless_waiting = [&] {
        if (!renewing) {
            out.emplace_back(effect::StopListening{});
        }
    };
    if (!result.ok()) {
        unless_waiting();
        out.emplace_back(error(result.error().message));
        return out;
    }
    const auto& reply = result.value().reply;
    if (const auto* refusal = std::get_if<ErrorRecord>(&reply)) {
        if (refusal->code == reply_code::not_registered) {
            // The server does not know us (it restarted, say): register again (§10.6).
            state_ = State::idle;
            self_.reset();
            out.emplace_back(effect::StopListening{});
            out.emplace_back(
                error(refused_by(server_name(), "BRIDGE", *refusal) + "; /register again"));
            return out;
        }
        unless_waiting();
        out.emplace_back(error(refused_by(server_name(), "BRIDGE", *refusal)));
        return out;
    }
    const auto& ack = std::get<BridgeAckRecord>(reply);
    if (!ack.peer) {
        state_ = State::wait;
        out.emplace_back(
            info((renewing ? "still no peer: waiting on port " : "no peer yet: waiting on port ") +
                 std::to_string(config_.port) + " (/quit to stop)"));
        out.emplace_back(effect::Wait{});
        return out;
    }
    if (ack.peer->id == config_.id) {
        unless_waiting();
        out.emplace_back(error("server " + server_name() +
                               " named this client as its own peer; not connecting"));
        return out;
    }
    peer_ = *ack.peer;
    state_ = State::ready;
    out.emplace_back(effect::StopListening{});
    out.emplace_back(info("peer " + peer_->id + " at " + address_text(peer_->host, peer_->port) +
                          "; /chat to start"));
    return out;
}

Effects StateMachine::chat_opened(const std::string& remote_address) {
    if (pending_ != Pending::chat) {
        return {};
    }
    pending_ = Pending::none;
    peer_address_ = remote_address;
    initiated_ = true;
    state_ = State::chat_writing; // the initiator writes first (§10.4)
    return {info("chat with " + peer_name() + " started; you write first")};
}

Effects StateMachine::chat_open_failed(const std::string& message) {
    if (pending_ != Pending::chat) {
        return {};
    }
    pending_ = Pending::none;
    state_ = State::registered;
    peer_.reset();
    return {error(message + "; /bridge to find another peer")};
}

Effects StateMachine::peer_arrived(const ContactRecord& peer, const std::string& remote_address) {
    if (state_ != State::wait) {
        return {};
    }
    // The clientID is a claim; the source address lets the user judge it (spec §11).
    peer_ = peer;
    peer_address_ = remote_address;
    state_ = State::chat_reading;
    if (pending_ == Pending::bridge_request) {
        pending_ = Pending::none; // a renewed BRIDGE's reply no longer matters
    }
    return {
        info(peer.id + " (" + remote_address + ") started a chat; " + peer.id + " writes first")};
}

Effects StateMachine::text_received(std::string_view text) {
    if (!is_chat(state_) || pending_ == Pending::quit) {
        return {};
    }
    // Out of turn (we are the writer) the line is shown and we stay the writer (§10.4).
    state_ = State::chat_writing;
    return {Show{Tone::incoming, peer_name() + ": " + printable(text)}};
}

Effects StateMachine::chat_ended(const ChatEnded& ended) {
    if (state_ == State::closed) {
        return {};
    }
    const bool we_quit = pending_ == Pending::quit;
    pending_ = Pending::none;
    if (initiated_ && !we_quit && !ended.heard) {
        // Closed (or reset) before the waiter wrote a byte: it did not take the chat, which
        // never began; the client is registered as before and may bridge again (§10.7).
        initiated_ = false;
        state_ = State::registered;
        const std::string name = peer_name();
        peer_.reset();
        return {error(name + " closed the connection without writing: it did not take the chat; "
                             "/bridge to find another peer")};
    }
    state_ = State::closed;
    if (we_quit) {
        return {info("chat with " + peer_name() + " ended"), effect::Exit{exit_ok}};
    }
    switch (ended.how) {
    case ChatEnd::broken: return {error(ended.message), effect::Exit{exit_chat_lost}};
    default: return {info(ended.message), effect::Exit{exit_ok}};
    }
}

Effects StateMachine::wait_expired() {
    if (state_ != State::wait) {
        return {};
    }
    return {Show{Tone::notice, "no peer for 10 minutes: the server may no longer hand out your "
                               "contact; /bridge to renew the wait"}};
}

Effects StateMachine::wait_log(std::string_view line) {
    return {Show{Tone::log, std::string(line)}};
}

} // namespace tcpchat::client
