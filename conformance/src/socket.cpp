#include "socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpchat::conformance {

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = o.release();
    }
    return *this;
}

int Fd::release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

void Fd::reset() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

namespace {

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : int(left);
}

bool make_address(const std::string& host, std::uint16_t port, sockaddr_storage& ss,
                  socklen_t& len) {
    std::memset(&ss, 0, sizeof ss);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(sockaddr_in);
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

std::optional<Endpoint> endpoint_of(const sockaddr_storage& ss) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return Endpoint{text, ntohs(v4->sin_port)};
    }
    if (ss.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        std::string host = text;
        if (host.starts_with("::ffff:") && host.find('.') != std::string::npos) {
            host = host.substr(7); // an IPv4-mapped address is the IPv4 address
        }
        return Endpoint{host, ntohs(v6->sin6_port)};
    }
    return std::nullopt;
}

} // namespace

Fd listen_on(const std::string& host, std::uint16_t port, std::string& error) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!make_address(host, port, ss, len)) {
        error = "not an IP address: " + host;
        return {};
    }
    Fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::listen(fd.get(), 64) != 0) {
        error =
            "cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
        return {};
    }
    return fd;
}

Fd connect_to(const Endpoint& to, const std::string& source, Clock::time_point deadline,
              std::string& error) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!make_address(to.host, to.port, ss, len)) {
        error = "not an IP address: " + to.host;
        return {};
    }
    Fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        error = std::strerror(errno);
        return {};
    }
    if (!source.empty()) {
        sockaddr_storage src{};
        socklen_t src_len = 0;
        if (!make_address(source, 0, src, src_len) ||
            ::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), src_len) != 0) {
            error = "cannot bind the source address " + source + ": " + std::strerror(errno);
            return {};
        }
    }
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        if (errno != EINPROGRESS) {
            error = std::strerror(errno);
            return {};
        }
        pollfd p{fd.get(), POLLOUT, 0};
        if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
            error = "no connection within the timeout";
            return {};
        }
        int so_error = 0;
        socklen_t so_len = sizeof so_error;
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &so_len);
        if (so_error != 0) {
            error = std::strerror(so_error);
            return {};
        }
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

Fd accept_from(int listener, Clock::time_point deadline) {
    while (wait_readable(listener, deadline)) {
        // The accepted socket is blocking (accept4 does not inherit O_NONBLOCK); every read of it
        // is preceded by poll() and every write is bounded by write_all's deadline.
        Fd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
        if (fd.valid()) {
            const int one = 1;
            ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            break;
        }
    }
    return {};
}

bool can_connect_from(const std::string& source, const std::string& to_host, std::string& error) {
    sockaddr_storage to{};
    sockaddr_storage from{};
    socklen_t to_len = 0;
    socklen_t from_len = 0;
    if (!make_address(to_host, 0, to, to_len)) {
        error = "not an IP address: " + to_host;
        return false;
    }
    if (!make_address(source, 0, from, from_len)) {
        error = "not an IP address: " + source;
        return false;
    }
    if (from.ss_family != to.ss_family) {
        error = source + " and " + to_host + " are not of the same address family";
        return false;
    }
    Fd fd(::socket(from.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), from_len) != 0) {
        error = "cannot bind " + source + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

std::optional<Endpoint> local_endpoint(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return std::nullopt;
    }
    return endpoint_of(ss);
}

std::optional<Endpoint> peer_endpoint(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return std::nullopt;
    }
    return endpoint_of(ss);
}

bool write_all(int fd, std::string_view bytes, Clock::time_point deadline) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            bytes.remove_prefix(std::size_t(n));
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return false;
        }
        pollfd p{fd, POLLOUT, 0};
        const int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r == 0 || (r < 0 && errno != EINTR)) {
            return false; // the peer does not read: give up at the deadline
        }
    }
    return true;
}

bool wait_readable(int fd, Clock::time_point deadline) {
    while (true) {
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r > 0) {
            return true;
        }
        if (r == 0 || errno != EINTR) {
            return false;
        }
    }
}

namespace {

// A local address as /proc/net/tcp{,6} prints it: the address's bytes as 32-bit words, each in
// the machine's byte order, in hex ("0200007F" is 127.0.0.2 here). False if it is not one.
bool table_address(std::string_view hex, unsigned char* bytes, std::size_t size) {
    if (hex.size() != 2 * size) {
        return false;
    }
    for (std::size_t word = 0; word < size / 4; ++word) {
        std::uint32_t value = 0;
        for (const char c : hex.substr(8 * word, 8)) {
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (digit < 0) {
                return false;
            }
            value = value << 4 | std::uint32_t(digit);
        }
        std::memcpy(bytes + 4 * word, &value, 4);
    }
    return true;
}

// Whether a socket listening on `local` (the table's hex, IPv4 or IPv6) can take a connection
// made to `to`: the same address, the IPv4 address mapped into IPv6, or the unspecified address
// of a family that reaches it (0.0.0.0 for IPv4, :: for both, as a dual-stack socket does).
bool reaches(std::string_view local, const sockaddr_storage& to) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&to);
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&to);
    if (in_addr a{}; table_address(local, reinterpret_cast<unsigned char*>(&a), sizeof a)) {
        return to.ss_family == AF_INET &&
               (a.s_addr == htonl(INADDR_ANY) || a.s_addr == v4->sin_addr.s_addr);
    }
    in6_addr a{};
    if (!table_address(local, a.s6_addr, sizeof a.s6_addr)) {
        return false;
    }
    if (IN6_IS_ADDR_UNSPECIFIED(&a)) {
        return true;
    }
    if (to.ss_family == AF_INET) {
        return IN6_IS_ADDR_V4MAPPED(&a) && std::memcmp(a.s6_addr + 12, &v4->sin_addr, 4) == 0;
    }
    return IN6_ARE_ADDR_EQUAL(&a, &v6->sin6_addr);
}

} // namespace

std::vector<unsigned long> listening_sockets(const Endpoint& to) {
    // Lines as "  0: 0200007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000
    // 1000 0 123456 ...": local address:port in hex, the remote one, the state (0A is LISTEN),
    // queues, timer, retransmits, uid, timeout, then the socket's inode.
    sockaddr_storage target{};
    socklen_t target_len = 0;
    const bool any_address = !make_address(to.host, to.port, target, target_len);
    std::vector<unsigned long> out;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line); // the header
        while (std::getline(in, line)) {
            char local[64] = {};
            char remote[64] = {};
            unsigned state = 0;
            unsigned long inode = 0;
            if (std::sscanf(line.c_str(), "%*s %63s %63s %x %*s %*s %*s %*u %*u %lu", local, remote,
                            &state, &inode) != 4 ||
                state != 0x0A) {
                continue;
            }
            const std::string_view address = local;
            const auto colon = address.rfind(':');
            if (colon != std::string_view::npos &&
                std::strtoul(local + colon + 1, nullptr, 16) == to.port &&
                (any_address || reaches(address.substr(0, colon), target))) {
                out.push_back(inode);
            }
        }
    }
    return out;
}

} // namespace tcpchat::conformance
