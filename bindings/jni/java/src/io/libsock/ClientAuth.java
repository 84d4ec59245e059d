package io.libsock;

/** Which client certificates a TLS server asks for ({@link TlsServerConfig#clientAuth}). */
public enum ClientAuth {
    /** None (the default). */
    NONE,
    /** Asked for and verified when sent; clients without one are accepted too. */
    OPTIONAL,
    /** Required and verified: a client without one fails its handshake. */
    REQUIRED
}
