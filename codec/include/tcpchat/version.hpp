#pragma once

#include <string_view>

namespace tcpchat {

inline constexpr std::string_view protocol_version = "1.0"; // spec/tcp-chat.md
inline constexpr std::string_view project_version = "1.0.0";

} // namespace tcpchat
