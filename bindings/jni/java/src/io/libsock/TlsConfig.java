package io.libsock;

import java.io.IOException;

/**
 * TLS settings for one side of a connection: {@link #client()} for {@link TcpConnection#connect}
 * (through {@link ConnectOptions#withTls}) and {@link Client#connect}, {@link #server()} for
 * {@link Listener#listen} (through {@link ListenOptions#withTls}) and {@link Server#listen}.
 *
 * <p>Each setter applies at once and returns this object, so settings chain; a bad value (a
 * malformed pin, PEM holding no certificate, a file that cannot be read) throws from the setter
 * it was given to. The configuration is built once, when a connection or listener first uses
 * it, and shared by every later one; changing a setting afterwards applies to connections made
 * from then on. One configuration may be used by many connections and threads at once.
 *
 * <p>The settings both sides have are here ({@code T} is the side's class, so that chains keep
 * it); {@link TlsClientConfig} and {@link TlsServerConfig} add their own.
 *
 * <p>A configuration holds native memory: close it (try-with-resources) when no connection will
 * be made with it any more. Connections already made keep working after it is closed; using a
 * closed configuration throws {@link BadHandleException}. An unreachable one is closed by the
 * same safety net as every other libsock object.
 *
 * <pre>{@code
 * try (TlsClientConfig tls = TlsConfig.client().caFile("ca.pem").alpn("x-echo");
 *      TcpConnection c = TcpConnection.connect("device.local:7000",
 *              new ConnectOptions().withTls(tls))) {
 *     TlsInfo info = c.tlsInfo();                  // version, cipher, ALPN, peer certificate
 * }
 * }</pre>
 */
public abstract class TlsConfig<T extends TlsConfig<T>> implements AutoCloseable {
    final NativeHandle handle;

    TlsConfig(boolean server) throws IOException {
        Native.init();
        handle = new NativeHandle(this, Native.tlsNew(server));
    }

    /**
     * A client's settings: trust the system's roots, check the name connected to (an IP
     * address against the certificate's IP addresses), TLS 1.2 and 1.3, 10 s handshake.
     *
     * @return a new client configuration
     * @throws IOException if the native library fails
     */
    public static TlsClientConfig client() throws IOException {
        return new TlsClientConfig();
    }

    /**
     * A server's settings: give it a certificate and key ({@link TlsServerConfig#certFiles} or
     * {@link TlsServerConfig#certPem}); no client certificates asked for, TLS 1.2 and 1.3, 10 s
     * handshake.
     *
     * @return a new server configuration
     * @throws IOException if the native library fails
     */
    public static TlsServerConfig server() throws IOException {
        return new TlsServerConfig();
    }

    /** The handle for native calls. */
    long id() {
        return handle.id();
    }

    /**
     * Builds the configuration now, as the first connection or listener using it would, so
     * that one that cannot work (a server without a certificate, a key that does not match its
     * certificate) fails here.
     *
     * @throws InvalidArgumentException if the settings cannot make a configuration
     * @throws IOException on other failures
     */
    public void check() throws IOException {
        Native.tlsBuild(handle.id());
    }

    /**
     * True once {@link #close()} was called.
     *
     * @return whether closed
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /**
     * Frees the native settings. Idempotent; connections made with them keep working.
     */
    @Override
    public void close() {
        handle.close();
    }

    // ---- settings both sides have

    /**
     * The certificate chain and private key: a server's certificate (served to clients that
     * ask for no name {@link TlsServerConfig#sniCertFiles} knows), or a client's for mutual
     * TLS (presented when the server asks).
     *
     * @param certificatePath PEM file of the chain, the own certificate first
     * @param keyPath PEM file of the private key (PKCS#8, PKCS#1 or SEC1)
     * @return this
     * @throws IoException if a file cannot be read
     * @throws InvalidArgumentException if they hold no certificate or key
     * @throws IOException on other failures
     */
    public T certFiles(String certificatePath, String keyPath) throws IOException {
        Native.tlsCert(handle.id(), null, nonNull(certificatePath, "certificate"),
                nonNull(keyPath, "key"), true);
        return self();
    }

    /**
     * {@link #certFiles} from PEM text (e.g. from {@link Tls#selfSigned}).
     *
     * @param certificatePem the certificate chain
     * @param keyPem the private key
     * @return this
     * @throws InvalidArgumentException if they hold no certificate or key
     * @throws IOException on other failures
     */
    public T certPem(String certificatePem, String keyPem) throws IOException {
        Native.tlsCert(handle.id(), null, nonNull(certificatePem, "certificate"),
                nonNull(keyPem, "key"), false);
        return self();
    }

    /**
     * ALPN protocols, most preferred first: a client offers them, a server accepts the
     * client's first one that is here.
     *
     * @param protocols e.g. {@code "h2", "http/1.1"}
     * @return this
     * @throws InvalidArgumentException if one is empty or longer than 255 bytes
     * @throws IOException on other failures
     */
    public T alpn(String... protocols) throws IOException {
        if (protocols == null) {
            throw new NullPointerException("protocols is null");
        }
        Native.tlsAlpn(handle.id(), protocols.clone());
        return self();
    }

    /**
     * The lowest version accepted (default {@link TlsVersion#V1_2}).
     *
     * @param version the version
     * @return this
     * @throws IOException if the configuration is closed
     */
    public T minVersion(TlsVersion version) throws IOException {
        Native.tlsMinVersion(handle.id(), nonNull(version, "version").text());
        return self();
    }

    /**
     * How long a handshake may take (default 10 s). It completes before {@code connect} or
     * {@code accept} returns; a silent peer gives a {@link TimeoutException}.
     *
     * @param millis milliseconds, at least 1
     * @return this
     * @throws InvalidArgumentException for 0 or less
     * @throws IOException on other failures
     */
    public T handshakeTimeout(int millis) throws IOException {
        Native.tlsHandshakeTimeout(handle.id(), millis);
        return self();
    }

    /**
     * Write the session keys to the file named by the {@code SSLKEYLOGFILE} environment
     * variable (when set), so that a capture can be decrypted with Wireshark.
     *
     * @param on the setting
     * @return this
     * @throws IOException if the configuration is closed
     */
    public T keylog(boolean on) throws IOException {
        Native.tlsKeylog(handle.id(), on);
        return self();
    }

    /** This object as its own type, for chaining. */
    abstract T self();

    static <V> V nonNull(V value, String what) {
        if (value == null) {
            throw new NullPointerException(what + " is null");
        }
        return value;
    }
}
