package io.libsock;

/** The lowest TLS version a side accepts. */
public enum TlsVersion {
    /** TLS 1.2 and 1.3 (the default). */
    V1_2("1.2"),
    /** TLS 1.3 only. */
    V1_3("1.3");

    private final String text;

    TlsVersion(String text) {
        this.text = text;
    }

    /** The version as core reads it ("1.2", "1.3"). */
    String text() {
        return text;
    }
}
