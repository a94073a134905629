#include "link.hpp"

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>

namespace tcpchat::conformance {

std::string pair_key(const std::string& a, const std::string& b) {
    return a < b ? a + "\n" + b : b + "\n" + a;
}

void Link::receive(int wait_ms) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) {
        return;
    }
    char buf[8192];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
        inbox.append(buf, std::size_t(n));
    } else if (n == 0) {
        eof = true;
    } else if (errno != EINTR && errno != EAGAIN) {
        eof = true;
        reset = true;
    }
}

} // namespace tcpchat::conformance
