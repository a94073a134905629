#include "terminal.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <iterator>
#include <optional>
#include <sys/ioctl.h>
#include <unistd.h>
#include <utility> // before Asio: Boost 1.74's headers use std::exchange without including it

// libedit's readline interface (Debian libedit-dev), after the standard headers it relies on.
#include <editline/readline.h>

namespace tcpchat::client {

namespace asio = boost::asio;

namespace {

constexpr std::string_view reset = "\033[0m";

std::string_view colour_of(Tone tone) {
    switch (tone) {
    case Tone::notice: return "\033[33m";
    case Tone::error: return "\033[1;31m";
    case Tone::incoming: return "\033[1;36m";
    case Tone::outgoing: return "\033[1;32m";
    case Tone::log: return "\033[2m";
    case Tone::info: break;
    }
    return "";
}

// The line as it goes to the screen. A chat line colours only its `id:` prefix.
std::string paint(Tone tone, std::string_view text, bool colour) {
    const std::string_view code = colour_of(tone);
    if (!colour || code.empty()) {
        return std::string(text);
    }
    if (tone == Tone::incoming || tone == Tone::outgoing) {
        const auto end = text.find(": "); // a clientID has no space (spec §4.3)
        if (end != std::string_view::npos) {
            return std::string(code) + std::string(text.substr(0, end + 1)) + std::string(reset) +
                   std::string(text.substr(end + 1));
        }
    }
    return std::string(code) + std::string(text) + std::string(reset);
}

void write_all(FILE* stream, std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stream);
    std::fflush(stream);
}

// ---- libedit ---------------------------------------------------------------------------------

class LineEditor final : public Terminal {
  public:
    LineEditor(asio::any_io_executor executor, TerminalOptions options)
        : input_(executor), resized_(std::move(executor), SIGWINCH), options_(options) {}

    ~LineEditor() override { stop(); }

    void start(Handlers handlers) override {
        handlers_ = std::move(handlers);
        active_ = this;
        rl_readline_name = "tcp-chat-client";
        rl_catch_signals = 0; // SIGINT and friends are the client's: they mean /quit
        rl_attempted_completion_function = &LineEditor::complete;
        using_history();
        boost::system::error_code ec;
        input_.assign(::dup(STDIN_FILENO), ec);
        if (ec) {
            asio::post(input_.get_executor(), [this] { handlers_.on_end(); });
            return;
        }
        running_ = true;
        install();
        wait();
        follow_resizes();
    }

    void show(Tone tone, std::string_view text) override {
        if (tone == Tone::outgoing) {
            return; // the typed line is on the screen already
        }
        // Clear the line being edited, print in its place, then let libedit redraw the prompt
        // and whatever the user had typed so far, cursor included.
        std::string out = running_ ? clear_edit_area() : "";
        out += paint(tone, text, options_.colour_out);
        out += '\n';
        write_all(stdout, out);
        if (running_) {
            rl_forced_update_display();
        }
    }

    void set_prompt(const std::string& prompt) override {
        std::string decorated = decorate(prompt);
        if (decorated == prompt_) {
            return;
        }
        prompt_ = std::move(decorated);
        if (running_) {
            // libedit redraws from the cursor: go back to where the prompt starts, clear.
            const std::string clear = clear_edit_area();
            rl_set_prompt(prompt_.c_str());
            prompt_width_ = prompt.size();
            write_all(stdout, clear);
            rl_forced_update_display();
        } else {
            prompt_width_ = prompt.size();
        }
    }

    // A person types when they like: §10.2 refuses what is early, or keeps it during a request.
    void set_pace(ScriptInput) override {}

    void stop() override {
        if (!running_) {
            return;
        }
        running_ = false;
        boost::system::error_code ignored;
        input_.close(ignored);
        resized_.cancel(ignored);
        write_all(stdout, clear_edit_area());
        rl_callback_handler_remove(); // back to the terminal modes we started with
        active_ = nullptr;
    }

  private:
    // Moves the cursor to where the prompt starts and clears from there to the end of the
    // screen: the typed line may wrap over several rows, and the cursor may be on any of them.
    [[nodiscard]] std::string clear_edit_area() const {
        int rows = 0;
        int columns = 0;
        rl_get_screen_size(&rows, &columns);
        std::size_t before_cursor = prompt_width_;
        if (!fresh_line_ && rl_line_buffer != nullptr && rl_point > 0) {
            before_cursor += display_width(std::string_view(rl_line_buffer, std::size_t(rl_point)));
        }
        std::string out = "\r";
        if (columns > 0 && before_cursor >= std::size_t(columns)) {
            out += "\033[" + std::to_string(before_cursor / std::size_t(columns)) + "A";
        }
        out += "\033[J";
        return out;
    }

