// The client's state machine against spec §10.1-§10.6: what each typed line and each network
// outcome does in each state, with no socket and no terminal.
#include "display.hpp"
#include "state_machine.hpp"
#include "tcpchat/error.hpp"

#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace tcpchat::client {

// Printing, so that a failing expectation shows the effects.
std::ostream& operator<<(std::ostream& os, const Effect& effect) {
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, effect::Show>) {
                os << "Show{" << int(e.tone) << ", \"" << e.text << "\"}";
            } else if constexpr (std::is_same_v<T, effect::Register>) {
                os << "Register";
            } else if constexpr (std::is_same_v<T, effect::Bridge>) {
                os << "Bridge{" << e.listen_host << "}";
            } else if constexpr (std::is_same_v<T, effect::Wait>) {
                os << "Wait";
            } else if constexpr (std::is_same_v<T, effect::StopListening>) {
                os << "StopListening";
            } else if constexpr (std::is_same_v<T, effect::OpenChat>) {
                os << "OpenChat{" << e.peer.id << "}";
            } else if constexpr (std::is_same_v<T, effect::SendText>) {
                os << "SendText{\"" << e.text << "\"}";
            } else if constexpr (std::is_same_v<T, effect::SendQuit>) {
                os << "SendQuit";
            } else {
                os << "Exit{" << e.status << "}";
            }
        },
        effect);
    return os;
}

