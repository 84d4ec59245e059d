// libsock from C++: a length-prefixed echo server on a thread and a client talking to it.
//
//   c++ -std=c++17 examples/cpp/echo.cpp $(pkg-config --cflags --libs libsock) -lpthread -o echo
//
// Objects close themselves (RAII); failures throw libsock::error (a std::system_error).
#include <libsock.hpp>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main() {
    std::cout << "libsock " << libsock::version() << "\n";
    auto listener = libsock::Listener::listen("127.0.0.1:0");
    listener.set_framing_length(4); // accepted connections get 4-byte big-endian length headers
    const std::string address = listener.local_address();

    std::thread server([&listener] {
        auto conn = listener.accept(5000);
        try {
            for (;;) conn.send_msg(conn.recv_msg()); // echo every message, boundaries kept
        } catch (const libsock::closed_error &) {
            // the client finished
        }
    });

    {
        auto client = libsock::TcpConnection::connect(address, 5000);
        client.set_framing_length(4);
        const std::vector<std::string> messages = {"hello", "", std::string(100000, 'x')};
        for (const std::string &msg : messages) {
            client.send_msg(msg);
            std::string back = client.recv_msg_string(2000);
            std::cout << "sent " << msg.size() << " bytes, got " << back.size() << " back"
                      << (back == msg ? " (equal)" : " (DIFFERENT)") << "\n";
        }
    } // the client closes here, which ends the server's loop
    server.join();

    try {
        libsock::TcpConnection::connect("127.0.0.1:1", 1000);
    } catch (const libsock::error &e) {
        std::cout << "as expected: " << e.what() << " [" << e.code() << "]\n";
    }
    return 0;
}
