// The shipped suite for the runner's tests, whole or one case at a time.
#pragma once

#include "tcpchat/conformance.hpp"

#include <map>
#include <stdexcept>
#include <string>

namespace tcpchat::conformance::testing {

inline const Suite& shipped_suite() {
    static const Suite s = load_suite({default_cases_dir()});
    return s;
}

// One case of the shipped suite, read from its own file: the tests that need a few cases do not
// pay for parsing the whole suite (slow in a Debug build on a loaded machine).
inline const Case& shipped_case(const std::string& name) {
    static std::map<std::string, Suite> loaded;
    auto it = loaded.find(name);
    if (it == loaded.end()) {
        it = loaded.emplace(name, load_suite({default_cases_dir() + "/" + name + ".md"})).first;
    }
    if (it->second.cases.size() != 1) {
        throw std::runtime_error("no case " + name);
    }
    return it->second.cases.front();
}

} // namespace tcpchat::conformance::testing
