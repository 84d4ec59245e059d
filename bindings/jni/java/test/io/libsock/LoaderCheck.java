package io.libsock;

/**
 * Prints where {@link NativeLoader} found libsock_jni and the library's version, for
 * .ci/suites/50-java.sh, which runs it from the jar alone, with {@code -Djava.library.path} and
 * with {@code -Dio.libsock.library}, and checks the answer each time.
 */
public final class LoaderCheck {
    private LoaderCheck() {}

    /**
     * Loads the library through the public API and prints "loaded from SOURCE, libsock VERSION".
     *
     * @param args unused
     */
    public static void main(String[] args) {
        String version = Libsock.version();
        System.out.println("loaded from " + NativeLoader.source() + ", libsock " + version);
    }
}
