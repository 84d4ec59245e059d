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
public final class TlsClientConfig extends TlsConfig {
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

    /**
     * Present this certificate chain and key when the server asks for one (mutual TLS).
     *
     * @param certificatePath PEM file of the certificate chain, the client's own first
     * @param keyPath PEM file of the private key (PKCS#8, PKCS#1 or SEC1)
     * @return this
     * @throws IoException if a file cannot be read
     * @throws InvalidArgumentException if they hold no certificate or key
     * @throws IOException on other failures
     */
    public TlsClientConfig certFiles(String certificatePath, String keyPath) throws IOException {
        setCert(certificatePath, keyPath, true);
        return this;
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
    public TlsClientConfig certPem(String certificatePem, String keyPem) throws IOException {
        setCert(certificatePem, keyPem, false);
        return this;
    }

    /**
     * Offer these ALPN protocols, most preferred first.
     *
     * @param protocols e.g. {@code "h2", "http/1.1"}
     * @return this
     * @throws InvalidArgumentException if one is empty or longer than 255 bytes
     * @throws IOException on other failures
     */
    public TlsClientConfig alpn(String... protocols) throws IOException {
        setAlpn(protocols);
        return this;
    }

    /**
     * The lowest version accepted (default {@link TlsVersion#V1_2}).
     *
     * @param version the version
     * @return this
     * @throws IOException if the configuration is closed
     */
    public TlsClientConfig minVersion(TlsVersion version) throws IOException {
        setMinVersion(version);
        return this;
    }

    /**
     * How long the handshake may take (default 10 s); it completes before {@code connect}
     * returns, and a silent server gives a {@link TimeoutException}.
     *
     * @param millis milliseconds, at least 1
     * @return this
     * @throws InvalidArgumentException for 0 or less
     * @throws IOException on other failures
     */
    public TlsClientConfig handshakeTimeout(int millis) throws IOException {
        setHandshakeTimeout(millis);
        return this;
    }

    /**
     * Write the session keys to the file named by the {@code SSLKEYLOGFILE} environment
     * variable (when set), so that a capture can be decrypted with Wireshark.
     *
     * @param on the setting
     * @return this
     * @throws IOException if the configuration is closed
     */
    public TlsClientConfig keylog(boolean on) throws IOException {
        setKeylog(on);
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
