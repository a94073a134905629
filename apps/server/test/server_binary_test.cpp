// The real tcp-chat-server binary: command line, start-up and per-request lines on stdout,
// graceful exit on SIGINT/SIGTERM, exit status 1 when it cannot listen (spec §6.1, §6.5, §6.6).
#include <arpa/inet.h>
#include <chrono>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;

constexpr auto patience = 20s;

// The binary, its stdout and stderr read through pipes.
class ServerProcess {
  public:
    explicit ServerProcess(std::vector<std::string> args) {
        int out[2];
        int err[2];
        if (::pipe(out) != 0 || ::pipe(err) != 0) {
            return;
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        posix_spawn_file_actions_addclose(&actions, err[0]);
        args.insert(args.begin(), TCP_CHAT_SERVER_PATH);
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, TCP_CHAT_SERVER_PATH, &actions, nullptr, argv.data(), environ) !=
            0) {
            pid_ = -1;
        }
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(err[1]);
        out_ = out[0];
        err_ = err[0];
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
        ::close(err_);
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    [[nodiscard]] bool running() const { return pid_ > 0; }
    void signal(int sig) const { ::kill(pid_, sig); }

    // The next line on stdout, without its line end; nullopt at end of output or timeout.
    std::optional<std::string> line() { return next_line(out_, out_buffer_); }
    // All of stderr up to its end.
    std::string errors() {
        std::string all;
        while (auto l = next_line(err_, err_buffer_)) {
            all += *l + "\n";
        }
        return all + err_buffer_;
    }

    // The exit status, or -1 if it did not exit in time or was killed by a signal.
    int wait() {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            ::usleep(10'000);
        }
        return -1;
    }

