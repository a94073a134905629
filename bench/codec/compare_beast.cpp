// Boost.Beast's HTTP/1 request parser on the HTTP form of the REGISTER buffer, one parser per
// message as Beast is used (a parser object is good for one message). Built only when the Beast
// headers are found.
#include "corpus.hpp"
#include "meter.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <string_view>

namespace tcpchat::bench {
namespace {

namespace http = boost::beast::http;

// Parses every message of `bytes`; returns how many, or -1 on an error. One pass is one call, not
// inlined, so that `scripts/bench --instructions` can count its instructions under callgrind.
[[gnu::noinline]] std::int64_t beast_pass(std::string_view bytes) {
    std::int64_t messages = 0;
    while (!bytes.empty()) {
        http::request_parser<http::empty_body> parser;
        boost::beast::error_code ec;
        const std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
        if (ec || !parser.is_done()) {
            return -1;
        }
        benchmark::DoNotOptimize(parser.get());
        bytes.remove_prefix(used);
        ++messages;
    }
    return messages;
}

void BM_Compare_Beast(benchmark::State& state) {
    const Stream& s = http_register_stream();
    if (beast_pass(s.bytes) != std::int64_t(s.messages)) {
        state.SkipWithError("Beast does not parse the buffer");
        return;
    }
    const Meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(beast_pass(s.bytes));
    }
    meter.report(state, s.messages, s.bytes.size());
}
BENCHMARK(BM_Compare_Beast);

} // namespace
} // namespace tcpchat::bench
