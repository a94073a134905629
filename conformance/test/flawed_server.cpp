#include "flawed_server.hpp"

#include "tcpchat/codec.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace tcpchat::conformance::testing {

namespace {

struct Entry {
    ContactRecord contact;
    std::string source;
};

std::string error_reply(std::uint16_t code, const std::string& reason) {
    return "ERROR\r\nCode: " + std::to_string(code) + "\r\nReason: " + reason + "\r\n\r\n";
}

std::uint16_t code_for(Errc e) {
    switch (e) {
    case Errc::unexpected_method: return 405;
    case Errc::line_too_long:
    case Errc::too_many_headers:
    case Errc::message_too_large:
    case Errc::id_too_long: return 413;
    default: return 400;
    }
}

} // namespace

std::optional<Flaw> flaw_named(std::string_view name) {
    static const std::map<std::string_view, Flaw> names{
        {"none", Flaw::none},
        {"never_closes", Flaw::never_closes},
        {"misspells_method", Flaw::misspells_method},
        {"bridges_to_self", Flaw::bridges_to_self},
        {"no_final_blank", Flaw::no_final_blank},
        {"dies_on_bad_input", Flaw::dies_on_bad_input},
        {"exits_on_bad_input", Flaw::exits_on_bad_input},
        {"segfaults_on_bad_input", Flaw::segfaults_on_bad_input},
        {"throws_on_bad_input", Flaw::throws_on_bad_input},
        {"hangs_on_bad_input", Flaw::hangs_on_bad_input},
        {"one_recv", Flaw::one_recv},
    };
    const auto it = names.find(name);
    return it == names.end() ? std::nullopt : std::optional<Flaw>(it->second);
}

FlawedServer::FlawedServer(Flaw flaw, const std::string& host, std::uint16_t port) : flaw_(flaw) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 64);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
}

FlawedServer::~FlawedServer() {
    stop_ = true;
    thread_.join();
    if (listener_ >= 0) {
        ::close(listener_);
    }
}

void FlawedServer::fail_on_bad_input() const {
    switch (flaw_) {
    case Flaw::exits_on_bad_input: std::exit(1);
    case Flaw::segfaults_on_bad_input:
        std::signal(SIGSEGV, SIG_DFL); // a sanitizer's handler would make it an exit status
        std::raise(SIGSEGV);
        break;
    case Flaw::throws_on_bad_input: throw std::runtime_error("malformed request");
    default: break;
    }
}

void FlawedServer::serve() {
    std::map<std::string, Entry> registry;
    std::deque<std::string> queue;
    std::vector<int> held; // connections a never-closing server keeps
    while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) {
            continue;
        }
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        char source[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, &peer.sin_addr, source, sizeof source);

        // Read one request (read timeout 1 s).
        StreamDecoder decoder(Context::request);
        std::string reply;
        bool answered = false;
        bool bad = false;
        char buf[4096];
        std::string keep;
        for (int waited = 0; !answered && waited < 1000 && !stop_;) {
            pollfd q{fd, POLLIN, 0};
            if (::poll(&q, 1, 50) <= 0) {
                waited += 50;
                continue;
            }
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                answered = true; // closed mid-request: nothing to send
                break;
            }
            keep.assign(buf, std::size_t(n));
            std::string_view data = keep;
            if (flaw_ == Flaw::one_recv) {
                // The whole request must be in this one read: what is not, is misread.
                StreamDecoder one(Context::request);
                if (one.feed(data).status == Status::need_more) {
                    reply = error_reply(400, "misread: the request was not in one read");
                    answered = bad = true;
                    break;
                }
            }
            while (!data.empty() && !answered) {
                Step step = decoder.feed(data);
                data.remove_prefix(step.consumed);
                if (step.status == Status::error) {
                    reply = error_reply(code_for(decoder.error().code),
                                        std::string(errc_name(decoder.error().code)));
                    answered = bad = true;
                } else if (step.status == Status::message) {
                    answered = true;
                    if (const auto* r = std::get_if<Register>(&decoder.message())) {
                        const std::string id(r->self.id);
                        auto it = registry.find(id);
                        if (it != registry.end() && it->second.contact != ContactRecord(r->self) &&
                            it->second.source != source) {
                            reply = error_reply(403, "clientID " + id +
                                                         " is registered from another address");
                        } else {
                            if (it == registry.end() ||
                                it->second.contact != ContactRecord(r->self)) {
                                std::erase(queue, id);
                            }
                            registry[id] = Entry{ContactRecord(r->self), source};
                            reply = to_wire(RegAck{r->self, false});
                        }
                    } else if (const auto* b = std::get_if<Bridge>(&decoder.message())) {
                        const std::string id(b->id);
                        if (!registry.contains(id)) {
                            reply = error_reply(404, "clientID " + id + " is not registered");
                        } else {
                            auto w =
                                std::find_if(queue.begin(), queue.end(), [&](const std::string& q) {
                                    return q != id || flaw_ == Flaw::bridges_to_self;
                                });
                            if (w != queue.end()) {
                                const ContactRecord peer_contact = registry[*w].contact;
                                queue.erase(w);
                                std::erase(queue, id);
                                reply = to_wire(BridgeAck{peer_contact.view()});
                            } else {
                                queue.push_back(id);
                                reply = to_wire(BridgeAck{});
                            }
                        }
                    }
                }
            }
        }
        if (!answered && !stop_) {
            reply = error_reply(408, "no request within 1 s");
        }
        ++requests_;
        if (log_) {
            std::printf("request %d: %s\n", requests_, bad ? "malformed" : "served");
            std::fflush(stdout);
        }
        if (bad && flaw_ == Flaw::dies_on_bad_input) {
            ::close(listener_); // first: no connection may queue up once the client sees the end
            listener_ = -1;
            ::close(fd);
            break;
        }
        if (bad) {
            fail_on_bad_input();
        }
        if (bad && flaw_ == Flaw::hangs_on_bad_input) {
            while (!stop_) {
                ::poll(nullptr, 0, 50); // the listener stays open: connections queue up, unserved
            }
            break;
        }
        if (flaw_ == Flaw::misspells_method && reply.starts_with("REGACK")) {
            reply.replace(0, 6, "REGAK");
        }
        if (flaw_ == Flaw::no_final_blank && reply.ends_with("\r\n\r\n")) {
            reply.resize(reply.size() - 2);
        }
        (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
        if (flaw_ == Flaw::never_closes) {
            held.push_back(fd);
            continue;
        }
        ::shutdown(fd, SHUT_WR);
        pollfd q{fd, POLLIN, 0};
        while (::poll(&q, 1, 100) > 0 && ::recv(fd, buf, sizeof buf, 0) > 0) {
        }
        ::close(fd);
    }
    for (const int fd : held) {
        ::close(fd);
    }
}

} // namespace tcpchat::conformance::testing
