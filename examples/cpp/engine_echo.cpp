// An event-driven echo server with three long-lived clients on libsock's engine (C++ door):
// the server thread pulls events and echoes; each client sends and reads its echoes back.
// Build: c++ -std=c++17 engine_echo.cpp $(pkg-config --cflags --libs libsock) -lpthread
#include <libsock.hpp>

#include <iostream>
#include <thread>
#include <vector>

int main() {
    try {
        libsock::EngineConfig cfg;
        cfg.heartbeat(500).framing_delimited("\n"); // lines, with a heartbeat every 500 ms
        libsock::Server server = libsock::Server::listen("127.0.0.1:0", &cfg);
        const std::string address = "127.0.0.1:" + std::to_string(server.local_port());

        std::thread loop([&server] {
            libsock::Event ev;
            try {
                while (server.next_event(ev)) // until shutdown: closed_error ends the loop
                    if (ev.kind == LS_EVENT_MESSAGE) server.send(ev.client, "echo: " + ev.text());
            } catch (const libsock::closed_error &) {
            }
        });

        std::vector<libsock::Client> clients;
        for (int i = 0; i < 3; i++) {
            clients.push_back(libsock::Client::connect(address, &cfg));
            clients.back().send("hello from client " + std::to_string(i));
        }
        for (auto &c : clients) {
            libsock::Event ev;
            while (c.next_event(ev, 5000) && ev.kind != LS_EVENT_MESSAGE) {
            }
            std::cout << ev.text() << "\n";
        }
        for (auto &c : clients) c.close(1000);
        server.shutdown(1000);
        loop.join();
    } catch (const libsock::error &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    libsock::shutdown_engine();
    return 0;
}
