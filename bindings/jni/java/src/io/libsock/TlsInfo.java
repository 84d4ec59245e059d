package io.libsock;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a TLS handshake agreed on ({@link TcpConnection#tlsInfo()}): the protocol version, the
 * cipher suite, the ALPN protocol and the peer's certificates.
 */
public final class TlsInfo {
    private final String version;
    private final String cipher;
    private final String alpn;
    private final byte[][] peerCertificates;

    /** Made by the native library. */
    TlsInfo(String version, String cipher, String alpn, byte[][] peerCertificates) {
        this.version = version;
        this.cipher = cipher;
        this.alpn = alpn;
        this.peerCertificates = peerCertificates;
    }

    /**
     * The protocol version.
     *
     * @return {@code "TLSv1.3"} or {@code "TLSv1.2"}
     */
    public String version() {
        return version;
    }

    /**
     * The cipher suite's IANA name.
     *
     * @return e.g. {@code "TLS13_AES_256_GCM_SHA384"}
     */
    public String cipher() {
        return cipher;
    }

    /**
     * The ALPN protocol both sides agreed on.
     *
     * @return the protocol, or null when none was agreed on
     */
    public String alpn() {
        return alpn;
    }

    /**
     * The peer's certificate (DER): the server's on a client, the client's on a server when it
     * sent one.
     *
     * @return a copy of the DER bytes, or null when the peer sent none
     */
    public byte[] peerCertificate() {
        return peerCertificates.length == 0 ? null : peerCertificates[0].clone();
    }

    /**
     * The peer's whole chain (DER), its own certificate first.
     *
     * @return copies of the certificates; empty when the peer sent none
     */
    public List<byte[]> peerCertificates() {
        List<byte[]> out = new ArrayList<>(peerCertificates.length);
        for (byte[] c : peerCertificates) {
            out.add(c.clone());
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The SHA-256 fingerprint of the peer's certificate: what {@link TlsClientConfig#pin} takes.
     *
     * @return 64 lowercase hex digits, or null when the peer sent no certificate
     * @throws IOException if the native library fails
     */
    public String peerFingerprint() throws IOException {
        return peerCertificates.length == 0 ? null : Tls.fingerprint(peerCertificates[0]);
    }

    /**
     * A description: version, cipher and ALPN.
     *
     * @return text
     */
    @Override
    public String toString() {
        return "TlsInfo[" + version + ", " + cipher + (alpn == null ? "" : ", alpn " + alpn) + "]";
    }
}