    // Terminal columns taken by `text` in the locale's encoding (UTF-8: wide characters count 2).
    static std::size_t display_width(std::string_view text) {
        std::size_t width = 0;
        std::mbstate_t state{};
        while (!text.empty()) {
            wchar_t c = 0;
            const std::size_t n = std::mbrtowc(&c, text.data(), text.size(), &state);
            if (n == 0 || n > text.size()) { // NUL, or an invalid or cut sequence: one column
                state = {};
                ++width;
                text.remove_prefix(1);
                continue;
            }
            const int w = ::wcwidth(c);
            width += w > 0 ? std::size_t(w) : 0;
            text.remove_prefix(n);
        }
        return width;
    }

    // The state in the prompt in bold; libedit skips what is between \1 and \2 when it measures
    // the prompt. The prompt ends in visible characters: libedit drops a trailing ignored run.
    [[nodiscard]] std::string decorate(const std::string& prompt) const {
        const auto open = prompt.find('[');
        const auto close = prompt.rfind(']');
        if (!options_.colour_out || open == std::string::npos || close == std::string::npos ||
            close < open) {
            return prompt;
        }
        return prompt.substr(0, open) + "\001\033[1m\002" + prompt.substr(open, close + 1 - open) +
               "\001\033[0m\002" + prompt.substr(close + 1);
    }

    // Tab completes a command at the start of the line, and nothing else (no file names).
    static char** complete(const char* text, int start, int) {
        rl_attempted_completion_over = 1;
        if (start != 0 || text[0] != '/') {
            return nullptr;
        }
        return rl_completion_matches(text, &LineEditor::next_command);
    }

    static char* next_command(const char* text, int state) {
        static constexpr std::string_view commands[] = {"/register", "/bridge", "/chat",
                                                        "/quit",     "/id",     "/help"};
        static std::size_t next = 0;
        if (state == 0) {
            next = 0;
        }
        while (next < std::size(commands)) {
            const std::string_view command = commands[next++];
            if (command.starts_with(text)) {
                return ::strdup(command.data()); // libedit frees it
            }
        }
        return nullptr;
    }

    // libedit wraps and clears by the width it knows: tell it when the window changes. (Its own
    // signal handling is off, rl_catch_signals = 0, since SIGINT and friends are ours.)
    void follow_resizes() {
        resized_.async_wait([this](boost::system::error_code ec, int) {
            if (ec || !running_) {
                return;
            }
            rl_resize_terminal();
            follow_resizes();
        });
    }

    void install() {
        rl_callback_handler_install(prompt_.c_str(), &LineEditor::take_line);
        fresh_line_ = true; // libedit updates rl_point and rl_line_buffer on the next key only
    }

    static void take_line(char* line) {
        if (active_ == nullptr) {
            std::free(line);
            return;
        }
        if (line == nullptr) {
            active_->end_ = true;
            return;
        }
        active_->line_ = std::string(line);
        std::free(line);
    }

    void wait() {
        input_.async_wait(asio::posix::stream_descriptor::wait_read,
                          [this](boost::system::error_code ec) {
                              if (ec || !running_) {
                                  return;
                              }
                              read();
                              if (running_) {
                                  wait();
                              }
                          });
    }

    void read() {
        int pending = 0;
        if (::ioctl(input_.native_handle(), FIONREAD, &pending) == 0 && pending == 0) {
            end_ = true; // readable with nothing to read: the terminal hung up
        } else {
            rl_callback_read_char();
            fresh_line_ = false;
        }
        if (end_) {
            stop();
            handlers_.on_end();
            return;
        }
        if (line_) {
            std::string line = std::move(*line_);
            line_.reset();
            if (!line.empty()) {
                add_history(line.c_str());
            }
            // libedit leaves its buffer until the handler is installed again; doing it now
            // starts a fresh line before anything is printed.
            install();
            handlers_.on_line(std::move(line));
        }
    }

    static inline LineEditor* active_ = nullptr; // libedit's callback has no user pointer