  private:
    static std::optional<std::string> next_line(int fd, std::string& buffer) {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        for (;;) {
            if (const auto end = buffer.find('\n'); end != std::string::npos) {
                std::string l = buffer.substr(0, end);
                buffer.erase(0, end + 1);
                return l;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                return std::nullopt;
            }
            char chunk[1024];
            const auto n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) {
                return std::nullopt;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
    }

    pid_t pid_ = -1;
    int out_ = -1;
    int err_ = -1;
    std::string out_buffer_;
    std::string err_buffer_;
};

// One request over a fresh connection to 127.0.0.2:port; the reply up to the server's close.
std::string send_request(std::uint16_t port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.2", &server.sin_addr);
    std::string reply;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
        char chunk[1024];
        for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) {
            reply.append(chunk, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply;
}

// Reads the start-up line and returns the port it names (0 if it is not there).
std::uint16_t listening_port(ServerProcess& server) {
    const std::string prefix = "tcp-chat-server 1.0.0 listening on 127.0.0.2:";
    const auto line = server.line();
    EXPECT_TRUE(line && line->rfind(prefix, 0) == 0) << line.value_or("(no line)");
    if (!line || line->rfind(prefix, 0) != 0) {
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(line->substr(prefix.size())));
}

TEST(ServerBinary, PrintsItsVersion) {
    ServerProcess server({"--version"});
    ASSERT_TRUE(server.running());
    EXPECT_EQ(server.line(), "tcp-chat-server 1.0.0 (TCP-Chat protocol 1.1)");
    EXPECT_EQ(server.wait(), 0);
}

TEST(ServerBinary, HelpNamesEveryOption) {
    ServerProcess server({"--help"});
    std::string help;
    while (auto l = server.line()) {
        help += *l + "\n";
    }
    EXPECT_EQ(server.wait(), 0);
    for (const char* option :
         {"--port", "--listen,--host", "--read-timeout", "--wait-timeout", "--max-connections",
          "--max-line", "--max-headers", "--max-message", "--max-id", "--regack-status",
          "--allow-takeover", "--error-replies", "--strict", "-v,--verbose", "-q,--quiet",
          "--version", "--registration-ttl", "--max-registrations", "--registry",
          "--registry-prefix"}) {
        EXPECT_NE(help.find(option), std::string::npos) << option;
    }
    EXPECT_NE(help.find("=127.0.0.2"), std::string::npos) << "default listening address";
    EXPECT_NE(help.find("=5555"), std::string::npos) << "default port";
}

TEST(ServerBinary, AnswersRequestsLogsThemAndStopsOnSigint) {
    ServerProcess server({"--port=0"});
    ASSERT_TRUE(server.running());
    const std::uint16_t port = listening_port(server);
    ASSERT_NE(port, 0);

    const auto request = [](const std::string& id, int p) {
        return "REGISTER\r\nclientID: " + id + "\r\nIP: 127.0.0.1\r\nPort: " + std::to_string(p) +
               "\r\n\r\n";
    };
    EXPECT_EQ(send_request(port, request("user1", 3000)),
              "REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n");
    EXPECT_EQ(server.line(), "REGISTER: user1 from 127.0.0.1:3000 received");
    EXPECT_EQ(send_request(port, request("user2", 3001)),
              "REGACK\r\nclientID: user2\r\nIP: 127.0.0.1\r\nPort: 3001\r\n\r\n");
    EXPECT_EQ(server.line(), "REGISTER: user2 from 127.0.0.1:3001 received");
    EXPECT_EQ(send_request(port, "BRIDGE\r\nclientID: user1\r\n\r\n"),
              "BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n");
    EXPECT_EQ(server.line(), "BRIDGE: user1 waiting");
    EXPECT_EQ(send_request(port, "BRIDGE\r\nclientID: user2\r\n\r\n"),
              "BRIDGEACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n");
    EXPECT_EQ(server.line(), "BRIDGE: user1 127.0.0.1:3000 user2 127.0.0.1:3001");
    EXPECT_EQ(send_request(port, "QUIT\r\n\r\n"),
              "ERROR\r\nCode: 405\r\nReason: unexpected_method at byte 0 (expected REGISTER or "
              "BRIDGE)\r\n\r\n");
    const auto rejected = server.line();
    ASSERT_TRUE(rejected.has_value());
    EXPECT_EQ(rejected->rfind("rejected 127.0.0.", 0), 0U) << *rejected;
    EXPECT_NE(rejected->find(": unexpected_method at byte 0"), std::string::npos) << *rejected;

    server.signal(SIGINT);
    EXPECT_EQ(server.line(), "stopping: 0 connections open");
    EXPECT_EQ(server.line(), "stopped");
    EXPECT_EQ(server.wait(), 0);
}

TEST(ServerBinary, StopsOnSigterm) {
    ServerProcess server({"--port", "0", "--listen", "127.0.0.2"});
    ASSERT_NE(listening_port(server), 0);
    server.signal(SIGTERM);
    EXPECT_EQ(server.line(), "stopping: 0 connections open");
    EXPECT_EQ(server.line(), "stopped");
    EXPECT_EQ(server.wait(), 0);
}

TEST(ServerBinary, QuietPrintsTheListeningLineAndRejectionsOnly) {
    // With -q and --port 0, the start-up line is the only way to learn the port.
    ServerProcess server({"-q", "--host=127.0.0.2", "--port=0"});
    ASSERT_TRUE(server.running());
    const std::uint16_t port = listening_port(server);
    ASSERT_NE(port, 0);
    EXPECT_EQ(
        send_request(port, "REGISTER\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n"),
        "REGACK\r\nclientID: user1\r\nIP: 127.0.0.1\r\nPort: 3000\r\n\r\n");
    EXPECT_EQ(send_request(port, "BRIDGE\r\nclientID: user9\r\n\r\n"),
              "ERROR\r\nCode: 404\r\nReason: clientID user9 is not registered\r\n\r\n");
    const auto line = server.line(); // not the REGISTER line: quiet
    ASSERT_TRUE(line.has_value());
    EXPECT_EQ(line->rfind("rejected 127.0.0.", 0), 0U) << *line;
    EXPECT_NE(line->find(": clientID user9 is not registered"), std::string::npos) << *line;
    server.signal(SIGINT);
    EXPECT_EQ(server.wait(), 0);
    EXPECT_FALSE(server.line().has_value()) << "no stop lines when quiet";
}

TEST(ServerBinary, QuietOnIpv6NamesTheAddressInBrackets) {
    ServerProcess server({"--listen", "::1", "--port", "0", "-q"});
    ASSERT_TRUE(server.running());
    const auto line = server.line();
    ASSERT_TRUE(line.has_value());
    const std::string prefix = "tcp-chat-server 1.0.0 listening on [::1]:";
    ASSERT_EQ(line->rfind(prefix, 0), 0U) << *line;
    EXPECT_GT(std::stoi(line->substr(prefix.size())), 0) << *line;
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(), 0);
}

TEST(ServerBinary, ExitsWithStatus1WhenThePortIsTaken) {
    // Hold a port on 127.0.0.2, then ask the server for the same one.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.2", &address.sin_addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t size = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    const std::string port = std::to_string(ntohs(address.sin_port));

    ServerProcess server({"--port", port});
    EXPECT_EQ(server.wait(), 1);
    EXPECT_EQ(server.errors(),
              "tcp-chat-server: cannot listen on 127.0.0.2:" + port + ": Address already in use\n");
    ::close(fd);
}

TEST(ServerBinary, RefusesAListenAddressThatIsNotAnIpAddress) {
    ServerProcess server({"--listen", "localhost"});
    EXPECT_NE(server.wait(), 0);
    EXPECT_NE(server.errors().find("not an IP address: localhost"), std::string::npos);
}

// --error-replies=close (spec §9.3): the installed base's answers instead of ERROR, with the
// same log lines plus what was sent instead.
TEST(ServerBinary, ErrorRepliesCloseSendsNoError) {
    ServerProcess server({"--port=0", "--error-replies=close"});
    ASSERT_TRUE(server.running());
    const std::uint16_t port = listening_port(server);
    ASSERT_NE(port, 0);
    EXPECT_EQ(send_request(port, "QUIT\r\n\r\n"), "");
    auto line = server.line();
    ASSERT_TRUE(line.has_value());
    EXPECT_NE(line->find(": unexpected_method at byte 0 (expected REGISTER or BRIDGE); closed "
                         "without a reply"),
              std::string::npos)
        << *line;
    EXPECT_EQ(send_request(port, "BRIDGE\r\nclientID: user9\r\n\r\n"),
              "BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n");
    line = server.line();
    ASSERT_TRUE(line.has_value());
    EXPECT_NE(line->find(": clientID user9 is not registered; sent the empty BRIDGEACK"),
              std::string::npos)
        << *line;
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(), 0);
}

TEST(ServerBinary, RefusesAnUnknownErrorRepliesValue) {
    ServerProcess server({"--error-replies=never"});
    EXPECT_NE(server.wait(), 0);
    EXPECT_NE(server.errors().find("--error-replies: never not in {send,close}"),
              std::string::npos);
}

TEST(ServerBinary, RefusesARegistryThatIsNotMemoryOrARedisUrl) {
    for (const std::string registry : {"redis://localhost:6379/0", "postgres://127.0.0.1/0"}) {
        ServerProcess server({"--port=0", "--registry", registry});
        EXPECT_NE(server.wait(), 0) << registry;
        EXPECT_NE(server.errors().find("--registry"), std::string::npos) << server.errors();
    }
}

TEST(ServerBinary, RefusesAPortOutOfRange) {
    ServerProcess server({"--port=65536"});
    EXPECT_NE(server.wait(), 0);
    EXPECT_NE(server.errors().find("--port"), std::string::npos);
}

} // namespace
