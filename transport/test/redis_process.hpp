// A real redis-server for tests: on a free loopback port, in a temporary directory, without
// persistence unless asked (then appendonly with fsync on every write, so a SIGKILL loses
// nothing that was acknowledged). It can be killed, paused and restarted on the same port.
#pragma once

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tcpchat::test {

class RedisProcess {
  public:
    enum class Start : std::uint8_t { now, later };
    explicit RedisProcess(bool durable = false, Start when = Start::now) : durable_(durable) {
        char dir[] = "/tmp/tcpchat-redis-XXXXXX";
        if (::mkdtemp(dir) != nullptr) {
            dir_ = dir;
        }
        port_ = free_port();
        if (when == Start::now) {
            start();
        }
    }
    ~RedisProcess() {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    RedisProcess(const RedisProcess&) = delete;
    RedisProcess& operator=(const RedisProcess&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string url() const {
        return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
    }
    // True once it accepts connections.
    [[nodiscard]] bool ready() const { return ready_; }

    // Starts it (again) on the same port and waits until it accepts connections.
    bool start() {
        if (pid_ > 0 || dir_.empty()) {
            return false;
        }
        const std::string port = std::to_string(port_);
        std::vector<std::string> args{
            "redis-server", "--port", port,        "--bind",      "127.0.0.1",        "--dir", dir_,
            "--save",       "",       "--logfile", dir_ + "/log", "--protected-mode", "no"};
        if (durable_) {
            args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
        } else {
            args.insert(args.end(), {"--appendonly", "no"});
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            // Dies with the test, even a crashed one, and holds none of its output pipes open
            // (ctest waits for those to close).
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, STDIN_FILENO);
            ::dup2(null, STDOUT_FILENO);
            ::dup2(null, STDERR_FILENO);
            std::vector<char*> argv;
            for (auto& a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            ::execvp("redis-server", argv.data());
            std::_Exit(127);
        }
        ready_ = wait_until_accepting();
        return ready_;
    }

    // SIGKILL: no shutdown, no final save.
    void kill() { signal_and_reap(SIGKILL); }
    void stop() { signal_and_reap(SIGTERM); }
    void pause() { ::kill(pid_, SIGSTOP); }
    void resume() { ::kill(pid_, SIGCONT); }

  private:
    void signal_and_reap(int signal) {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, SIGCONT);
        ::kill(pid_, signal);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        ready_ = false;
    }

    bool wait_until_accepting() const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            if (ping()) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // Connects and sends PING; true on +PONG (not -LOADING while the AOF is read).
    bool ping() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port_);
        ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
        bool pong = false;
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
            constexpr std::string_view ping = "PING\r\n";
            char reply[64];
            if (::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) == 6) {
                const auto n = ::recv(fd, reply, sizeof reply, 0);
                pong = n > 0 &&
                       std::string_view(reply, static_cast<std::size_t>(n)).starts_with("+PONG");
            }
        }
        ::close(fd);
        return pong;
    }

    static std::uint16_t free_port() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
        socklen_t size = sizeof address;
        ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
        ::close(fd);
        return ntohs(address.sin_port);
    }

    bool durable_;
    std::string dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool ready_ = false;
};

} // namespace tcpchat::test