    asio::posix::stream_descriptor input_;
    asio::signal_set resized_;
    TerminalOptions options_;
    Handlers handlers_;
    std::string prompt_;
    std::size_t prompt_width_ = 0; // columns of the prompt as shown, colours excluded
    std::optional<std::string> line_;
    bool end_ = false;
    bool running_ = false;
    bool fresh_line_ = true;
};

// ---- Plain lines -----------------------------------------------------------------------------

class PlainLines final : public Terminal {
  public:
    PlainLines(asio::any_io_executor executor, TerminalOptions options)
        : executor_(executor), input_(std::move(executor)), options_(options) {}

    ~PlainLines() override { stop(); }

    void start(Handlers handlers) override {
        handlers_ = std::move(handlers);
        running_ = true;
        const int fd = ::dup(STDIN_FILENO);
        if (fd < 0) {
            end_ = true; // no standard input at all
        } else {
            boost::system::error_code ec;
            input_.assign(fd, ec);
            // epoll refuses regular files (and /dev/null): they are always readable anyway.
            pollable_ = !ec;
            if (ec) {
                fd_ = fd;
            }
        }
        pump();
    }

    void show(Tone tone, std::string_view text) override {
        const bool to_err = tone == Tone::error;
        std::string out = paint(tone, text, to_err ? options_.colour_err : options_.colour_out);
        out += '\n';
        write_all(to_err ? stderr : stdout, out);
    }

    void set_prompt(const std::string&) override {}

    void set_pace(ScriptInput pace) override {
        pace_ = pace;
        pump();
    }

    void stop() override {
        if (!running_) {
            return;
        }
        running_ = false;
        boost::system::error_code ignored;
        input_.close(ignored);
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

  private:
    // Hands out the next line (or the end) when allowed; otherwise reads more. One step at a
    // time, always from the executor, so a handler never runs inside another.
    void pump() {
        const ScriptInput pace = options_.paced ? pace_ : ScriptInput::next_line;
        if (!running_ || delivering_ || pace == ScriptInput::hold) {
            return;
        }
        if (pace == ScriptInput::next_line) {
            if (auto line = next_line()) {
                deliver([this, line = std::move(*line)]() mutable {
                    handlers_.on_line(std::move(line));
                });
                return;
            }
        } else if (has_line()) {
            return; // end_only: the lines wait for their turn, and the end comes after them
        }
        if (end_) {
            if (!end_reported_) {
                end_reported_ = true;
                deliver([this] { handlers_.on_end(); });
            }
            return;
        }
        if (reading_) {
            return;
        }
        reading_ = true;
        auto then = [this](boost::system::error_code ec) {
            reading_ = false;
            if (!running_ || ec == asio::error::operation_aborted) {
                return;
            }
            read_some();
            pump();
        };
        if (pollable_) {
            input_.async_wait(asio::posix::stream_descriptor::wait_read, then);
        } else {
            asio::post(executor_, [then] { then({}); });
        }
    }

    template <class Action>
    void deliver(Action action) {
        delivering_ = true;
        asio::post(executor_, [this, action = std::move(action)]() mutable {
            delivering_ = false;
            if (!running_) {
                return;
            }
            action();
            pump();
        });
    }

    void read_some() {
        char chunk[4096];
        const int fd = pollable_ ? input_.native_handle() : fd_;
        const auto n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            end_ = true;
        }
    }

    [[nodiscard]] bool has_line() const {
        return buffer_.find('\n') != std::string::npos || (end_ && !buffer_.empty());
    }

    // A whole line without its LF (and a CR before it); at the end, an unterminated last line.
    std::optional<std::string> next_line() {
        auto lf = buffer_.find('\n');
        if (lf == std::string::npos) {
            if (!end_ || buffer_.empty()) {
                return std::nullopt;
            }
            lf = buffer_.size();
        }
        std::string line = buffer_.substr(0, lf);
        buffer_.erase(0, lf + 1);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        return line;
    }

    asio::any_io_executor executor_;
    asio::posix::stream_descriptor input_;
    TerminalOptions options_;
    Handlers handlers_;
    std::string buffer_;
    int fd_ = -1;
    bool pollable_ = false;
    bool running_ = false;
    ScriptInput pace_ = ScriptInput::next_line;
    bool reading_ = false;
    bool delivering_ = false;
    bool end_ = false;
    bool end_reported_ = false;
};

} // namespace

std::unique_ptr<Terminal> make_line_editor(asio::any_io_executor executor,
                                           TerminalOptions options) {
    return std::make_unique<LineEditor>(std::move(executor), options);
}

std::unique_ptr<Terminal> make_plain_lines(asio::any_io_executor executor,
                                           TerminalOptions options) {
    return std::make_unique<PlainLines>(std::move(executor), options);
}

} // namespace tcpchat::client
