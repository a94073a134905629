// A minimal TCP-Chat client for the runner's own tests: /register and /bridge only, with one
// deliberate flaw chosen by --flaw, so that client mode can be seen to fail the right cases.
//   flawed-client --flaw=FLAW --id=ID --port=PORT --server=HOST:PORT
// FLAW: none, misspells, no-final-blank; or, at /bridge, after printing "bridging": exits
// (status 3), segfaults, throws (uncaught: SIGABRT), hangs (ignoring SIGTERM; the end of its
// terminal ends it), hangs-hard (ignoring SIGHUP too: only SIGKILL ends it).
#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

std::string arg(int argc, char** argv, const std::string& name) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.starts_with(name + "=")) {
            return a.substr(name.size() + 1);
        }
    }
    return {};
}

bool request(const std::string& host, int port, const std::string& bytes, std::string& local_ip) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(std::uint16_t(port));
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return false;
    }
    sockaddr_in l{};
    socklen_t len = sizeof l;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&l), &len);
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &l.sin_addr, text, sizeof text);
    local_ip = text;
    std::string out = bytes;
    for (std::size_t at; (at = out.find("@IP@")) != std::string::npos;) {
        out.replace(at, 4, local_ip);
    }
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    char buf[4096];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::close(fd);
    return true;
}

void fail(const std::string& flaw) {
    if (flaw == "exits") {
        std::exit(3);
    }
    if (flaw == "segfaults") {
        std::signal(SIGSEGV, SIG_DFL); // a sanitizer's handler would make it an exit status
        std::raise(SIGSEGV);
    }
    if (flaw == "throws") {
        throw std::runtime_error("cannot bridge");
    }
    if (flaw == "hangs" || flaw == "hangs-hard") {
        std::signal(SIGTERM, SIG_IGN);
        if (flaw == "hangs-hard") {
            std::signal(SIGHUP, SIG_IGN);
        }
        for (;;) {
            ::pause();
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    const std::string flaw = arg(argc, argv, "--flaw");
    const std::string id = arg(argc, argv, "--id");
    const std::string port = arg(argc, argv, "--port");
    const std::string server = arg(argc, argv, "--server");
    const auto colon = server.rfind(':');
    const std::string host = server.substr(0, colon);
    const int server_port = std::stoi(server.substr(colon + 1));
    const std::string end = flaw == "no-final-blank" ? "" : "\r\n";
    const std::string method = flaw == "misspells" ? "REGISTR" : "REGISTER";
    std::string line;
    std::string ip;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line == "/register") {
            request(host, server_port,
                    method + "\r\nclientID: " + id + "\r\nIP: @IP@\r\nPort: " + port + "\r\n" + end,
                    ip);
            std::cout << "registered" << std::endl;
        } else if (line == "/bridge" && flaw != "none" && flaw != "misspells" &&
                   flaw != "no-final-blank") {
            std::cout << "bridging" << std::endl;
            fail(flaw);
        } else if (line == "/bridge") {
            request(host, server_port, "BRIDGE\r\nclientID: " + id + "\r\n" + end, ip);
            std::cout << "bridged" << std::endl;
        } else if (line == "/quit") {
            return 0;
        }
    }
    return 0;
}
