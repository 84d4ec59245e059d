import io.libsock.Client;
import io.libsock.ClientOptions;
import io.libsock.Event;
import io.libsock.EventKind;
import io.libsock.Server;
import io.libsock.ServerOptions;
import java.nio.charset.StandardCharsets;

/**
 * A multi-client echo server on libsock's engine, driven by one Java thread that pulls events,
 * and three io.libsock clients talking to it. Run by CI (.ci/suites/50-java.sh); prints
 * {@code EngineEcho: ok} at the end.
 *
 * <pre>
 * java -Djava.library.path=target/release -cp build:examples EngineEcho
 * </pre>
 */
public final class EngineEcho {
    private EngineEcho() {}

    /**
     * Runs the example.
     *
     * @param args unused
     * @throws Exception on any failure
     */
    public static void main(String[] args) throws Exception {
        ServerOptions so = new ServerOptions().withMaxClients(100).withHeartbeat(1000, 3);
        try (Server server = Server.listen("127.0.0.1:0", so)) {
            System.out.println("EngineEcho: listening on " + server.localAddress());

            // The server's event loop: one thread, batches of events, empty list on timeout.
            Thread loop = new Thread(() -> {
                try {
                    while (true) {
                        for (Event e : server.events(64, 1000)) {
                            switch (e.kind()) {
                                case CONNECTED:
                                    System.out.println("server: client " + e.client()
                                            + " connected from " + e.peer());
                                    break;
                                case MESSAGE:
                                    server.send(e.client(), e.data()); // echo
                                    break;
                                case DISCONNECTED:
                                    System.out.println("server: client " + e.client()
                                            + " left (" + e.reason() + ")");
                                    break;
                                case CLOSED:
                                    return;
                                default:
                                    break;
                            }
                        }
                    }
                } catch (Exception ex) {
                    System.out.println("server loop: " + ex);
                }
            }, "server-loop");
            loop.start();

            Client[] clients = new Client[3];
            for (int i = 0; i < clients.length; i++) {
                clients[i] = Client.connect(server.localAddress(), new ClientOptions());
            }
            for (int i = 0; i < clients.length; i++) {
                for (int m = 0; m < 5; m++) {
                    clients[i].send(("hello " + m + " from " + i)
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
            for (int i = 0; i < clients.length; i++) {
                int got = 0;
                long deadline = System.currentTimeMillis() + 10_000;
                while (got < 5 && System.currentTimeMillis() < deadline) {
                    Event e = clients[i].nextEvent(500);
                    if (e != null && e.kind() == EventKind.MESSAGE) {
                        String want = "hello " + got + " from " + i;
                        if (!want.equals(e.text())) {
                            throw new AssertionError("expected " + want + ", got " + e.text());
                        }
                        got++;
                    }
                }
                if (got != 5) {
                    throw new AssertionError("client " + i + " got " + got + " echoes");
                }
                clients[i].close(1000);
                clients[i].close();
            }
            System.out.println("server stats: " + server.stats());
            server.shutdown(1000); // the loop sees the last events, then CLOSED
            loop.join(10_000);
            if (loop.isAlive()) {
                throw new AssertionError("the server loop did not stop");
            }
        }
        System.out.println("EngineEcho: ok");
    }
}
