package io.libsock;

import java.io.IOException;

/**
 * TLS helpers: a self-signed certificate for trying TLS in a minute (and for devices trusted by
 * their pin), and SHA-256 fingerprints, the pins {@link TlsClientConfig#pin} takes.
 *
 * <pre>{@code
 * Tls.SelfSigned cert = Tls.selfSigned("localhost", "127.0.0.1");
 * TlsServerConfig server = TlsConfig.server().certPem(cert.certPem(), cert.keyPem());
 * TlsClientConfig client = TlsConfig.client().pin(cert.fingerprint());
 * }</pre>
 */
public final class Tls {
    private Tls() {}

    /** A certificate and its private key, both PEM text. */
    public static final class SelfSigned {
        private final String certPem;
        private final String keyPem;

        SelfSigned(String certPem, String keyPem) {
            this.certPem = certPem;
            this.keyPem = keyPem;
        }

        /**
         * The certificate.
         *
         * @return PEM text (one {@code CERTIFICATE} block)
         */
        public String certPem() {
            return certPem;
        }

        /**
         * The private key: keep it secret.
         *
         * @return PEM text (PKCS#8)
         */
        public String keyPem() {
            return keyPem;
        }

        /**
         * The certificate's SHA-256 fingerprint, to pin it on clients.
         *
         * @return 64 lowercase hex digits
         * @throws IOException if the native library fails
         */
        public String fingerprint() throws IOException {
            return Tls.fingerprint(certPem);
        }

        /**
         * A description (never the key).
         *
         * @return text
         */
        @Override
        public String toString() {
            return "Tls.SelfSigned[certificate and key]";
        }
    }

    /**
     * A new self-signed certificate and key for {@code names}, which become its subject
     * alternative names (host names and IP addresses).
     *
     * @param names at least one host name or IP address
     * @return the certificate and key
     * @throws InvalidArgumentException if no name is given
     * @throws IOException on other failures
     */
    public static SelfSigned selfSigned(String... names) throws IOException {
        if (names == null) {
            throw new NullPointerException("names is null");
        }
        Native.init();
        String[] pair = Native.tlsSelfSigned(names.clone());
        return new SelfSigned(pair[0], pair[1]);
    }

    /**
     * The SHA-256 fingerprint of the first certificate in PEM text.
     *
     * @param pem PEM text holding a {@code CERTIFICATE} block
     * @return 64 lowercase hex digits
     * @throws InvalidArgumentException if it holds no certificate
     * @throws IOException on other failures
     */
    public static String fingerprint(String pem) throws IOException {
        Native.init();
        return Native.tlsFingerprint(TlsConfig.nonNull(pem, "pem"), null, false);
    }

    /**
     * The SHA-256 fingerprint of a DER certificate (e.g. {@link TlsInfo#peerCertificate()}).
     *
     * @param der the certificate
     * @return 64 lowercase hex digits
     * @throws IOException if the native library fails
     */
    public static String fingerprint(byte[] der) throws IOException {
        Native.init();
        return Native.tlsFingerprint(null, TlsConfig.nonNull(der, "der"), false);
    }

    /**
     * The SHA-256 fingerprint of a DER certificate's public key (its SubjectPublicKeyInfo): it
     * stays the same when the certificate is renewed with the same key, and
     * {@link TlsClientConfig#pin} takes it too.
     *
     * @param der the certificate
     * @return 64 lowercase hex digits
     * @throws InvalidArgumentException if it is not an X.509 certificate
     * @throws IOException on other failures
     */
    public static String publicKeyFingerprint(byte[] der) throws IOException {
        Native.init();
        return Native.tlsFingerprint(null, TlsConfig.nonNull(der, "der"), true);
    }
}
