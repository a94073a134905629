// tcp-chat-client: the interactive client (spec §10). Started like the original,
// `tcp-chat-client --id=user1 --port=3000 --server=127.0.0.2:5555`, then driven by /commands.
#include "client.hpp"
#include "state_machine.hpp"
#include "tcpchat/encode.hpp"
#include "tcpchat/peer_link.hpp"
#include "tcpchat/request_client.hpp"
#include "tcpchat/version.hpp"
#include "terminal.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <clocale>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

namespace {

using namespace tcpchat;

// The codec decides what a clientID and an IP field may be (spec §4.3), not this file.
std::string check_id(const std::string& id) {
    std::string scratch;
    return encode(Bridge{id}, scratch) ? "not a valid clientID: 1-64 visible ASCII characters"
                                       : std::string();
}

std::string check_advertise(const std::string& host) {
    std::string scratch;
    return encode(Register{Contact{"x", host, 1}}, scratch)
               ? "not an IPv4 or IPv6 address (without brackets or scope): " + host
               : std::string();
}

std::string check_server(const std::string& text) {
    return parse_server_address(text) ? std::string()
                                      : "expected host:port or [IPv6]:port, port 1-65535: " + text;
}

} // namespace

int main(int argc, char** argv) {
    std::setlocale(LC_CTYPE, ""); // libedit edits multibyte (UTF-8) input in the user's locale
    std::signal(SIGPIPE, SIG_IGN);

    std::string id;
    unsigned port = 0;
    std::string server = "127.0.0.2:5555";
    std::string advertise;
    double timeout = 5.0;
    std::string chat_framing = "auto";

    CLI::App app{"TCP-Chat client: registers with the server, gets a peer from it and chats with "
                 "that peer in turns, like a walkie-talkie.",
                 "tcp-chat-client"};
    // A repeated option takes its last value, as the original's argparse does.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.set_version_flag("--version", "tcp-chat-client " + std::string(project_version) +
                                          " (TCP-Chat protocol " + std::string(protocol_version) +
                                          ")");
    app.add_option("--id", id, "your clientID: 1-64 visible ASCII characters")
        ->type_name("ID")
        ->required()
        ->check(check_id);
    app.add_option("--port", port, "the port to listen on when waiting for a peer")
        ->type_name("PORT")
        ->required()
        ->check(CLI::Range(1U, 65535U).description(""));
    app.add_option("--server", server, "the server: host:port, or [IPv6]:port")
        ->type_name("HOST:PORT")
        ->capture_default_str()
        ->check(check_server);
    app.add_option("--advertise", advertise,
                   "register this IP instead of the local address of the connection to the "
                   "server, and wait for peers on all local addresses")
        ->type_name("IP")
        ->check(check_advertise);
    app.add_option("--timeout", timeout,
                   "seconds allowed for connecting, for each reply, and for a peer's CHAT")
        ->type_name("SECONDS")
        ->capture_default_str()
        ->check(CLI::Range(0.001, 3600.0).description(""));
    app.add_option("--chat-framing", chat_framing,
                   "how to frame your chat turns: auto (answer in the peer's framing; CRLF lines "
                   "until the peer's first turn), crlf (a line and CRLF), bare (the text alone, "
                   "as most other clients send it), message (CHAT/MESSAGE: turns)")
        ->type_name("FRAMING")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "crlf", "bare", "message"}));
    app.footer(
        "Commands, one per line: /register, /bridge, /chat, /quit, /id, /help. In a chat, any\n"
        "other line is sent when it is your turn; //text sends /text.\n"
        "\n"
        "On a terminal the line can be edited and history recalled; otherwise lines are read\n"
        "from standard input as a script: each line is taken once the previous one is done, and\n"
        "in WAIT or on the peer's turn only once a peer has started the chat or has written.\n"
        "The end of input (Ctrl-D, the end of the script) is /quit. Colours on a terminal only,\n"
        "never with NO_COLOR set.\n"
        "\n"
        "Exit status: 0 when you quit or the chat ended with QUIT or a close, 1 when the chat\n"
        "connection was lost or malformed, 2 for a command-line error.");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e);
        return status == 0 ? client::exit_ok : client::exit_usage;
    }

    client::Config config;
    config.id = id;
    config.port = static_cast<std::uint16_t>(port);
    config.server = *parse_server_address(server);
    if (!advertise.empty()) {
        config.advertise = advertise;
    }
    client::Timeouts timeouts;
    timeouts.network = std::chrono::milliseconds(std::llround(timeout * 1000.0));

    const bool no_colour = std::getenv("NO_COLOR") != nullptr;
    client::TerminalOptions terminal_options;
    terminal_options.colour_out = !no_colour && ::isatty(STDOUT_FILENO) == 1;
    terminal_options.colour_err = !no_colour && ::isatty(STDERR_FILENO) == 1;
    terminal_options.paced = ::isatty(STDIN_FILENO) != 1;
    const bool interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;

    boost::asio::io_context io(tcpchat::chat_concurrency_hint);
    auto terminal = interactive ? client::make_line_editor(io.get_executor(), terminal_options)
                                : client::make_plain_lines(io.get_executor(), terminal_options);
    client::Client chat_client(io, std::move(config), timeouts, *terminal,
                               parse_framing(chat_framing));
    chat_client.start();
    io.run();
    terminal->stop();
    return chat_client.exit_status();
}
