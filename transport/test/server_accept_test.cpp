// Out of file descriptors (spec §6.5): a failed accept is logged, the server pauses and tries
// again, and serves the waiting client once a descriptor is free. A test executable of its own,
// because it lowers the process's descriptor limit.
#include "tcpchat/registry.hpp"
#include "tcpchat/server.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mutex>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The sanitizers' runtime needs descriptors of its own (UBSan's vptr check opens a pipe to probe
// memory), so with none left it reports errors that are not there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

int connect_to(const boost::asio::ip::tcp::endpoint& server) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && ::connect(fd, server.data(), server.size()) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string receive_all(int fd) {
    std::string bytes;
    char chunk[512];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 20'000) > 0) {
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            break;
        }
        bytes.append(chunk, static_cast<std::size_t>(n));
    }
    return bytes;
}

// The limit that leaves exactly `free` descriptor numbers unused below it (a test runner may
// leave open descriptors above the lowest free one).
rlim_t limit_leaving(int free) {
    int fd = 0;
    for (int found = 0;; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && ++found == free) {
            break;
        }
    }
    return static_cast<rlim_t>(fd + 1);
}

TEST(ServerAccept, KeepsServingAfterRunningOutOfDescriptors) {
    if (sanitized) {
        GTEST_SKIP() << "the sanitizer runtime cannot work without free descriptors";
    }
    boost::asio::io_context io;
    tcpchat::MemoryRegistry registry;
    tcpchat::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.log_level = tcpchat::LogLevel::verbose;
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> lines;
    tcpchat::Server server(io, options, registry, [&](tcpchat::LogLevel, std::string_view line) {
        const std::scoped_lock lock(mutex);
        lines.emplace_back(line);
        changed.notify_all();
    });
    ASSERT_FALSE(server.listen());
    // Stops the server and joins its thread however the test ends.
    struct Running {
        tcpchat::Server& server;
        std::thread thread;
        ~Running() {
            server.stop();
            thread.join();
        }
    } running{server, std::thread([&io] { io.run(); })};
    const auto wait_for = [&](const std::string& prefix) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 20s, [&] {
            for (const auto& l : lines) {
                if (l.rfind(prefix, 0) == 0) {
                    return true;
                }
            }
            return false;
        });
    };

    rlimit original{};
    ::getrlimit(RLIMIT_NOFILE, &original);
    // Room for one client socket and the server's socket for it, then the next client socket:
    // the server's accept of that one fails.
    rlimit low = original;
    low.rlim_cur = limit_leaving(3);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    const int first = connect_to(server.local_endpoint());
    const bool first_accepted = wait_for("accepted ");
    const int second = connect_to(server.local_endpoint());
    const bool accept_failed = wait_for("accept failed: ");
    ::setrlimit(RLIMIT_NOFILE, &original);

    ASSERT_GE(first, 0);
    ASSERT_GE(second, 0);
    EXPECT_TRUE(first_accepted);
    EXPECT_TRUE(accept_failed);

    // With descriptors to spare again, the retry accepts the waiting client and serves it.
    ::close(first);
    const std::string request = "BRIDGE\r\nclientID: user9\r\n\r\n";
    ASSERT_EQ(::send(second, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    EXPECT_EQ(receive_all(second),
              "ERROR\r\nCode: 404\r\nReason: clientID user9 is not registered\r\n\r\n");
    ::close(second);
}

} // namespace
