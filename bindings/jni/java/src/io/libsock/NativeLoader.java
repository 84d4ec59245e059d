package io.libsock;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Finds and loads the native library {@code libsock_jni} (package-private; {@link Native} calls
 * it once). The places, in order:
 * <ol>
 * <li>the system property {@code io.libsock.library}: an absolute path, loaded with
 * {@link System#load};</li>
 * <li>{@link System#loadLibrary}{@code ("libsock_jni")}: {@code java.library.path} on a desktop
 * JVM, the APK's {@code lib/<abi>/} on Android;</li>
 * <li>the copy inside the jar, {@code natives/<os>-<arch>/<file>} (for example
 * {@code natives/linux-x86_64/liblibsock_jni.so}), extracted to a new private temporary directory
 * and loaded from there.</li>
 * </ol>
 * When none of them works the error names every place that was tried.
 */
final class NativeLoader {
    /** The library's base name, as {@link System#loadLibrary} takes it. */
    static final String NAME = "libsock_jni";

    /** Where the library was loaded from: "property", "java.library.path" or "jar:PATH". */
    private static String source;

    private NativeLoader() {}

    /** How the library was loaded (after {@link #load}): "property", "java.library.path" or "jar:RESOURCE". */
    static synchronized String source() {
        return source;
    }

    /** The folder of this platform inside the jar: "natives/linux-x86_64" and so on. */
    static String platformDirectory() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "macos";
        } else if (os.startsWith("windows")) {
            os = "windows";
        } else {
            os = os.replaceAll("[^a-z0-9]", "");
        }
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        } else if (arch.equals("aarch64") || arch.equals("arm64")) {
            arch = "aarch64";
        } else if (arch.equals("x86") || arch.matches("i[3-6]86")) {
            arch = "x86";
        }
        return "natives/" + os + "-" + arch;
    }

    /** Loads the library (once); throws {@link UnsatisfiedLinkError} naming every place tried. */
    static synchronized void load() {
        if (source != null) {
            return;
        }
        String path = System.getProperty("io.libsock.library");
        if (path != null && !path.isEmpty()) {
            // An explicit choice is final: no fallback that would hide a wrong path.
            System.load(path);
            source = "property";
            return;
        }
        UnsatisfiedLinkError fromPath;
        try {
            System.loadLibrary(NAME);
            source = "java.library.path";
            return;
        } catch (UnsatisfiedLinkError e) {
            fromPath = e;
        }
        String resource = platformDirectory() + "/" + System.mapLibraryName(NAME);
        try {
            loadFromJar(resource);
            source = "jar:" + resource;
        } catch (IOException | UnsatisfiedLinkError e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError("cannot load " + NAME
                    + ": not in java.library.path (" + fromPath.getMessage() + "), and the jar's "
                    + resource + " failed (" + e + "); set -Dio.libsock.library=/path/to/"
                    + System.mapLibraryName(NAME));
            error.initCause(e);
            throw error;
        }
    }

    /** Copies the resource into a private temporary directory and loads it from there. */
    private static void loadFromJar(String resource) throws IOException {
        InputStream in = NativeLoader.class.getClassLoader() == null
                ? ClassLoader.getSystemResourceAsStream(resource)
                : NativeLoader.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("the jar has no " + resource
                    + " (a jar built for another platform, or the classes without the jar)");
        }
        // createTempDirectory makes the directory readable by this user only (rwx------ where
        // the file system has POSIX permissions), so no one else can swap the file before it loads.
        Path dir = Files.createTempDirectory("libsock-jni-");
        Path file = dir.resolve(System.mapLibraryName(NAME));
        try {
            try (InputStream stream = in) {
                Files.copy(stream, file, StandardCopyOption.REPLACE_EXISTING);
            }
            System.load(file.toAbsolutePath().toString());
        } finally {
            // A loaded library stays mapped after its file is gone on Linux and macOS; Windows
            // keeps a loaded DLL's file locked, so there it goes when the JVM exits.
            if (!tryDelete(file) || !tryDelete(dir)) {
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            }
        }
    }

    private static boolean tryDelete(Path p) {
        try {
            Files.deleteIfExists(p);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
