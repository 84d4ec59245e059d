import io.libsock.Framing;
import io.libsock.TcpConnection;
import io.libsock.ConnectOptions;
import java.util.Arrays;
import java.util.Random;

/**
 * Interop peer: a Java client on io.libsock. Connects to 127.0.0.1:PORT, sends COUNT
 * 4-byte big-endian length-prefixed messages of random sizes 0-64 KiB (seed SEED), checks each
 * echo byte for byte, then prints "client: N messages, fnv=HEX" (FNV-1a 64 over every payload
 * byte sent) and exits 0; any mismatch or error exits 1.
 */
public final class InteropClient {
    private InteropClient() {}

    /**
     * Runs the client.
     *
     * @param args PORT COUNT SEED
     * @throws Exception on any failure
     */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int count = Integer.parseInt(args[1]);
        Random rnd = new Random(Long.parseLong(args[2]));
        long fnv = 0xcbf29ce484222325L;
        ConnectOptions opts = new ConnectOptions()
                .withConnectTimeout(10000)
                .withTimeout(30000)
                .withFraming(Framing.lengthPrefixed(4));
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", port, opts)) {
            for (int i = 0; i < count; i++) {
                byte[] msg = new byte[rnd.nextInt(65537)];
                rnd.nextBytes(msg);
                c.sendMsg(msg);
                byte[] back = c.recvMsg();
                if (!Arrays.equals(msg, back)) {
                    System.err.println("client: echo " + i + " differs (" + msg.length + " sent, "
                            + back.length + " back)");
                    System.exit(1);
                }
                for (byte b : msg) {
                    fnv ^= (b & 0xff);
                    fnv *= 0x100000001b3L;
                }
            }
        }
        System.out.printf("client: %d messages, fnv=%016x%n", count, fnv);
    }
}
