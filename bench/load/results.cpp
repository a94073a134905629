#include "results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace tcpchat::load {
namespace {

constexpr std::array<const char*, error_kinds> error_names = {"connect", "timeout", "closed",
                                                              "bad_reply", "refused"};

// The q-quantile by the nearest-rank method, in milliseconds; `sorted` is in ascending order.
double quantile_ms(const std::vector<std::uint64_t>& sorted, double q) {
    if (sorted.empty()) {
        return 0.0;
    }
    const auto rank = std::size_t(std::ceil(q * double(sorted.size())));
    return double(sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)]) / 1e6;
}

struct Summary {
    double rate;
    double p50, p99, p999, max;
};

Summary summarize(const RunInfo& info, Results& r) {
    std::sort(r.latencies_ns.begin(), r.latencies_ns.end());
    return {info.seconds > 0 ? double(r.completed) / info.seconds : 0.0,
            quantile_ms(r.latencies_ns, 0.50), quantile_ms(r.latencies_ns, 0.99),
            quantile_ms(r.latencies_ns, 0.999), quantile_ms(r.latencies_ns, 1.0)};
}

// Figures as the text report rounds them: `digits` decimals.
double rounded(double value, int digits) {
    const double scale = std::pow(10.0, digits);
    return std::round(value * scale) / scale;
}

double allocations_per_round_trip(const Results& r) {
    return double(r.steady_allocations) / double(r.steady_round_trips);
}

} // namespace

void Results::record(std::chrono::steady_clock::duration latency) {
    ++completed;
    latencies_ns.push_back(
        std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count()));
}

void Results::fail(ErrorKind kind, std::string text) {
    ++errors[std::size_t(kind)];
    if (first_error.empty()) {
        first_error = std::move(text);
    }
}

void Results::merge(Results&& other) {
    completed += other.completed;
    latencies_ns.insert(latencies_ns.end(), other.latencies_ns.begin(), other.latencies_ns.end());
    for (std::size_t i = 0; i < error_kinds; ++i) {
        errors[i] += other.errors[i];
    }
    if (first_error.empty()) {
        first_error = std::move(other.first_error);
    }
    steady_allocations += other.steady_allocations;
    steady_round_trips += other.steady_round_trips;
}

std::uint64_t Results::error_count() const noexcept {
    std::uint64_t n = 0;
    for (const std::uint64_t e : errors) {
        n += e;
    }
    return n;
}

void print_text(const RunInfo& info, Results& results) {
    const Summary s = summarize(info, results);
    std::printf("tcp-chat-load: %s against %s, %zu connection%s, %zu thread%s\n", info.what.c_str(),
                info.target.c_str(), info.connections, info.connections == 1 ? "" : "s",
                info.threads, info.threads == 1 ? "" : "s");
    std::printf("  %-9s %llu in %.2f s = %.0f %s/s\n", info.unit.c_str(),
                static_cast<unsigned long long>(results.completed), info.seconds, s.rate,
                info.unit.c_str());
    std::printf("  latency   p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n", s.p50, s.p99,
                s.p999, s.max);
    std::printf("  errors    %llu", static_cast<unsigned long long>(results.error_count()));
    for (std::size_t i = 0; i < error_kinds; ++i) {
        if (results.errors[i] != 0) {
            std::printf("  %s %llu", error_names[i],
                        static_cast<unsigned long long>(results.errors[i]));
        }
    }
    std::printf("\n");
    if (results.steady_round_trips != 0) {
        std::printf("  allocs    %.3f per round trip, steady state (%llu over %llu)\n",
                    allocations_per_round_trip(results),
                    static_cast<unsigned long long>(results.steady_allocations),
                    static_cast<unsigned long long>(results.steady_round_trips));
    }
    if (!results.first_error.empty()) {
        std::printf("  first error: %s\n", results.first_error.c_str());
    }
}

void print_json(const RunInfo& info, Results& results) {
    const Summary s = summarize(info, results);
    nlohmann::ordered_json j = {{"what", info.what},
                                {"target", info.target},
                                {"connections", info.connections},
                                {"threads", info.threads},
                                {"unit", info.unit},
                                {"completed", results.completed},
                                {"seconds", rounded(info.seconds, 3)},
                                {"rate", rounded(s.rate, 1)},
                                {"p50_ms", rounded(s.p50, 3)},
                                {"p99_ms", rounded(s.p99, 3)},
                                {"p999_ms", rounded(s.p999, 3)},
                                {"max_ms", rounded(s.max, 3)},
                                {"errors", results.error_count()}};
    for (std::size_t i = 0; i < error_kinds; ++i) {
        j[std::string("errors_") + error_names[i]] = results.errors[i];
    }
    j["first_error"] = results.first_error;
    if (results.steady_round_trips != 0) {
        j["allocs_per_round_trip"] = rounded(allocations_per_round_trip(results), 3);
    }
    // An error's text can quote a peer's bytes: invalid UTF-8 becomes U+FFFD.
    std::printf("%s\n",
                j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

} // namespace tcpchat::load
