// The recorder (spec/transcript-format.md §T.10): a proxy that writes what passes through it as a
// transcript, one actor per clientID, one send line per wire line.
#include "socket.hpp"
#include "tcpchat/conformance.hpp"
#include "tcpchat/decode.hpp"

#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <poll.h>
#include <sys/socket.h>
#include <vector>

namespace tcpchat::conformance {

namespace {

struct Event {
    std::size_t conn;
    bool from_client; // else from the server
    bool end;         // that side ended its stream
    std::string bytes;
};

struct Relay {
    Fd client;
    Fd target;
    bool client_done = false;
    bool target_done = false;
    std::string request; // the client's bytes, to name the actor
};

std::string actor_name(std::size_t index) {
    std::string name(1, char('A' + index % 26));
    if (index >= 26) {
        name += std::to_string(index / 26);
    }
    return name;
}

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// One wire line as a transcript string, with every recorded clientID written as its actor's
// `${X.id}` (§T.7.3): in the clientID header's value, and as a word of an ERROR's Reason (which
// names the clientID, §5.8). So a recording replays against a long-running server, each run with
// clientIDs of its own. Other bytes are kept as they were.
transcript::Template with_placeholders(std::string_view line,
                                       const std::map<std::string, std::string>& actor_of_id) {
    transcript::Template t;
    auto word = [&](std::string_view w) {
        const auto it = actor_of_id.find(std::string(w));
        if (it == actor_of_id.end()) {
            t.append(w);
        } else {
            t.append(transcript::Placeholder{it->second, "id"});
        }
    };
    constexpr std::string_view id_header = "clientID:";
    constexpr std::string_view reason_header = "Reason:";
    if (line.starts_with(id_header)) {
        std::size_t begin = id_header.size();
        while (begin < line.size() && is_wsp(line[begin])) {
            ++begin;
        }
        std::size_t end = line.size();
        while (end > begin && (line[end - 1] == '\n' || line[end - 1] == '\r')) {
            --end;
        }
        while (end > begin && is_wsp(line[end - 1])) {
            --end;
        }
        t.append(line.substr(0, begin));
        if (end > begin) {
            word(line.substr(begin, end - begin));
        }
        t.append(line.substr(end));
        return t;
    }
    if (!line.starts_with(reason_header)) {
        t.append(line);
        return t;
    }
    // Words of the Reason, split at whitespace and the line end.
    std::size_t at = 0;
    while (at < line.size()) {
        const bool separator = is_wsp(line[at]) || line[at] == '\r' || line[at] == '\n';
        std::size_t end = at;
        while (end < line.size() &&
               (is_wsp(line[end]) || line[end] == '\r' || line[end] == '\n') == separator) {
            ++end;
        }
        if (separator || at == 0) {
            t.append(line.substr(at, end - at)); // "Reason:..." itself is never a clientID
        } else {
            word(line.substr(at, end - at));
        }
        at = end;
    }
    return t;
}

} // namespace

int record(const RecordOptions& options, std::ostream& log, void (*ready)(std::uint16_t, void*),
           void* context) {
    std::string error;
    Fd listener = listen_on(options.listen_host, options.listen_port, error);
    if (!listener.valid()) {
        log << error << "\n";
        return 1;
    }
    const std::uint16_t port = local_endpoint(listener.get())->port;
    log << "recording " << options.listen_host << ":" << port << " -> " << options.target_host
        << ":" << options.target_port << " into " << options.output << "\n";
    if (ready != nullptr) {
        ready(port, context);
    }
    // Every wait below is bounded: poll() by 100 ms slices, connecting and relaying by a few
    // seconds, and the whole recording by `time_limit` and `stop`.
    const auto start = Clock::now();
    auto over = [&] {
        return (options.stop != nullptr && options.stop->load()) ||
               (options.time_limit.count() > 0 && Clock::now() - start >= options.time_limit);
    };
    constexpr auto relay_timeout = std::chrono::seconds(5);

    std::vector<Relay> relays;
    std::vector<Event> events;
    std::size_t ended = 0;
    while (!over() && (options.connections == 0 || ended < options.connections)) {
        std::vector<pollfd> fds{{listener.get(), POLLIN, 0}};
        std::vector<std::pair<std::size_t, bool>> owners{{0, false}};
        for (std::size_t i = 0; i < relays.size(); ++i) {
            if (!relays[i].client_done) {
                fds.push_back({relays[i].client.get(), POLLIN, 0});
                owners.emplace_back(i, true);
            }
            if (!relays[i].target_done) {
                fds.push_back({relays[i].target.get(), POLLIN, 0});
                owners.emplace_back(i, false);
            }
        }
        if (::poll(fds.data(), fds.size(), 100) <= 0) {
            continue;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            Relay r;
            r.client = accept_from(listener.get(), Clock::now());
            if (r.client.valid()) {
                r.target = connect_to({options.target_host, options.target_port}, "",
                                      Clock::now() + relay_timeout, error);
                if (!r.target.valid()) {
                    log << "cannot reach the target: " << error << "\n";
                    continue;
                }
                relays.push_back(std::move(r));
            }
        }
        for (std::size_t k = 1; k < fds.size(); ++k) {
            if (fds[k].revents == 0) {
                continue;
            }
            auto [i, from_client] = owners[k];
            Relay& r = relays[i];
            char buf[8192];
            const ssize_t n = ::recv(fds[k].fd, buf, sizeof buf, 0);
            Fd& other = from_client ? r.target : r.client;
            if (n > 0) {
                events.push_back({i, from_client, false, std::string(buf, std::size_t(n))});
                if (from_client) {
                    r.request.append(buf, std::size_t(n));
                }
                // A side that does not read within the timeout loses these bytes; the transcript
                // still shows what was sent.
                (void)write_all(other.get(), std::string_view(buf, std::size_t(n)),
                                Clock::now() + relay_timeout);
                continue;
            }
            events.push_back({i, from_client, true, {}});
            ::shutdown(other.get(), SHUT_WR);
            (from_client ? r.client_done : r.target_done) = true;
            if (r.client_done && r.target_done) {
                r.client.reset();
                r.target.reset();
                ++ended;
            }
        }
    }
    if (options.connections != 0 && ended < options.connections) {
        log << "stopped after " << ended << " of " << options.connections << " connections\n";
    }

    // One actor per clientID (from the first request of each connection); a connection whose
    // request names no clientID gets an actor of its own.
    std::map<std::string, std::string> actor_of_id;
    std::vector<std::string> actors;
    std::size_t next_actor = 0;
    for (const Relay& r : relays) {
        const StreamResult s = decode_stream(Context::request, r.request);
        std::optional<std::string> id;
        if (!s.messages.empty()) {
            if (const auto* m = std::get_if<Register>(&s.messages.front())) {
                id = std::string(m->self.id);
            } else if (const auto* b = std::get_if<Bridge>(&s.messages.front())) {
                id = std::string(b->id);
            }
        }
        if (!id) {
            actors.push_back(actor_name(next_actor++));
            continue;
        }
        if (!actor_of_id.contains(*id)) {
            actor_of_id[*id] = actor_name(next_actor++);
        }
        actors.push_back(actor_of_id[*id]);
    }

    std::ofstream out(options.output);
    out << "# " << options.title
        << "\n\n- Sections: \xC2\xA7"
           "6.1\n- Modes: codec, server\n\n"
        << "Recorded from a live session with " << options.target_host << ":" << options.target_port
        << "; edit the sections and this sentence.\n\n```transcript\n";
    std::vector<bool> opened(relays.size(), false);
    for (std::size_t k = 0; k < events.size(); ++k) {
        const Event& e = events[k];
        const std::string& a = actors[e.conn];
        if (!opened[e.conn]) {
            out << "connect " << a << " server\n";
            opened[e.conn] = true;
        }
        const std::string from = e.from_client ? a : "server";
        const std::string to = e.from_client ? "server" : a;
        if (e.end) {
            out << from << (e.from_client ? " half-closes " : " closes ") << to << "\n";
            continue;
        }
        // Bytes that arrived in several reads in a row are one run of lines, so that a line
        // split between reads is still one line (and its clientID still recognised).
        std::string bytes = e.bytes;
        while (k + 1 < events.size() && !events[k + 1].end && events[k + 1].conn == e.conn &&
               events[k + 1].from_client == e.from_client) {
            bytes += events[++k].bytes;
        }
        std::string_view rest = bytes;
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            const std::string_view line =
                rest.substr(0, nl == std::string_view::npos ? nl : nl + 1);
            out << from << " -> " << to << ": "
                << transcript::to_source(with_placeholders(line, actor_of_id)) << "\n";
            rest.remove_prefix(line.size());
        }
    }
    out << "```\n";
    if (!out) {
        log << "cannot write " << options.output << "\n";
        return 1;
    }
    log << "wrote " << relays.size() << " connections to " << options.output << "\n";
    return 0;
}

} // namespace tcpchat::conformance
