#include "listening_socket.hpp"

#include <boost/asio/socket_base.hpp>
#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpchat::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

int open_listening(const tcp::endpoint& endpoint, bool reuse_port, bool non_blocking,
                   std::error_code& error) {
    const int flags = SOCK_STREAM | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0);
    const int fd = ::socket(endpoint.protocol().family(), flags, 0);
    if (fd < 0) {
        error.assign(errno, std::generic_category());
        return -1;
    }
    const int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
        ::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 ||
        ::listen(fd, asio::socket_base::max_listen_connections) != 0) {
        error.assign(errno, std::generic_category());
        ::close(fd);
        return -1;
    }
    error.clear();
    return fd;
}

tcp::endpoint bound_endpoint(int fd) {
    tcp::endpoint endpoint;
    auto length = static_cast<socklen_t>(endpoint.capacity());
    if (::getsockname(fd, endpoint.data(), &length) != 0) {
        return {};
    }
    endpoint.resize(length);
    return endpoint;
}

std::error_code ListeningSocket::open(const tcp::endpoint& endpoint, bool reuse_port) {
    std::error_code error;
    const int fd = open_listening(endpoint, reuse_port, false, error);
    if (fd < 0) {
        return error;
    }
    boost::system::error_code ec;
    acceptor_.assign(endpoint.protocol(), fd, ec);
    if (ec) {
        ::close(fd);
        return ec;
    }
    return {};
}

void ListeningSocket::close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
}

tcp::endpoint ListeningSocket::local_endpoint() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec);
}

} // namespace tcpchat::detail
