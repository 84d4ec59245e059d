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
public abstract class TlsConfig implements AutoCloseable {
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

    // ---- settings both sides have (each subclass returns itself, for chaining)

    void setCert(String certificate, String key, boolean files) throws IOException {
        Native.tlsCert(handle.id(), null, nonNull(certificate, "certificate"),
                nonNull(key, "key"), files);
    }

    void setAlpn(String... protocols) throws IOException {
        if (protocols == null) {
            throw new NullPointerException("protocols is null");
        }
        Native.tlsAlpn(handle.id(), protocols.clone());
    }

    void setMinVersion(TlsVersion version) throws IOException {
        Native.tlsMinVersion(handle.id(), nonNull(version, "version").text());
    }

    void setHandshakeTimeout(int millis) throws IOException {
        Native.tlsHandshakeTimeout(handle.id(), millis);
    }

    void setKeylog(boolean on) throws IOException {
        Native.tlsKeylog(handle.id(), on);
    }

    static <T> T nonNull(T value, String what) {
        if (value == null) {
            throw new NullPointerException(what + " is null");
        }
        return value;
    }
}
