// Once warm, a request costs the server no heap allocation (transport/README.md, "The request
// path"): connection objects are recycled, their deadlines live in them, replies and log lines
// reuse their buffers, and the memory registry keeps its entries. The client here allocates
// nothing either while it counts: plain sockets, requests and replies built beforehand.
#include "raw_client.hpp"
#include "tcpchat/alloc_count.hpp"
#include "tcpchat/registry.hpp"
#include "tcpchat/server.hpp"

#include <array>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace tcpchat::test;

// One request on a connection of its own, the reply read until the server's FIN.
bool exchange(const sockaddr_in& server, const std::string& request, const std::string& reply) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    timeval patience_left{20, 0};
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience_left, sizeof patience_left);
    bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0 &&
              ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                  static_cast<ssize_t>(request.size());
    std::array<char, 256> received{};
    std::size_t size = 0;
    while (ok) {
        const ssize_t n = ::recv(fd, received.data() + size, received.size() - size, 0);
        if (n <= 0) {
            ok = n == 0 && std::string_view(received.data(), size) == reply;
            break;
        }
        size += static_cast<std::size_t>(n);
        ok = size < received.size();
    }
    ::close(fd);
    return ok;
}

TEST(ServerSteady, RequestsAllocateNothingOnceWarm) {
    boost::asio::io_context io;
    tcpchat::MemoryRegistry registry;
    tcpchat::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.log_level = tcpchat::LogLevel::error; // the lines of spec §6.6 are composed per request
    tcpchat::Server server(io, options, registry, nullptr);
    ASSERT_FALSE(server.listen());
    std::thread running([&io] { io.run(); });
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(server.local_endpoint().port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    constexpr int ids = 8;
    std::vector<std::string> requests;
    std::vector<std::string> replies;
    for (int i = 0; i < ids; ++i) {
        requests.push_back(register_request("steady-" + std::to_string(i), 3000 + i));
        replies.push_back(regack("steady-" + std::to_string(i), 3000 + i));
    }
    for (int i = 0; i < 200; ++i) { // warm: every id registered, every buffer grown
        ASSERT_TRUE(exchange(to, requests[i % ids], replies[i % ids])) << "request " << i;
    }
    constexpr int counted = 1000;
    const std::uint64_t before = tcpchat::allocations();
    int answered = 0;
    for (int i = 0; i < counted; ++i) {
        answered += exchange(to, requests[i % ids], replies[i % ids]) ? 1 : 0;
    }
    const std::uint64_t made = tcpchat::allocations() - before;
    EXPECT_EQ(answered, counted);
    // A connection object made per request, or a deadline allocated per arm, would be thousands.
    EXPECT_LT(made, 10U) << "heap allocations over " << counted << " requests";
    server.stop();
    running.join();
}

} // namespace
