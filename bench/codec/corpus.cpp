#include "corpus.hpp"

#include "tcpchat/encode.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace tcpchat::bench {
namespace {

// Contacts whose text lives as long as the program: views into a table built once.
struct ContactText {
    std::string id;
    std::string host;
    std::uint16_t port;
};

const std::vector<ContactText>& contacts() {
    static const std::vector<ContactText> table = [] {
        std::vector<ContactText> t;
        t.reserve(stream_messages);
        for (std::size_t i = 0; i < stream_messages; ++i) {
            t.push_back({"user" + std::to_string(i),
                         "192.168." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256),
                         std::uint16_t(1024 + i * 7 % 60000)});
        }
        return t;
    }();
    return table;
}

Contact contact(std::size_t i) {
    const ContactText& c = contacts()[i % contacts().size()];
    return {c.id, c.host, c.port};
}

void append(std::string& out, const Message& m) {
    if (encode(m, out)) {
        std::fprintf(stderr, "corpus: cannot encode %s\n", to_string(m).c_str());
        std::abort();
    }
}

Stream build(std::size_t count, Message (*make)(std::size_t)) {
    Stream s;
    for (std::size_t i = 0; i < count; ++i) {
        append(s.bytes, make(i));
    }
    s.messages = count;
    return s;
}

} // namespace

const std::vector<Sample>& samples() {
    static const std::vector<Sample> table = [] {
        const Contact self{"user1", "127.0.0.1", 3000};
        const Contact peer{"user2", "127.0.0.1", 3001};
        std::vector<Sample> t = {
            {"REGISTER", Context::request, Register{self}, {}},
            {"BRIDGE", Context::request, Bridge{"user1"}, {}},
            {"REGACK", Context::response, RegAck{self, false}, {}},
            {"REGACK-status", Context::response, RegAck{self, true}, {}},
            {"BRIDGEACK", Context::response, BridgeAck{peer}, {}},
            {"BRIDGEACK-empty", Context::response, BridgeAck{}, {}},
            {"ERROR", Context::response, ErrorReply{404, "clientID user9 is not registered"}, {}},
            {"CHAT", Context::chat_open, Chat{peer}, {}},
            {"text", Context::chat, Text{"hello there"}, {}},
            {"QUIT", Context::chat, Quit{}, {}},
        };
        for (Sample& s : t) {
            append(s.wire, s.message);
        }
        return t;
    }();
    return table;
}

const Stream& register_stream() {
    static const Stream s =
        build(stream_messages, [](std::size_t i) -> Message { return Register{contact(i)}; });
    return s;
}

const Stream& http_register_stream() {
    static const Stream s = [] {
        constexpr std::string_view method = "REGISTER\r\n";
        constexpr std::string_view request_line = "GET / HTTP/1.1\r\n";
        Stream h;
        std::string one;
        for (std::size_t i = 0; i < stream_messages; ++i) {
            one.clear();
            append(one, Register{contact(i)});
            h.bytes.append(request_line).append(std::string_view(one).substr(method.size()));
        }
        h.messages = stream_messages;
        return h;
    }();
    return s;
}

const Stream& request_stream() {
    static const Stream s = build(stream_messages, [](std::size_t i) -> Message {
        if (i % 2 == 0) {
            return Register{contact(i / 2)};
        }
        return Bridge{contact(i / 2).id};
    });
    return s;
}

const Stream& response_stream() {
    static const Stream s = build(stream_messages, [](std::size_t i) -> Message {
        switch (i % 5) {
        case 0: return RegAck{contact(i), false};
        case 1: return RegAck{contact(i), true};
        case 2: return BridgeAck{contact(i)};
        case 3: return BridgeAck{};
        default: return ErrorReply{404, "clientID user9 is not registered"};
        }
    });
    return s;
}

const Stream& chat_stream() {
    static const std::string long_text(200, 'x');
    static const Stream s = [] {
        Stream c;
        append(c.bytes, Chat{contact(0)});
        for (std::size_t i = 1; i + 1 < stream_messages; ++i) {
            switch (i % 4) {
            case 0: append(c.bytes, Text{"hello there"}); break;
            case 1:
                append(c.bytes, Text{std::string_view(long_text).substr(0, 1 + i % 200)});
                break;
            case 2:
                append(c.bytes, Text{"QUIT"}); // sent stuffed, as `\QUIT`
                break;
            default: append(c.bytes, Text{"h\xc3\xa9llo, \tw\xc3\xb6rld"}); break;
            }
        }
        append(c.bytes, Quit{});
        c.messages = stream_messages;
        return c;
    }();
    return s;
}

} // namespace tcpchat::bench
