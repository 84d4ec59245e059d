// A C++ program built against an installed libsock (libsock.hpp over libsock.so):
//   app_cpp PORT   connects to 127.0.0.1:PORT (an echo peer), sends a line, reads it back.
// Prints "app_cpp: ok (libsock VERSION)" and exits 0 when the echo came back equal.
#include <libsock.hpp>

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " PORT\n";
        return 2;
    }
    const std::string msg = "hello from C++ and an installed libsock\n";
    try {
        auto conn = libsock::TcpConnection::connect(std::string("127.0.0.1:") + argv[1], 5000);
        conn.send_all(msg);
        std::vector<uint8_t> back = conn.recv_exact(msg.size(), 10000);
        if (std::string(back.begin(), back.end()) != msg) {
            std::cerr << "app_cpp: the echo differs\n";
            return 1;
        }
    } catch (const libsock::error &e) {
        std::cerr << "app_cpp: " << e.what() << "\n";
        return 1;
    }
    std::cout << "app_cpp: ok (libsock " << libsock::version() << ")\n";
    return 0;
}
