package io.libsock;

import java.io.IOException;

/**
 * The TLS settings of a server (made by {@link TlsConfig#server()}): its certificate and key,
 * more certificates chosen by the name a client asks for (SNI), client certificates (mutual
 * TLS), ALPN, the lowest version and the handshake timeout.
 *
 * <pre>{@code
 * TlsServerConfig tls = TlsConfig.server()
 *         .certFiles("server.pem", "server.key")
 *         .clientAuthFile(ClientAuth.REQUIRED, "ca.pem");   // mutual TLS
 * }</pre>
 */
public final class TlsServerConfig extends TlsConfig<TlsServerConfig> {
    TlsServerConfig() throws IOException {
        super(true);
    }

    /**
     * Serve this chain and key to clients that ask for {@code name} by SNI.
     *
     * @param name the host name
     * @param certificatePath PEM file of the chain
     * @param keyPath PEM file of the key
     * @return this
     * @throws IoException if a file cannot be read
     * @throws InvalidArgumentException if they hold no certificate or key, or the name is empty
     * @throws IOException on other failures
     */
    public TlsServerConfig sniCertFiles(String name, String certificatePath, String keyPath)
            throws IOException {
        Native.tlsCert(handle.id(), nonNull(name, "name"), nonNull(certificatePath, "certificate"),
                nonNull(keyPath, "key"), true);
        return this;
    }

    /**
     * {@link #sniCertFiles} from PEM text.
     *
     * @param name the host name
     * @param certificatePem the chain
     * @param keyPem the key
     * @return this
     * @throws InvalidArgumentException if they hold no certificate or key, or the name is empty
     * @throws IOException on other failures
     */
    public TlsServerConfig sniCertPem(String name, String certificatePem, String keyPem)
            throws IOException {
        Native.tlsCert(handle.id(), nonNull(name, "name"), nonNull(certificatePem, "certificate"),
                nonNull(keyPem, "key"), false);
        return this;
    }

    /**
     * Which client certificates to ask for, checked against the CA certificates in PEM text.
     *
     * @param mode {@link ClientAuth#NONE}, {@link ClientAuth#OPTIONAL} or {@link ClientAuth#REQUIRED}
     * @param caPem the CAs that sign client certificates (may be null for {@code NONE})
     * @return this
     * @throws InvalidArgumentException if a CA is needed and missing, or holds no certificate
     * @throws IOException on other failures
     */
    public TlsServerConfig clientAuth(ClientAuth mode, String caPem) throws IOException {
        Native.tlsClientAuth(handle.id(), nonNull(mode, "mode").ordinal(), caPem, false);
        return this;
    }

    /**
     * {@link #clientAuth} with the CA certificates in a PEM file.
     *
     * @param mode {@link ClientAuth#NONE}, {@link ClientAuth#OPTIONAL} or {@link ClientAuth#REQUIRED}
     * @param caPath the CA file (may be null for {@code NONE})
     * @return this
     * @throws IoException if the file cannot be read
     * @throws InvalidArgumentException if a CA is needed and missing, or holds no certificate
     * @throws IOException on other failures
     */
    public TlsServerConfig clientAuthFile(ClientAuth mode, String caPath) throws IOException {
        Native.tlsClientAuth(handle.id(), nonNull(mode, "mode").ordinal(), caPath, true);
        return this;
    }

    @Override
    TlsServerConfig self() {
        return this;
    }

    /**
     * A description.
     *
     * @return text
     */
    @Override
    public String toString() {
        return isClosed() ? "TlsServerConfig[closed]" : "TlsServerConfig[" + id() + "]";
    }
}
