// The client's terminal front-ends. On a terminal, libedit gives line editing and history through
// its callback interface, driven by Asio, so that a line arriving from the peer is printed above
// the line being typed and the prompt is redrawn, never garbled. On a pipe or a file, lines are
// read plainly and, for scripts, taken one at a time only when the client is ready for them.
#pragma once

#include "state_machine.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tcpchat::client {

class Terminal {
  public:
    struct Handlers {
        std::function<void(std::string line)> on_line; // without its line end
        std::function<void()> on_end;                  // Ctrl-D, the end of the pipe
    };

    virtual ~Terminal() = default;

    virtual void start(Handlers handlers) = 0;
    virtual void show(Tone tone, std::string_view text) = 0;
    virtual void set_prompt(const std::string& prompt) = 0;
    // What paced input (a script on a pipe) may take now: its next line, only its end, or
    // nothing.
    virtual void set_pace(ScriptInput pace) = 0;
    // Gives the terminal back as it was; no more lines are read.
    virtual void stop() = 0;
};

struct TerminalOptions {
    bool colour_out = false; // ANSI colours on standard output
    bool colour_err = false; // and on standard error
    bool paced = false;      // plain input: take each line only when set_pace() allows it
};

// Line editing and history with libedit; standard input and output are a terminal.
[[nodiscard]] std::unique_ptr<Terminal> make_line_editor(boost::asio::any_io_executor executor,
                                                         TerminalOptions options);

// Plain lines from standard input, whatever it is (pipe, file, terminal, /dev/null).
[[nodiscard]] std::unique_ptr<Terminal> make_plain_lines(boost::asio::any_io_executor executor,
                                                         TerminalOptions options);

} // namespace tcpchat::client
