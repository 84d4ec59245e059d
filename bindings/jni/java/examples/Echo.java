import io.libsock.ClosedException;
import io.libsock.ConnectOptions;
import io.libsock.Framing;
import io.libsock.ListenOptions;
import io.libsock.Listener;
import io.libsock.TcpConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A length-prefixed echo server and client with io.libsock.
 *
 * <pre>
 * java Echo                      # demo: server and client in one process, prints the replies
 * java Echo serve 7000           # echo server on 0.0.0.0:7000, one thread per client
 * java Echo send host:7000 a b   # send messages "a", "b" and print the echoes
 * </pre>
 *
 * Every message travels with a 4-byte big-endian length in front, so messages arrive whole and
 * separate however TCP cuts the stream.
 */
public final class Echo {
    private Echo() {}

    /**
     * Serves clients until the listener is closed.
     *
     * @param listener the listening socket
     */
    static void serve(Listener listener) {
        while (true) {
            TcpConnection c;
            try {
                c = listener.accept();
            } catch (ClosedException e) {
                return; // listener closed: stop serving
            } catch (IOException e) {
                System.err.println("accept: " + e.getMessage());
                continue;
            }
            Thread t = new Thread(() -> {
                try (TcpConnection conn = c) {
                    while (true) {
                        conn.sendMsg(conn.recvMsg());
                    }
                } catch (ClosedException e) {
                    // the client finished
                } catch (IOException e) {
                    System.err.println("client: " + e.getMessage());
                }
            });
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * Sends each message and prints its echo.
     *
     * @param endpoint the server, "host:port"
     * @param messages the messages
     * @throws IOException on failure
     */
    static void send(String endpoint, String... messages) throws IOException {
        ConnectOptions o = new ConnectOptions()
                .withConnectTimeout(5000)
                .withTimeout(5000)
                .withFraming(Framing.lengthPrefixed());
        try (TcpConnection c = TcpConnection.connect(endpoint, o)) {
            for (String m : messages) {
                c.sendMsg(m.getBytes(StandardCharsets.UTF_8));
                System.out.println("echo: " + new String(c.recvMsg(), StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * Runs the demo, a server or a client (see the class comment).
     *
     * @param args the mode and its arguments
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        ListenOptions lo = new ListenOptions().withFraming(Framing.lengthPrefixed());
        if (args.length >= 2 && args[0].equals("serve")) {
            try (Listener l = Listener.listen("0.0.0.0", Integer.parseInt(args[1]), lo)) {
                System.out.println("echo server on " + l.localAddress());
                serve(l);
            }
            return;
        }
        if (args.length >= 2 && args[0].equals("send")) {
            String[] msgs = new String[args.length - 2];
            System.arraycopy(args, 2, msgs, 0, msgs.length);
            send(args[1], msgs);
            return;
        }
        Listener l = Listener.listen("127.0.0.1:0", lo);
        Thread server = new Thread(() -> serve(l));
        server.start();
        try {
            send(l.localAddress(), "hello", "", "sticky packets are a thing of the past");
        } finally {
            l.close(); // a blocked accept() returns ClosedException: the server thread ends
        }
        server.join(5000);
        if (server.isAlive()) {
            throw new IllegalStateException("server thread did not stop");
        }
        System.out.println("Echo: ok");
    }
}
