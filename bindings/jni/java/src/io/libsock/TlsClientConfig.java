package io.libsock;

import java.io.IOException;

/**
 * The TLS settings of a client (made by {@link TlsConfig#client()}). Whom to trust, by default
 * the system's roots, is one of: {@link #caFile}/{@link #caPem} (your own CA),
 * {@link #bundledRoots()} or {@link #pin} (the SHA-256 fingerprint of the server's certificate
 * or public key: the safe way to trust a self-signed device). Turning verification off exists
 * only as {@link #dangerousNoVerify()}.
 *
 * <pre>{@code
 * TlsClientConfig tls = TlsConfig.client()
 *         .pin("3f:a1:...")                       // or .caFile("ca.pem")
 *         .serverName("device.local")             // default: the host connected to
 *         .alpn("x-echo")
 *         .minVersion(TlsVersion.V1_3)
 *         .handshakeTimeout(5000);
 * }</pre>
 */
public final class TlsClientConfig extends TlsConfig<TlsClientConfig> {
    TlsClientConfig() throws IOException {
        super(false);
    }

    /**
     * Trust the CA certificates in a PEM file (instead of the system's roots).
     *
     * @param path the file
     * @return this
     * @throws IoException if the file cannot be read
     * @throws InvalidArgumentException if it holds no PEM certificate
     * @throws IOException on other failures
     */
    public TlsClientConfig caFile(String path) throws IOException {
        Native.tlsCa(handle.id(), nonNull(path, "path"), true);
        return this;
    }

    /**
     * Trust the CA certificates in PEM text (instead of the system's roots).
     *
     * @param pem one or more {@code CERTIFICATE} blocks
     * @return this
     * @throws InvalidArgumentException if it holds no PEM certificate
     * @throws IOException on other failures
     */
    public TlsClientConfig caPem(String pem) throws IOException {
        Native.tlsCa(handle.id(), nonNull(pem, "pem"), false);
        return this;
    }

    /**
     * Trust the Mozilla roots bundled with libsock (for systems without a usable store).
     *
     * @return this
     * @throws IOException if the configuration is closed
     */
    public TlsClientConfig bundledRoots() throws IOException {
        Native.tlsBundledRoots(handle.id());
        return this;
    }

    /**
     * Trust only a server whose certificate, or its public key, has this SHA-256 fingerprint
     * (64 hex digits, colons allowed: {@link Tls#fingerprint(String)}, {@link TlsInfo#peerFingerprint()}).
     * Call again to allow several (e.g. during a key change). No CA, name or date is checked:
     * the pin is the identity.
     *
     * @param sha256 the fingerprint
     * @return this
     * @throws InvalidArgumentException if it is not 64 hex digits
     * @throws IOException on other failures
     */
    public TlsClientConfig pin(String sha256) throws IOException {
        Native.tlsPin(handle.id(), nonNull(sha256, "sha256"));
        return this;
    }

    /**
     * Do not verify the server at all: anyone on the path can read and change the traffic.
     * For tests only; libsock says so on stderr once per process. To trust a self-signed
     * server, {@link #pin} its fingerprint instead.
     *
     * @return this
     * @throws IOException if the configuration is closed
     */
    public TlsClientConfig dangerousNoVerify() throws IOException {
        Native.tlsDangerousNoVerify(handle.id());
        return this;
    }

    /**
     * The name sent in SNI and checked in the certificate (default: the host connected to).
     *
     * @param name a host name or IP address
     * @return this
     * @throws InvalidArgumentException if it is empty
     * @throws IOException on other failures
     */
    public TlsClientConfig serverName(String name) throws IOException {
        Native.tlsServerName(handle.id(), nonNull(name, "name"));
        return this;
    }

    @Override
    TlsClientConfig self() {
        return this;
    }

    /**
     * A description.
     *
     * @return text
     */
    @Override
    public String toString() {
        return isClosed() ? "TlsClientConfig[closed]" : "TlsClientConfig[" + id() + "]";
    }
}
