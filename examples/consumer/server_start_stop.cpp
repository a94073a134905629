// Starts the installed transport's server on a free port of 127.0.0.1, prints the port, and stops.
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <tcpchat/registry.hpp>
#include <tcpchat/server.hpp>

int main() {
    boost::asio::io_context io;
    tcpchat::MemoryRegistry registry;
    tcpchat::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.log_level = tcpchat::LogLevel::error;
    tcpchat::Server server(io, options, registry, {});
    if (const std::error_code ec = server.listen()) {
        std::cerr << "listen: " << ec.message() << "\n";
        return 1;
    }
    std::cout << "listening on port " << server.local_endpoint().port() << "\n";
    server.stop();
    io.run();
    std::cout << "stopped\n";
    return 0;
}
