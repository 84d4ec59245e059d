import io.libsock.ConnectOptions;
import io.libsock.Framing;
import io.libsock.ListenOptions;
import io.libsock.Listener;
import io.libsock.TcpConnection;
import io.libsock.Tls;
import io.libsock.TlsClientConfig;
import io.libsock.TlsConfig;
import io.libsock.TlsException;
import io.libsock.TlsInfo;
import io.libsock.TlsServerConfig;
import java.nio.charset.StandardCharsets;

/**
 * TLS with io.libsock in one minute: a self-signed certificate for the server, and a client
 * that trusts exactly that certificate by its SHA-256 pin (no CA, no turning verification off).
 * Run {@code java TlsEcho}; it prints what the handshake agreed on and the echoed message.
 */
public final class TlsEcho {
    private TlsEcho() {}

    /**
     * Runs the demo.
     *
     * @param args unused
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        Tls.SelfSigned cert = Tls.selfSigned("localhost", "127.0.0.1");
        String pin = cert.fingerprint();                        // give this to the clients
        try (TlsServerConfig serverTls = TlsConfig.server().certPem(cert.certPem(), cert.keyPem());
             Listener listener = Listener.listen("127.0.0.1:0", new ListenOptions()
                     .withTls(serverTls).withFraming(Framing.lengthPrefixed()))) {
            Thread server = new Thread(() -> {
                try (TcpConnection c = listener.accept(5000)) {  // handshake done when it returns
                    c.sendMsg(c.recvMsg());
                } catch (Exception e) {
                    System.err.println("server: " + e);
                }
            });
            server.start();

            try (TlsClientConfig tls = TlsConfig.client().pin(pin).handshakeTimeout(5000);
                 TcpConnection c = TcpConnection.connect("127.0.0.1:" + listener.localPort(),
                         new ConnectOptions().withTls(tls).withFraming(Framing.lengthPrefixed()))) {
                TlsInfo info = c.tlsInfo();
                System.out.println("tls: " + info.version() + " " + info.cipher());
                c.sendMsg("secret".getBytes(StandardCharsets.UTF_8));
                System.out.println("echo: " + new String(c.recvMsg(), StandardCharsets.UTF_8));
            } catch (TlsException e) {                          // unknown CA, pin mismatch ...
                System.err.println("TLS refused: " + e.getMessage());
                throw e;
            }
            server.join(10_000);
        }
        System.out.println("TlsEcho: ok");
    }
}
