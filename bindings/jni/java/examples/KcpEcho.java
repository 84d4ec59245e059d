import io.libsock.Event;
import io.libsock.EventKind;
import io.libsock.KcpOptions;
import io.libsock.KcpServer;
import io.libsock.KcpServerOptions;
import io.libsock.KcpSession;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * KCP (reliable UDP): an echo {@link KcpServer} pulled by one Java thread, and a blocking
 * {@link KcpSession} that sends 100 messages and checks every echo. Run by CI
 * (.ci/suites/50-java.sh); prints {@code KcpEcho: ok} at the end.
 *
 * <pre>
 * java -cp libsock.jar:examples KcpEcho
 * </pre>
 */
public final class KcpEcho {
    private KcpEcho() {}

    /**
     * Runs the example.
     *
     * @param args unused
     * @throws Exception on any failure
     */
    public static void main(String[] args) throws Exception {
        KcpOptions kcp = new KcpOptions().withNodelay(2).withInterval(10).withSendWindow(128);
        try (KcpServer server = KcpServer.bind("127.0.0.1:0",
                new KcpServerOptions().withKcp(kcp).withIdleTimeout(30_000))) {
            System.out.println("KcpEcho: serving on " + server.localAddress());
            Thread echo = new Thread(() -> {
                try {
                    while (true) {
                        for (Event e : server.events(64, 500)) {
                            if (e.kind() == EventKind.MESSAGE) {
                                server.send(e.client(), e.data());
                            } else if (e.kind() == EventKind.CLOSED) {
                                return;
                            }
                        }
                    }
                } catch (Exception done) {
                    // closed
                }
            }, "kcp-echo");
            echo.start();
            try (KcpSession s = KcpSession.connect("127.0.0.1:" + server.localPort(), kcp, -1)) {
                s.setTimeout(10_000);
                for (int i = 0; i < 100; i++) {
                    byte[] m = ("message " + i).getBytes(StandardCharsets.UTF_8);
                    s.send(m);
                    if (!Arrays.equals(m, s.recv())) {
                        throw new AssertionError("echo " + i + " differs");
                    }
                }
                s.flush();
                System.out.println("KcpEcho: session conv " + s.conv() + ", " + s.stats());
            }
            System.out.println("KcpEcho: server " + server.stats());
            server.shutdown(0);
            echo.join(10_000);
        }
        System.out.println("KcpEcho: ok");
    }
}
