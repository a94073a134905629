// A blocking loopback client for the server's tests, and the exact bytes of requests and
// replies (spec §5).
#pragma once

#include <arpa/inet.h>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpchat::test {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

// Generous: the tests also run under sanitizers on a loaded two-core machine.
inline constexpr auto patience = 20s;

struct Received {
    enum class End { eof, reset, timeout } end = End::timeout;
    std::string bytes;
};

// A blocking loopback client that sends exactly the bytes it is given.
class RawClient {
  public:
    // `source`: the local IPv4 address to connect from (127.0.0.0/8 are all local).
    explicit RawClient(const tcp::endpoint& server, const char* source = nullptr) {
        fd_ = ::socket(server.protocol().family(), SOCK_STREAM, 0);
        if (source != nullptr) {
            sockaddr_in local{};
            local.sin_family = AF_INET;
            ::inet_pton(AF_INET, source, &local.sin_addr);
            bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0;
        }
        connected_ = bound_ && ::connect(fd_, server.data(), server.size()) == 0;
    }
    ~RawClient() { close(); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    [[nodiscard]] bool connected() const { return connected_; }

    // The client's own port, as the server's log lines show it.
    [[nodiscard]] std::string endpoint() const {
        sockaddr_in local{};
        socklen_t size = sizeof local;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &size);
        char text[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &local.sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(local.sin_port));
    }

    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    void no_delay() {
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

    // Close with SO_LINGER 0: the peer gets a reset instead of a FIN.
    void reset() {
        linger l{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close();
    }

    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    // Reads until the server closes, resets, or `timeout` passes.
    Received receive(std::chrono::milliseconds timeout = patience) {
        Received r;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return r;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            char buffer[4096];
            const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n == 0) {
                r.end = Received::End::eof;
                return r;
            }
            if (n < 0) {
                r.end = Received::End::reset;
                return r;
            }
            r.bytes.append(buffer, static_cast<std::size_t>(n));
        }
    }

    // True when nothing at all has arrived, not even a FIN.
    [[nodiscard]] bool quiet() const {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) == 0;
    }

  private:
    int fd_ = -1;
    bool bound_ = true;
    bool connected_ = false;
};

inline std::string register_request(const std::string& id, int port,
                                    const std::string& ip = "127.0.0.1") {
    return "REGISTER\r\nclientID: " + id + "\r\nIP: " + ip + "\r\nPort: " + std::to_string(port) +
           "\r\n\r\n";
}
inline std::string regack(const std::string& id, int port, const std::string& ip = "127.0.0.1") {
    return "REGACK\r\nclientID: " + id + "\r\nIP: " + ip + "\r\nPort: " + std::to_string(port) +
           "\r\n\r\n";
}
inline std::string bridge_request(const std::string& id) {
    return "BRIDGE\r\nclientID: " + id + "\r\n\r\n";
}
inline std::string bridgeack(const std::string& id, int port) {
    return "BRIDGEACK\r\nclientID: " + id + "\r\nIP: 127.0.0.1\r\nPort: " + std::to_string(port) +
           "\r\n\r\n";
}
inline const std::string empty_bridgeack = "BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n";
inline std::string error_reply(int code, const std::string& reason) {
    return "ERROR\r\nCode: " + std::to_string(code) + "\r\nReason: " + reason + "\r\n\r\n";
}

} // namespace tcpchat::test
