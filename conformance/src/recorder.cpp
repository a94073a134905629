#include "tcpchat/conformance.hpp"

#include <ostream>

namespace tcpchat::conformance {

int record(const RecordOptions&, std::ostream& log, void (*)(std::uint16_t, void*), void*) {
    log << "not implemented\n";
    return 1;
}

} // namespace tcpchat::conformance
