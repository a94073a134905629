#include "tcpchat/conformance.hpp"

#include <random>

namespace tcpchat::conformance {

std::string make_run_id() {
    std::random_device rd;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i) {
        out += hex[rd() % 16];
    }
    return out;
}

CaseResult run_server(const Case& c, const LiveOptions&) {
    CaseResult r;
    r.test = &c;
    r.failure = Failure{0, "not implemented", {}, {}, false};
    return r;
}

CaseResult run_client(const Case& c, const LiveOptions&) {
    return run_server(c, {});
}

} // namespace tcpchat::conformance
