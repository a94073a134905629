// The client's state machine (spec §10.1, §10.2): typed lines and network outcomes in, effects
// out. No I/O here: the terminal front-end and the transport carry the effects out and report
// back, which keeps every rule of §10 testable without a socket or a terminal.
#pragma once

#include "tcpchat/peer_link.hpp"
#include "tcpchat/request_client.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace tcpchat::client {

// Spec §10.1. `closed` is final: the client exits.
enum class State : std::uint8_t {
    idle,
    registered,
    wait,
    ready,
    chat_writing,
    chat_reading,
    closed
};

// `IDLE`, `REGISTERED`, `WAIT`, `READY`, `CHAT-writing`, `CHAT-reading`, `closed`.
[[nodiscard]] std::string_view state_name(State state) noexcept;

// Exit statuses (spec §10.5).
inline constexpr int exit_ok = 0;        // /quit, QUIT received, the peer closed
inline constexpr int exit_chat_lost = 1; // the peer connection was lost or malformed
inline constexpr int exit_usage = 2;     // a command-line error

struct Config {
    std::string id;
    std::uint16_t port = 0;
    ServerAddress server;
    std::optional<std::string> advertise; // --advertise: register this IP, listen on all addresses
};

// What a line on the screen is, so the front-end can colour it.
enum class Tone : std::uint8_t {
    info,     // what happened
    notice,   // a reminder
    error,    // what failed, naming the address (spec §10.6)
    incoming, // the peer's line
    outgoing, // our own line (a terminal already shows it as typed)
    log,      // WAIT mode's line about a connection it closed
};

namespace effect {
struct Show {
    Tone tone = Tone::info;
    std::string text;
    friend bool operator==(const Show&, const Show&) = default;
};
struct Register { // send REGISTER
    friend bool operator==(const Register&, const Register&) = default;
};
struct Bridge { // listen on listen_host:--port unless listening already, then send BRIDGE (§10.3)
    std::string listen_host;
    friend bool operator==(const Bridge&, const Bridge&) = default;
};
struct Wait { // accept peers (WAIT mode), and remind the user when the server's wait has expired
    friend bool operator==(const Wait&, const Wait&) = default;
};
struct StopListening {
    friend bool operator==(const StopListening&, const StopListening&) = default;
};
struct OpenChat { // connect to the peer and send CHAT (§10.4)
    ContactRecord peer;
    ContactRecord self;
    friend bool operator==(const OpenChat&, const OpenChat&) = default;
};
struct SendText {
    std::string text;
    friend bool operator==(const SendText&, const SendText&) = default;
};
struct SendQuit {
    friend bool operator==(const SendQuit&, const SendQuit&) = default;
};
struct Exit {
    int status = exit_ok;
    friend bool operator==(const Exit&, const Exit&) = default;
};
} // namespace effect

// How a script on a pipe is read (README, spec §10.2): its next line is taken; or lines are held
// but the end of input, with no line left, is /quit (WAIT: nobody may ever come); or nothing is
// taken, not even the end (a request in flight, the peer's turn).
enum class ScriptInput : std::uint8_t { next_line, end_only, hold };

using Effect = std::variant<effect::Show, effect::Register, effect::Bridge, effect::Wait,
                            effect::StopListening, effect::OpenChat, effect::SendText,
                            effect::SendQuit, effect::Exit>;
using Effects = std::vector<Effect>;

class StateMachine {
  public:
    explicit StateMachine(Config config);

    // The user: one typed line (without its line end), or the end of input (Ctrl-D, the end of a
    // pipe, a signal), which is /quit. A line typed while a request or a connection attempt is in
    // flight is kept, in order, until its outcome (/quit, /id and /help act at once).
    [[nodiscard]] Effects typed(std::string_view line);
    // The lines kept while busy, taken in order as long as the client is not busy again.
    [[nodiscard]] Effects resume();
    [[nodiscard]] Effects end_of_input();

    // Outcomes of the effects.
    [[nodiscard]] Effects registered(const RequestResult& result);
    [[nodiscard]] Effects listen_failed(const std::string& message);
    [[nodiscard]] Effects bridged(const RequestResult& result);
    [[nodiscard]] Effects chat_opened(const std::string& remote_address);
    [[nodiscard]] Effects chat_open_failed(const std::string& message);
    [[nodiscard]] Effects peer_arrived(const ContactRecord& peer,
                                       const std::string& remote_address);
    [[nodiscard]] Effects text_received(std::string_view text);
    [[nodiscard]] Effects chat_ended(const ChatEnded& ended);
    [[nodiscard]] Effects wait_expired();
    [[nodiscard]] Effects wait_log(std::string_view line);

    [[nodiscard]] State state() const noexcept { return state_; }
    // A request or a connection attempt is in flight.
    [[nodiscard]] bool busy() const noexcept { return pending_ != Pending::none; }
    // Whether the next line of a script should be taken now (piped input, see the README): not
    // while busy, waiting for a peer, or reading the peer's turn.
    [[nodiscard]] bool ready_for_input() const noexcept;
    [[nodiscard]] ScriptInput script_input() const noexcept;
    // `user1 [REGISTERED]> `, `user1 [your turn]> `, `user1 [user2's turn]> `.
    [[nodiscard]] std::string prompt() const;
    [[nodiscard]] const Config& config() const noexcept { return config_; }

  private:
    enum class Pending : std::uint8_t { none, register_request, bridge_request, chat, quit };

    Effects command(std::string_view word);
    Effects text(std::string_view line);
    Effects quit();
    Effects help() const;
    Effects id() const;
    [[nodiscard]] std::string server_name() const;
    [[nodiscard]] std::string peer_name() const;
    [[nodiscard]] std::string listen_host() const;

    Config config_;
    State state_ = State::idle;
    Pending pending_ = Pending::none;
    State bridged_from_ = State::registered; // where the pending BRIDGE was sent from
    std::optional<ContactRecord> self_;      // as registered
    std::string local_host_;                 // our end of the REGISTER connection
    std::optional<ContactRecord> peer_;
    std::string peer_address_;            // the peer connection's remote address, as observed
    std::deque<std::string> typed_ahead_; // typed while busy, not taken yet
    bool initiated_ = false;              // this client opened the chat (§10.7)
};

// Lines a person may type ahead of a reply; more are refused.
inline constexpr std::size_t max_typed_ahead = 32;

} // namespace tcpchat::client
