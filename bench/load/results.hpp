// What a load run measured: completed requests (or round trips), their latencies, and errors by
// kind. Each connection slot keeps its own Results; they are merged at the end.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tcpchat::load {

enum class ErrorKind : std::uint8_t {
    connect,   // the connection was not established
    timeout,   // no complete reply (or round trip) within --timeout
    closed,    // reset, or closed before the reply was complete
    bad_reply, // a reply the codec rejects, or not the one the request calls for
    refused,   // the server answered ERROR (spec §5.8)
};
inline constexpr std::size_t error_kinds = 5;

struct Results {
    std::uint64_t completed = 0;
    std::vector<std::uint64_t> latencies_ns; // one per completed request or round trip
    std::array<std::uint64_t, error_kinds> errors{};
    std::string first_error; // the first error's text, for the report
    // Chat modes: heap allocations in the steady state, and the round trips they were made over.
    std::uint64_t steady_allocations = 0;
    std::uint64_t steady_round_trips = 0;

    void record(std::chrono::steady_clock::duration latency);
    void fail(ErrorKind kind, std::string text);
    void merge(Results&& other);
    [[nodiscard]] std::uint64_t error_count() const noexcept;
};

// How a run is described in its report.
struct RunInfo {
    std::string what;   // "REGISTER+BRIDGE", "chat round trips of 64 bytes"
    std::string target; // "127.0.0.2:5555"
    std::size_t connections = 0;
    std::size_t threads = 0;
    std::string unit; // "requests" or "round trips"
    double seconds = 0;
};

// The report: a few readable lines, or one JSON object (--json) for scripts.
void print_text(const RunInfo& info, Results& results);
void print_json(const RunInfo& info, Results& results);

} // namespace tcpchat::load