namespace {

using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

effect::Show info(std::string text) {
    return {Tone::info, std::move(text)};
}
effect::Show error(std::string text) {
    return {Tone::error, std::move(text)};
}
effect::Show incoming(std::string text) {
    return {Tone::incoming, std::move(text)};
}
effect::Show outgoing(std::string text) {
    return {Tone::outgoing, std::move(text)};
}
effect::Show log_line(std::string text) {
    return {Tone::log, std::move(text)};
}

const ContactRecord user1{"user1", "127.0.0.1", 3000};
const ContactRecord user2{"user2", "127.0.0.1", 3001};

Config config(std::optional<std::string> advertise = std::nullopt) {
    return {"user1", 3000, ServerAddress{"127.0.0.2", 5555}, std::move(advertise)};
}

RequestResult reply(Reply r) {
    return Response{std::move(r), "", tcp::endpoint(make_address("127.0.0.1"), 40000),
                    tcp::endpoint(make_address("127.0.0.2"), 5555), std::nullopt};
}

RequestResult failure(std::string message) {
    return RequestError{std::make_error_code(std::errc::connection_refused), std::move(message)};
}

// Drives a fresh machine into `state` the way a user and the network would.
StateMachine in(State state, Config c = config()) {
    StateMachine m(std::move(c));
    if (state == State::idle) {
        return m;
    }
    (void)m.typed("/register");
    (void)m.registered(reply(RegAckRecord{user1, false}));
    if (state == State::registered) {
        return m;
    }
    (void)m.typed("/bridge");
    if (state == State::wait || state == State::chat_reading) {
        (void)m.bridged(reply(BridgeAckRecord{std::nullopt}));
        if (state == State::chat_reading) {
            (void)m.peer_arrived(user2, "127.0.0.1:45000");
        }
        return m;
    }
    (void)m.bridged(reply(BridgeAckRecord{user2}));
    if (state == State::ready) {
        return m;
    }
    (void)m.typed("/chat");
    (void)m.chat_opened("127.0.0.1:3001");
    return m;
}

const State all_states[] = {State::idle,  State::registered,   State::wait,
                            State::ready, State::chat_writing, State::chat_reading};

TEST(StateMachine, ReachesEveryState) {
    for (State state : all_states) {
        EXPECT_EQ(in(state).state(), state) << state_name(state);
    }
}

// ---- Spec §10.2: refusals, one line each, and nothing changes --------------------------------

struct Refusal {
    State state;
    const char* input;
    const char* says;
};

const Refusal refusals[] = {
    {State::idle, "/bridge", "register first: /register"},
    {State::idle, "/chat", "register and bridge first"},
    {State::idle, "hello", "not in a chat; /register, then /bridge"},
    {State::registered, "/chat", "bridge first: /bridge"},
    {State::registered, "hello", "not in a chat; /bridge first"},
    {State::wait, "/register", "waiting for a peer; /quit to stop"},
    {State::wait, "/chat", "waiting: the peer starts the chat"},
    {State::wait, "hello", "not in a chat yet; waiting for a peer"},
    {State::ready, "/register", "you have a peer; /chat to start"},
    {State::ready, "/bridge", "you have a peer; /chat to start"},
    {State::ready, "hello", "not in a chat yet; /chat to start"},
    {State::chat_writing, "/register", "in a chat; /quit to end it"},
    {State::chat_writing, "/bridge", "in a chat"},
    {State::chat_writing, "/chat", "already in a chat"},
    {State::chat_reading, "/register", "in a chat; /quit to end it"},
    {State::chat_reading, "/bridge", "in a chat"},
    {State::chat_reading, "/chat", "already in a chat"},
    {State::chat_reading, "hello", "not your turn; wait for user2"},
    {State::idle, "/nick bob", "unknown command /nick; /help lists the commands"},
    {State::chat_writing, "/QUIT", "unknown command /QUIT; /help lists the commands"},
    {State::chat_reading, "/", "unknown command /; /help lists the commands"},
};

class StateMachineRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(StateMachineRefusal, SaysWhatToDoInsteadAndChangesNothing) {
    const Refusal& r = GetParam();
    StateMachine m = in(r.state);
    const std::string prompt = m.prompt();
    EXPECT_EQ(m.typed(r.input), Effects{error(r.says)});
    EXPECT_EQ(m.state(), r.state);
    EXPECT_EQ(m.prompt(), prompt);
}

void PrintTo(const Refusal& r, std::ostream* os) {
    *os << state_name(r.state) << " \"" << r.input << "\"";
}

INSTANTIATE_TEST_SUITE_P(Spec10_2, StateMachineRefusal, ::testing::ValuesIn(refusals));

// ---- Registering -----------------------------------------------------------------------------

TEST(StateMachine, RegisterThenRegAck) {
    StateMachine m(config());
    EXPECT_EQ(m.typed("/register"), Effects{effect::Register{}});
    EXPECT_TRUE(m.busy());
    EXPECT_FALSE(m.ready_for_input());
    EXPECT_EQ(m.prompt(), "user1 [IDLE, registering]> ");
    EXPECT_EQ(m.registered(reply(RegAckRecord{user1, true})),
              Effects{info("registered as user1 at 127.0.0.1:3000 with server 127.0.0.2:5555; "
                           "/bridge to find a peer")});
    EXPECT_EQ(m.state(), State::registered);
    EXPECT_EQ(m.prompt(), "user1 [REGISTERED]> ");
    // Again: a refresh (§6.2), still REGISTERED.
    EXPECT_EQ(m.typed("/register"), Effects{effect::Register{}});
    EXPECT_EQ(m.registered(reply(RegAckRecord{user1, false})).size(), 1U);
    EXPECT_EQ(m.state(), State::registered);
}

TEST(StateMachine, RegisterFailuresLeaveTheStateAsItWas) {
    StateMachine m(config());
    (void)m.typed("/register");
    const std::string unreachable = "cannot connect to server 127.0.0.2:5555: Connection refused";
    EXPECT_EQ(m.registered(failure(unreachable)), Effects{error(unreachable)});
    EXPECT_EQ(m.state(), State::idle);
    EXPECT_FALSE(m.busy());

    (void)m.typed("/register");
    EXPECT_EQ(m.registered(reply(ErrorRecord{403, "clientID user1 is registered from another "
                                                  "address"})),
              Effects{error("server 127.0.0.2:5555 refused REGISTER: 403 clientID user1 is "
                            "registered from another address")});
    EXPECT_EQ(m.state(), State::idle);
}

// One request at a time; what is typed meanwhile is taken after the reply, in order (§10.2).
TEST(StateMachine, LinesTypedDuringARequestAreTakenAfterItInOrder) {
    StateMachine m(config());
    EXPECT_EQ(m.typed("/register"), Effects{effect::Register{}});
    EXPECT_EQ(m.typed("/bridge"), Effects{});
    EXPECT_EQ(m.typed("hello"), Effects{});
    EXPECT_EQ(m.typed("/id").size(), 1U); // /id, /help and /quit act at once
    EXPECT_EQ(m.resume(), Effects{});     // nothing is taken while the request is in flight
    EXPECT_EQ(m.registered(reply(RegAckRecord{user1, false})).size(), 1U);
    EXPECT_EQ(m.resume(), (Effects{effect::Bridge{"127.0.0.1"}})); // then busy again: hello waits
    EXPECT_EQ(m.prompt(), "user1 [REGISTERED, bridging]> ");
    EXPECT_EQ(m.bridged(reply(BridgeAckRecord{user2})).size(), 2U);
    EXPECT_EQ(m.resume(), Effects{error("not in a chat yet; /chat to start")});
    EXPECT_EQ(m.resume(), Effects{});
}

TEST(StateMachine, QuitDuringARequestActsAtOnceAndDropsWhatWasTypedAhead) {
    StateMachine m = in(State::registered);
    (void)m.typed("/bridge");
    (void)m.typed("/register");
    EXPECT_EQ(m.typed("/quit"), Effects{effect::Exit{exit_ok}});
    EXPECT_EQ(m.resume(), Effects{});
}

TEST(StateMachine, TypingAheadIsBounded) {
    StateMachine m = in(State::registered);
    (void)m.typed("/bridge");
    for (std::size_t i = 0; i < max_typed_ahead; ++i) {
        EXPECT_EQ(m.typed("/register"), Effects{});
    }
    EXPECT_EQ(m.typed("/register"),
              Effects{error("not taken: 32 lines already wait for the reply from server "
                            "127.0.0.2:5555")});
}

// ---- Bridging and WAIT (§10.3) ----------------------------------------------------------------

TEST(StateMachine, BridgeListensOnTheRegisteredAddress) {
    StateMachine m = in(State::registered);
    EXPECT_EQ(m.typed("/bridge"), Effects{effect::Bridge{"127.0.0.1"}});
    EXPECT_EQ(m.prompt(), "user1 [REGISTERED, bridging]> ");
}

TEST(StateMachine, BridgeWithAdvertiseListensOnAllAddresses) {
    EXPECT_EQ(in(State::registered, config("192.0.2.7")).typed("/bridge"),
              Effects{effect::Bridge{"0.0.0.0"}});
    EXPECT_EQ(in(State::registered, config("2001:db8::7")).typed("/bridge"),
              Effects{effect::Bridge{"::"}});
}

TEST(StateMachine, EmptyBridgeAckWaits) {
    StateMachine m = in(State::registered);
    (void)m.typed("/bridge");
    EXPECT_EQ(m.bridged(reply(BridgeAckRecord{std::nullopt})),
              (Effects{info("no peer yet: waiting on port 3000 (/quit to stop)"), effect::Wait{}}));
    EXPECT_EQ(m.state(), State::wait);
    EXPECT_FALSE(m.ready_for_input()); // a script waits for its peer
    EXPECT_EQ(m.wait_expired().size(), 1U);
    // /bridge renews the wait; the listening socket stays.
    EXPECT_EQ(m.typed("/bridge"), Effects{effect::Bridge{"127.0.0.1"}});
    EXPECT_EQ(m.bridged(failure("no reply from server 127.0.0.2:5555 within 5 s")),
              Effects{error("no reply from server 127.0.0.2:5555 within 5 s")});
    EXPECT_EQ(m.state(), State::wait);
}

TEST(StateMachine, BridgeAckWithAPeerIsReady) {
    StateMachine m = in(State::registered);
    (void)m.typed("/bridge");
    EXPECT_EQ(
        m.bridged(reply(BridgeAckRecord{user2})),
        (Effects{effect::StopListening{}, info("peer user2 at 127.0.0.1:3001; /chat to start")}));
    EXPECT_EQ(m.state(), State::ready);
    EXPECT_EQ(m.wait_expired(), Effects{});
}

TEST(StateMachine, BridgeRefusedAsNotRegisteredGoesBackToIdle) {
    StateMachine m = in(State::wait);
    (void)m.typed("/bridge");
    EXPECT_EQ(m.bridged(reply(ErrorRecord{404, "clientID user1 is not registered"})),
              (Effects{effect::StopListening{},
                       error("server 127.0.0.2:5555 refused BRIDGE: 404 clientID user1 is not "
                             "registered; /register again")}));
    EXPECT_EQ(m.state(), State::idle);
}

TEST(StateMachine, OtherBridgeFailuresCloseTheSocketOpenedForIt) {
    StateMachine m = in(State::registered);
    (void)m.typed("/bridge");
    EXPECT_EQ(m.bridged(reply(ErrorRecord{503, "too many connections"})),
              (Effects{effect::StopListening{},
                       error("server 127.0.0.2:5555 refused BRIDGE: 503 too many connections")}));
    EXPECT_EQ(m.state(), State::registered);

    (void)m.typed("/bridge");
    EXPECT_EQ(m.bridged(reply(BridgeAckRecord{user1})),
              (Effects{effect::StopListening{},
                       error("server 127.0.0.2:5555 named this client as its own peer; not "
                             "connecting")}));
    EXPECT_EQ(m.state(), State::registered);
}

// §10.6: a renewed BRIDGE answered with this client's own contact leaves the wait as it was: the
// client keeps listening (no StopListening) and does not connect.
TEST(StateMachine, BridgeAckNamingItselfInWaitKeepsWaiting) {
    StateMachine m = in(State::wait);
    (void)m.typed("/bridge");
    EXPECT_EQ(m.bridged(reply(BridgeAckRecord{user1})),
              Effects{error("server 127.0.0.2:5555 named this client as its own peer; not "
                            "connecting")});
    EXPECT_EQ(m.state(), State::wait);
}

TEST(StateMachine, ListenFailureSendsNoBridge) {
    StateMachine m = in(State::registered);
    (void)m.typed("/bridge");
    EXPECT_EQ(m.listen_failed("cannot listen on 127.0.0.1:3000: Address already in use"),
              Effects{error("cannot listen on 127.0.0.1:3000: Address already in use; BRIDGE "
                            "not sent")});
    EXPECT_EQ(m.state(), State::registered);
    EXPECT_FALSE(m.busy());
}

TEST(StateMachine, PeerArrivesInWaitAndWritesFirst) {
    StateMachine m = in(State::wait);
    EXPECT_EQ(m.peer_arrived(user2, "127.0.0.1:45000"),
              Effects{info("user2 (127.0.0.1:45000) started a chat; user2 writes first")});
    EXPECT_EQ(m.state(), State::chat_reading);
    EXPECT_EQ(m.prompt(), "user1 [user2's turn]> ");
    EXPECT_FALSE(m.ready_for_input());
}

TEST(StateMachine, PeerArrivingDuringARenewedBridgeWins) {
    StateMachine m = in(State::wait);
    (void)m.typed("/bridge");
    (void)m.peer_arrived(user2, "127.0.0.1:45000");
    EXPECT_EQ(m.bridged(reply(BridgeAckRecord{ContactRecord{"user3", "127.0.0.1", 3002}})),
              Effects{});
    EXPECT_EQ(m.state(), State::chat_reading);
}

// ---- CHAT (§10.4) -----------------------------------------------------------------------------

TEST(StateMachine, ChatOpensToThePeerTheServerNamed) {
    StateMachine m = in(State::ready);
    EXPECT_EQ(m.typed("/chat"), (Effects{info("connecting to user2 at 127.0.0.1:3001 ..."),
                                         effect::OpenChat{user2, user1}}));
    EXPECT_EQ(m.typed("hello"), Effects{}); // typed while connecting: the first line
    EXPECT_EQ(m.chat_opened("127.0.0.1:3001"),
              Effects{info("chat with user2 started; you write first")});
    EXPECT_EQ(m.state(), State::chat_writing);
    EXPECT_EQ(m.prompt(), "user1 [your turn]> ");
    EXPECT_EQ(m.resume(),
              (Effects{effect::SendText{"hello"}, effect::Show{Tone::outgoing, "user1: hello"}}));
    EXPECT_EQ(m.state(), State::chat_reading);
}

TEST(StateMachine, UnreachablePeerGoesBackToRegistered) {
    StateMachine m = in(State::ready);
    (void)m.typed("/chat");
    EXPECT_EQ(m.chat_open_failed("cannot connect to peer user2 at 127.0.0.1:3001: Connection "
                                 "refused"),
              Effects{error("cannot connect to peer user2 at 127.0.0.1:3001: Connection refused; "
                            "/bridge to find another peer")});
    EXPECT_EQ(m.state(), State::registered);
}

TEST(StateMachine, TurnsAlternate) {
    StateMachine m = in(State::chat_writing);
    EXPECT_EQ(m.typed("hello there"),
              (Effects{effect::SendText{"hello there"}, outgoing("user1: hello there")}));
    EXPECT_EQ(m.state(), State::chat_reading);
    EXPECT_EQ(m.typed("too soon"), Effects{error("not your turn; wait for user2")});
    EXPECT_EQ(m.text_received("hi"), Effects{incoming("user2: hi")});
    EXPECT_EQ(m.state(), State::chat_writing);
    // A line the peer sends out of turn is shown; we stay the writer.
    EXPECT_EQ(m.text_received("and more"), Effects{incoming("user2: and more")});
    EXPECT_EQ(m.state(), State::chat_writing);
    EXPECT_TRUE(m.ready_for_input());
}

struct Typed {
    const char* name;
    std::string line;
    Effects effects;
    State after;
};

const Typed typed_in_turn[] = {
    {"SlashSlashSendsASlash",
     "//me waves",
     {effect::SendText{"/me waves"}, outgoing("user1: /me waves")},
     State::chat_reading},
    {"QuitAsTextIsText",
     "QUIT",
     {effect::SendText{"QUIT"}, outgoing("user1: QUIT")},
     State::chat_reading},
    {"EmptyLineKeepsTheTurn", "", {}, State::chat_writing},
    {"ControlByteKeepsTheTurn",
     "bell\x07",
     {error("not sent: the line contains a control character")},
     State::chat_writing},
    {"OverMaxLineKeepsTheTurn",
     std::string(1025, 'x'),
     {error("not sent: the line is longer than 1024 bytes")},
     State::chat_writing},
    {"MaxLineIsSent",
     std::string(1024, 'x'),
     {effect::SendText{std::string(1024, 'x')}, outgoing("user1: " + std::string(1024, 'x'))},
     State::chat_reading},
};

class StateMachineTyped : public ::testing::TestWithParam<Typed> {};

TEST_P(StateMachineTyped, InTurn) {
    StateMachine m = in(State::chat_writing);
    EXPECT_EQ(m.typed(GetParam().line), GetParam().effects);
    EXPECT_EQ(m.state(), GetParam().after);
}

INSTANTIATE_TEST_SUITE_P(Spec10_4, StateMachineTyped, ::testing::ValuesIn(typed_in_turn),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StateMachine, IncomingTextIsEscapedForTheTerminal) {
    StateMachine m = in(State::chat_reading);
    EXPECT_EQ(m.text_received("caf\xC3\xA9 \xC2\x85 \xFF\tend"),
              Effects{incoming("user2: caf\xC3\xA9 \\u0085 \\xFF\tend")});
}

// ---- Ending (§10.5) ---------------------------------------------------------------------------

TEST(StateMachine, QuitOutsideAChatExits) {
    for (State state : {State::idle, State::registered, State::wait, State::ready}) {
        StateMachine m = in(state);
        EXPECT_EQ(m.typed("/quit"), Effects{effect::Exit{exit_ok}}) << state_name(state);
        EXPECT_EQ(m.state(), State::closed);
        EXPECT_EQ(m.typed("/register"), Effects{});
    }
    StateMachine m(config());
    EXPECT_EQ(m.end_of_input(), Effects{effect::Exit{exit_ok}});
}

TEST(StateMachine, QuitInAChatSendsQuitWhateverTheTurn) {
    for (State state : {State::chat_writing, State::chat_reading}) {
        StateMachine m = in(state);
        EXPECT_EQ(m.typed("/quit"), Effects{effect::SendQuit{}});
        EXPECT_EQ(m.typed("/quit"), Effects{});
        EXPECT_EQ(m.text_received("late"), Effects{});
        EXPECT_EQ(m.chat_ended({ChatEnd::quit_sent, {}, "you left the chat"}),
                  (Effects{info("chat with user2 ended"), effect::Exit{exit_ok}}));
    }
    StateMachine m = in(State::chat_reading);
    EXPECT_EQ(m.end_of_input(), Effects{effect::SendQuit{}});
}

TEST(StateMachine, HowThePeerEndsTheChatSetsTheExitStatus) {
    const struct {
        ChatEnded ended;
        Effects effects;
    } cases[] = {
        {{ChatEnd::quit_received, {}, "user2 left the chat"},
         {info("user2 left the chat"), effect::Exit{exit_ok}}},
        {{ChatEnd::closed, {}, "user2 closed the connection"},
         {info("user2 closed the connection"), effect::Exit{exit_ok}}},
        {{ChatEnd::broken, std::make_error_code(std::errc::connection_reset),
          "connection to user2 (127.0.0.1:3001) lost: Connection reset by peer"},
         {error("connection to user2 (127.0.0.1:3001) lost: Connection reset by peer"),
          effect::Exit{exit_chat_lost}}},
        {{ChatEnd::broken, make_error_code(Errc::bare_lf),
          "user2 (127.0.0.1:3001) sent malformed data: bare_lf at byte 5: expected CRLF"},
         {error("user2 (127.0.0.1:3001) sent malformed data: bare_lf at byte 5: expected CRLF"),
          effect::Exit{exit_chat_lost}}},
    };
    for (const auto& c : cases) {
        StateMachine m = in(State::chat_reading);
        EXPECT_EQ(m.chat_ended(c.ended), c.effects) << c.ended.message;
        EXPECT_EQ(m.state(), State::closed);
        EXPECT_EQ(m.prompt(), "");
    }
}

// An initiator whose peer connection ends before the waiter's first byte was turned away: the
// chat never began, the client is registered and can bridge again (§10.7). Once a byte came,
// the same end is the end of the chat (§10.5), and a waiter's chat always began.
TEST(StateMachine, InitiatorTurnedAwayBeforeAnyByteIsRegisteredAgain) {
    const ChatEnded turned_away[] = {
        {ChatEnd::closed, {}, "user2 closed the connection", false},
        {ChatEnd::broken, std::make_error_code(std::errc::connection_reset),
         "connection to user2 (127.0.0.1:3001) lost: Connection reset by peer", false},
    };
    for (const ChatEnded& ended : turned_away) {
        StateMachine m = in(State::chat_writing);
        EXPECT_EQ(m.chat_ended(ended),
                  Effects{error("user2 closed the connection without writing: it did not take "
                                "the chat; /bridge to find another peer")})
            << ended.message;
        EXPECT_EQ(m.state(), State::registered);
        EXPECT_EQ(m.typed("hello"), Effects{error("not in a chat; /bridge first")});
        EXPECT_EQ(m.typed("/bridge"), Effects{effect::Bridge{"127.0.0.1"}});
    }

    StateMachine heard = in(State::chat_writing);
    EXPECT_EQ(heard.chat_ended({ChatEnd::closed, {}, "user2 closed the connection", true}),
              (Effects{info("user2 closed the connection"), effect::Exit{exit_ok}}));
    EXPECT_EQ(heard.state(), State::closed);

    StateMachine waiter = in(State::chat_reading);
    EXPECT_EQ(waiter.chat_ended({ChatEnd::closed, {}, "user2 closed the connection", false}),
              (Effects{info("user2 closed the connection"), effect::Exit{exit_ok}}));
}

// ---- /id, /help, scripts -----------------------------------------------------------------------

TEST(StateMachine, IdSaysWhoAndWhere) {
    const struct {
        State state;
        const char* says;
    } cases[] = {
        {State::idle, "clientID user1, port 3000, not registered yet (server 127.0.0.2:5555)"},
        {State::registered, "clientID user1, registered as 127.0.0.1:3000 with server "
                            "127.0.0.2:5555"},
        {State::wait, "clientID user1, registered as 127.0.0.1:3000 with server 127.0.0.2:5555, "
                      "waiting for a peer"},
        {State::ready, "clientID user1, registered as 127.0.0.1:3000 with server 127.0.0.2:5555, "
                       "peer user2 at 127.0.0.1:3001"},
        {State::chat_reading, "clientID user1, registered as 127.0.0.1:3000 with server "
                              "127.0.0.2:5555, chatting with user2 (127.0.0.1:45000)"},
    };
    for (const auto& c : cases) {
        StateMachine m = in(c.state);
        EXPECT_EQ(m.typed("/id"), Effects{info(c.says)}) << state_name(c.state);
        EXPECT_EQ(m.state(), c.state);
    }
}

TEST(StateMachine, HelpEndsWithWhatAppliesNow) {
    const Effects help = in(State::wait).typed("/help");
    ASSERT_FALSE(help.empty());
    EXPECT_EQ(help.back(), Effect{info("now WAIT: /bridge (renews the wait), /id, /help, /quit")});
}

TEST(StateMachine, AScriptIsReadInWaitForItsEndOnly) {
    EXPECT_EQ(in(State::wait).script_input(), ScriptInput::end_only);
    EXPECT_EQ(in(State::chat_reading).script_input(), ScriptInput::hold);
    EXPECT_EQ(in(State::chat_writing).script_input(), ScriptInput::next_line);
    StateMachine m = in(State::wait);
    (void)m.typed("/bridge");
    EXPECT_EQ(m.script_input(), ScriptInput::hold); // renewing: nothing until the reply
}

TEST(StateMachine, AScriptIsFedWhenTheClientCanActOnIt) {
    const struct {
        State state;
        bool ready;
    } cases[] = {{State::idle, true},  {State::registered, true},   {State::wait, false},
                 {State::ready, true}, {State::chat_writing, true}, {State::chat_reading, false}};
    for (const auto& c : cases) {
        EXPECT_EQ(in(c.state).ready_for_input(), c.ready) << state_name(c.state);
    }
}

TEST(StateMachine, WaitLogLinesAreShown) {
    StateMachine m = in(State::chat_reading);
    EXPECT_EQ(m.wait_log("closed 127.0.0.1:45678: a chat is already active"),
              Effects{log_line("closed 127.0.0.1:45678: a chat is already active")});
}

TEST(Printable, EscapesWhatATerminalWouldInterpret) {
    EXPECT_EQ(printable("plain text"), "plain text");
    EXPECT_EQ(printable("\xE2\x82\xAC \xF0\x9F\x99\x82"), "\xE2\x82\xAC \xF0\x9F\x99\x82");
    EXPECT_EQ(printable("\xC2\x9B[31m"), "\\u009B[31m");     // C1 CSI
    EXPECT_EQ(printable("\xC0\xAF"), "\\xC0\\xAF");          // overlong
    EXPECT_EQ(printable("\xED\xA0\x80"), "\\xED\\xA0\\x80"); // surrogate
    EXPECT_EQ(printable("\xE2\x82"), "\\xE2\\x82");          // cut short
    EXPECT_EQ(printable(std::string_view("a\0b\x1b", 4)), "a\\x00b\\x1B");
    EXPECT_EQ(printable("a\x7F"
                        "b"),
              "a\\x7Fb"); // DEL
    EXPECT_EQ(printable("\t"), "\t");
}

// Characters that reorder or hide text on the screen (CVE-2021-42574) are shown escaped, each
// range at both ends, with its neighbours outside the ranges shown as they are.
struct FormatCharacter {
    const char* utf8;
    const char* shown;
};

const FormatCharacter format_characters[] = {
    {"\xE2\x80\xAA", "\\u202A"},      // LEFT-TO-RIGHT EMBEDDING
    {"\xE2\x80\xAE", "\\u202E"},      // RIGHT-TO-LEFT OVERRIDE
    {"\xE2\x81\xA6", "\\u2066"},      // LEFT-TO-RIGHT ISOLATE
    {"\xE2\x81\xA9", "\\u2069"},      // POP DIRECTIONAL ISOLATE
    {"\xE2\x80\x8B", "\\u200B"},      // ZERO WIDTH SPACE
    {"\xE2\x80\x8F", "\\u200F"},      // RIGHT-TO-LEFT MARK
    {"\xD8\x9C", "\\u061C"},          // ARABIC LETTER MARK
    {"\xEF\xBB\xBF", "\\uFEFF"},      // BYTE ORDER MARK
    {"\xE2\x80\xA9", "\xE2\x80\xA9"}, // U+2029, just below U+202A: kept
    {"\xE2\x80\xAF", "\xE2\x80\xAF"}, // U+202F, just above U+202E: kept
    {"\xE2\x81\xA5", "\xE2\x81\xA5"}, // U+2065: kept
    {"\xE2\x81\xAA", "\xE2\x81\xAA"}, // U+206A: kept
    {"\xE2\x80\x8A", "\xE2\x80\x8A"}, // U+200A HAIR SPACE: kept
    {"\xE2\x80\x90", "\xE2\x80\x90"}, // U+2010 HYPHEN: kept
    {"\xD8\x9B", "\xD8\x9B"},         // U+061B ARABIC SEMICOLON: kept
    {"\xEF\xBB\xBE", "\xEF\xBB\xBE"}, // U+FEFE: kept
};

class PrintableFormat : public ::testing::TestWithParam<FormatCharacter> {};

TEST_P(PrintableFormat, IsEscapedOnlyInsideTheRanges) {
    EXPECT_EQ(printable(std::string("x") + GetParam().utf8 + "y"),
              std::string("x") + GetParam().shown + "y");
}

INSTANTIATE_TEST_SUITE_P(Spec11, PrintableFormat, ::testing::ValuesIn(format_characters));

TEST(StateMachine, IncomingTrojanSourceTextIsShownEscaped) {
    StateMachine m = in(State::chat_reading);
    EXPECT_EQ(m.text_received("abc\xE2\x80\xAE"
                              "fed"),
              (Effects{effect::Show{Tone::incoming, "user2: abc\\u202Efed"}}));
}

// §5.2: a REGACK that echoes another contact than the REGISTER's is a success with a warning,
// and the client keeps the contact it sent.
TEST(StateMachine, RegAckWithAnotherContactWarnsAndKeepsOurs) {
    StateMachine m(config());
    (void)m.typed("/register");
    const RequestResult result = Response{RegAckRecord{{"someoneelse", "6.6.6.6", 1}, false}, "",
                                          tcp::endpoint(make_address("127.0.0.1"), 40000),
                                          tcp::endpoint(make_address("127.0.0.2"), 5555), user1};
    EXPECT_EQ(
        m.registered(result),
        (Effects{effect::Show{Tone::notice, "warning: server 127.0.0.2:5555 echoed someoneelse at "
                                            "6.6.6.6:1, not the contact sent; keeping user1 at "
                                            "127.0.0.1:3000"},
                 info("registered as user1 at 127.0.0.1:3000 with server 127.0.0.2:5555; "
                      "/bridge to find a peer")}));
    EXPECT_EQ(m.state(), State::registered);
    EXPECT_EQ(m.typed("/id"),
              Effects{info("clientID user1, registered as 127.0.0.1:3000 with server "
                           "127.0.0.2:5555")});
}

} // namespace
} // namespace tcpchat::client
