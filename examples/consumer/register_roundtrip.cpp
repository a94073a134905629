// Encodes a REGISTER with the installed codec, decodes the bytes back and prints both; exits 1
// if the decoded value is not the one encoded. Also built alone with pkg-config:
//   c++ -std=c++20 register_roundtrip.cpp $(pkg-config --cflags --libs tcpchat-codec)
#include <iostream>
#include <string>
#include <string_view>
#include <tcpchat/codec.hpp>
#include <variant>

int main() {
    const tcpchat::Register sent{{"user1", "127.0.0.1", 3000}};
    std::string wire;
    if (const std::error_code ec = tcpchat::encode(sent, wire)) {
        std::cerr << "encode: " << ec.message() << "\n";
        return 1;
    }
    std::cout << "encoded " << wire.size() << " bytes:\n";
    for (std::string_view rest = wire; !rest.empty();) {
        const auto end = rest.find("\r\n");
        std::cout << "  " << rest.substr(0, end) << "\\r\\n\n";
        rest.remove_prefix(end + 2);
    }

    const tcpchat::Decoded decoded = tcpchat::decode(tcpchat::Context::request, wire);
    if (!decoded) {
        std::cerr << "decode: " << decoded.error() << "\n";
        return 1;
    }
    const auto* received = std::get_if<tcpchat::Register>(&decoded.value());
    if (received == nullptr || !(*received == sent)) {
        std::cerr << "decoded something else\n";
        return 1;
    }
    std::cout << "decoded " << *received << "\n";
    return 0;
}
