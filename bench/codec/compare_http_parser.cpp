// nodejs http-parser (Debian libhttp-parser-dev) on the HTTP form of the REGISTER buffer: one
// parser over the whole pipelined buffer, header names and values kept as views, as a server
// would keep them. Built only when the library is found.
#include "corpus.hpp"
#include "meter.hpp"

#include <array>
#include <http_parser.h>
#include <string_view>

namespace tcpchat::bench {
namespace {

struct Request {
    std::array<std::string_view, 8> names{};
    std::array<std::string_view, 8> values{};
    std::size_t fields = 0;
    std::int64_t messages = 0;
};

Request& request_of(http_parser* p) {
    return *static_cast<Request*>(p->data);
}

int on_message_begin(http_parser* p) {
    request_of(p).fields = 0;
    return 0;
}
int on_header_field(http_parser* p, const char* at, std::size_t length) {
    Request& r = request_of(p);
    if (r.fields == r.names.size()) {
        return 1;
    }
    r.names[r.fields] = {at, length};
    return 0;
}
int on_header_value(http_parser* p, const char* at, std::size_t length) {
    Request& r = request_of(p);
    r.values[r.fields++] = {at, length};
    return 0;
}
int on_message_complete(http_parser* p) {
    Request& r = request_of(p);
    benchmark::DoNotOptimize(r.values);
    ++r.messages;
    return 0;
}

const http_parser_settings settings = [] {
    http_parser_settings s{};
    s.on_message_begin = on_message_begin;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_message_complete = on_message_complete;
    return s;
}();

// Parses the whole buffer; returns the number of messages, or -1 on an error. Not inlined, so
// that `scripts/bench --instructions` can count a pass's instructions under callgrind.
[[gnu::noinline]] std::int64_t http_parser_pass(std::string_view bytes) {
    Request request;
    http_parser parser;
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = &request;
    const std::size_t used = http_parser_execute(&parser, &settings, bytes.data(), bytes.size());
    if (used != bytes.size() || HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
        return -1;
    }
    return request.messages;
}

void BM_Compare_HttpParser(benchmark::State& state) {
    const Stream& s = http_register_stream();
    if (http_parser_pass(s.bytes) != std::int64_t(s.messages)) {
        state.SkipWithError("http-parser does not parse the buffer");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(http_parser_pass(s.bytes));
    }
    meter.report(state, s.messages, s.bytes.size());
}
BENCHMARK(BM_Compare_HttpParser);

} // namespace
} // namespace tcpchat::bench
