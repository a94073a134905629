#include "listening_socket.hpp"

#include <boost/asio/socket_base.hpp>
#include <sys/socket.h>

namespace tcpchat::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

std::error_code ListeningSocket::open(const tcp::endpoint& endpoint, bool reuse_port) {
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec && reuse_port) {
        acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true),
                             ec);
    }
    if (!ec) {
        acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        close();
    }
    return ec;
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
