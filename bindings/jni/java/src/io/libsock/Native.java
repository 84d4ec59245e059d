package io.libsock;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The native methods of libsock_jni (package-private). Every socket object is a {@code long}
 * handle into the native library's table; handles are never reused, and a closed or unknown
 * handle throws {@link BadHandleException}, never crashes.
 */
final class Native {
    /**
     * The timeout argument meaning "use the object's default timeout": -2, as the C door's
     * {@code LS_TIMEOUT_DEFAULT} ({@link Libsock#TIMEOUT_DEFAULT}).
     */
    static final int DEFAULT = Libsock.TIMEOUT_DEFAULT;

    static {
        // The property io.libsock.library, then java.library.path, then the jar's own copy.
        NativeLoader.load();
    }

    private Native() {}

    /** Ensures the library is loaded (class initialisation does it). */
    static void init() {}

    /**
     * Called by the native code to throw the exception for a libsock error.
     */
    static void raise(int code, String message, long needed, int osError) throws IOException {
        throw make(code, message, needed, osError);
    }

    /** The exception for an error code: one class per code, named after it (docs/NAMES.md). */
    static IOException make(int code, String message, long needed, int osError) {
        switch (ErrorKind.fromCode(code)) {
            case TIMEOUT:
                return new TimeoutException(message, code, osError);
            case CONNECTION_REFUSED:
                return new ConnectionRefusedException(message, code, osError);
            case CONNECTION_RESET:
                return new ConnectionResetException(message, code, osError);
            case CONNECTION_ABORTED:
                return new ConnectionAbortedException(message, code, osError);
            case CLOSED:
                return new ClosedException(message, code, osError);
            case ADDR_IN_USE:
                return new AddrInUseException(message, code, osError);
            case ADDR_NOT_AVAILABLE:
                return new AddrNotAvailableException(message, code, osError);
            case UNREACHABLE:
                return new UnreachableException(message, code, osError);
            case RESOLVE:
                return new ResolveException(message, code, osError);
            case INVALID_ARGUMENT:
                return new InvalidArgumentException(message, code, osError);
            case FRAME_TOO_LARGE:
                return new FrameTooLargeException(message, code, osError);
            case BUFFER_TOO_SMALL:
                return new BufferTooSmallException(message, needed);
            case BAD_HANDLE:
                return new BadHandleException(message, code, osError);
            case QUEUE_FULL:
                return new QueueFullException(message, code, osError);
            case UNSUPPORTED:
                return new UnsupportedException(message, code, osError);
            case TLS:
                return new TlsException(message, code, osError);
            case IO:
                return new IoException(message, code, osError);
            case INTERNAL:
                return new InternalException(message, code, osError);
            case INTERRUPTED:
                return new LibsockInterruptedException(message, code, osError);
            case BAD_FRAME:
                return new BadFrameException(message, code, osError);
            default:
                return new LibsockException(message, code, osError);
        }
    }

    static native String version();

    /** Panics inside native code (tests only: the panic must arrive as an exception). */
    static native void selfTestPanic() throws IOException;

    static native void close(long h);

    static native void setOption(long h, int opt, long value) throws IOException;

    static native long getOption(long h, int opt) throws IOException;

    static native String localAddress(long h) throws IOException;

    static native int localPort(long h) throws IOException;

    static native String peerAddress(long h) throws IOException;

    static native int peerPort(long h) throws IOException;

    static native void setTimeout(long h, int ms) throws IOException;

    static native int getTimeout(long h) throws IOException;

    static native long bytesAvailable(long h) throws IOException;

    static native void setFraming(long h, int kind, int width, boolean bigEndian, int offset,
            int headerLen, long adjustment, long maxLen, int lengthBits, long flag, boolean keep,
            byte[] delimiter) throws IOException;

    static native long connect(String endpoint, String host, int port, int connectTimeoutMs,
            int timeoutMs, int[] optNums, long[] optValues, long tlsConfig, String proxy)
            throws IOException;

    static native int connSend(long h, byte[] b, int off, int len, int t) throws IOException;

    static native void connSendAll(long h, byte[] b, int off, int len, int t) throws IOException;

    static native void connSendAllDirect(long h, ByteBuffer b, int off, int len, int t)
            throws IOException;

    static native int connRecv(long h, byte[] b, int off, int len, int t) throws IOException;

    static native int connRecvDirect(long h, ByteBuffer b, int off, int len, int t)
            throws IOException;

    static native void connRecvExact(long h, byte[] b, int off, int len, int t)
            throws IOException;

    static native byte[] connRecvUntil(long h, byte[] delimiter, int max, int t)
            throws IOException;

    static native void connSendMsg(long h, byte[] b, int off, int len, int t) throws IOException;

    static native byte[] connRecvMsg(long h, int t) throws IOException;

    static native byte[][] connRecvMsgs(long h, int max, int t) throws IOException;

    static native int connRecvMsgInto(long h, byte[] b, int off, int len, int t)
            throws IOException;

    static native int connRecvMsgDirect(long h, ByteBuffer b, int off, int len, int t)
            throws IOException;

    static native void connShutdown(long h, int how) throws IOException;

    static native long connSendFile(long h, String path, long offset, long len, int t)
            throws IOException;

    static native long connRecvFile(long h, String path, long len, int t) throws IOException;

    static native long listen(String endpoint, String host, int port, int backlog,
            boolean reuseAddress, boolean reusePort, int connTimeoutMs, int[] optNums,
            long[] optValues, long tlsConfig) throws IOException;

    static native long accept(long h, int t) throws IOException;

    static native long dgramOpen(boolean connect, String endpoint, String host, int port,
            int timeoutMs, int[] optNums, long[] optValues) throws IOException;

    static native int dgramSend(long h, byte[] b, int off, int len, String to, int t)
            throws IOException;

    static native String dgramRecvFrom(long h, byte[] b, int off, int len, int t, long[] meta)
            throws IOException;

    static native void dgramMembership(long h, String group, String iface, boolean join)
            throws IOException;

    // ---------------------------------------------------------------- TLS (src/tls.rs)

    static native long tlsNew(boolean server) throws IOException;

    static native void tlsCa(long h, String pemOrPath, boolean file) throws IOException;

    static native void tlsBundledRoots(long h) throws IOException;

    static native void tlsPin(long h, String sha256) throws IOException;

    static native void tlsDangerousNoVerify(long h) throws IOException;

    static native void tlsServerName(long h, String name) throws IOException;

    static native void tlsCert(long h, String sniName, String chain, String key, boolean files)
            throws IOException;

    static native void tlsClientAuth(long h, int mode, String ca, boolean file)
            throws IOException;

    static native void tlsAlpn(long h, String[] protocols) throws IOException;

    static native void tlsMinVersion(long h, String version) throws IOException;

    static native void tlsHandshakeTimeout(long h, int ms) throws IOException;

    static native void tlsKeylog(long h, boolean on) throws IOException;

    static native void tlsBuild(long h) throws IOException;

    static native String[] tlsSelfSigned(String[] names) throws IOException;

    static native String tlsFingerprint(String pem, byte[] der, boolean publicKey)
            throws IOException;

    static native TlsInfo connTlsInfo(long h) throws IOException;

    static native boolean connIsTls(long h) throws IOException;

    // ---------------------------------------------------------------- engine (src/engine.rs)

    static native Event[] engineEvents(long h, int max, int t) throws IOException;

    /** {byte[] bodies back to back, long[] {client, length} per message}, or null for none. */
    static native Object[] engineMessages(long h, int max, int t) throws IOException;

    static native int enginePending(long h) throws IOException;

    static native String engineLocalAddress(long h) throws IOException;

    static native long[] engineStats(long h) throws IOException;

    static native void engineShutdown(long h, int graceMs) throws IOException;

    static native void engineShutdownAll() throws IOException;

    static native boolean engineSetThreads(int n) throws IOException;

    /** Core's check of one engine setting ({@link ConfigKey} number, value). */
    static native void engineSettingCheck(int key, long value) throws IOException;

    static native long serverBind(String endpoint, int[] keys, long[] values, long[] framing,
            byte[] delimiter, byte[] ping, byte[] pong, int[] optNums, long[] optValues,
            long tlsConfig) throws IOException;

    static native void serverSend(long h, long client, byte[] b, int off, int len)
            throws IOException;

    static native int serverSendMany(long h, long[] clients, byte[] b, int off, int len)
            throws IOException;

    static native int serverBroadcast(long h, byte[] b, int off, int len, long except)
            throws IOException;

    static native void serverDisconnect(long h, long client, boolean graceful)
            throws IOException;

    static native long[] serverClients(long h) throws IOException;

    static native String serverClientAddress(long h, long client) throws IOException;

    static native long serverQueuedBytes(long h, long client) throws IOException;

    static native long clientConnect(String endpoint, int[] keys, long[] values, long[] framing,
            byte[] delimiter, byte[] ping, byte[] pong, int[] optNums, long[] optValues,
            long tlsConfig, String proxy) throws IOException;

    static native void clientSend(long h, byte[] b, int off, int len) throws IOException;

    static native boolean clientIsConnected(long h) throws IOException;

    static native long dgramServerBind(String endpoint, int[] keys, long[] values,
            int[] optNums, long[] optValues) throws IOException;

    static native int dgramServerSendTo(long h, String peer, byte[] b, int off, int len)
            throws IOException;

    static native String dgramServerConnect(long h, String peer) throws IOException;

    static native int dgramServerSend(long h, byte[] b, int off, int len) throws IOException;

    // Issue 16: batch sends, descriptors, multicast interface, proxies, notify descriptor,
    // per-client statistics, file transfer, KCP.

    static native void connSendMsgs(long h, byte[][] msgs, int t) throws IOException;

    static native void connSendFds(long h, byte[] b, int off, int len, int[] fds, int t)
            throws IOException;

    static native Object[] connRecvFds(long h, int maxBytes, int maxFds, int t)
            throws IOException;

    static native long[] connPeerCredentials(long h) throws IOException;

    static native Object[] connStats(long h) throws IOException;

    static native void dgramSetMulticastInterface(long h, String iface) throws IOException;

    static native void proxyCheck(String url) throws IOException;

    static native int fdOf(java.io.FileDescriptor fd) throws IOException;

    static native java.io.FileDescriptor fdObject(int fd) throws IOException;

    static native void fdClose(int fd) throws IOException;

    static native int clientSendBatch(long h, byte[][] msgs, int t) throws IOException;

    static native int serverSendBatch(long h, long client, byte[][] msgs, int t)
            throws IOException;

    static native Object[] serverClientStats(long h, long client) throws IOException;

    static native int engineNotifyFd(long h) throws IOException;

    static native long transferSender(String path, String name, boolean resume)
            throws IOException;

    static native long transferReceiver(String dest, boolean overwrite, boolean resume)
            throws IOException;

    static native int transferStep(long h, long conn) throws IOException;

    static native void transferRun(long h, long conn) throws IOException;

    static native long[] transferProgress(long h) throws IOException;

    static native void transferCancel(long h) throws IOException;

    static native Object[] transferInfo(long h) throws IOException;

    static native void kcpCheck(long[] kcp) throws IOException;

    static native long kcpServerBind(String endpoint, long[] kcp, long[] server, int[] optNums,
            long[] optValues) throws IOException;

    static native void kcpServerSend(long h, long client, byte[] b, int off, int len)
            throws IOException;

    static native void kcpServerDisconnect(long h, long client, boolean graceful)
            throws IOException;

    static native long[] kcpServerClients(long h) throws IOException;

    static native String kcpServerClientAddress(long h, long client) throws IOException;

    static native long[] kcpServerStats(long h) throws IOException;

    static native long kcpConnect(String endpoint, long conv, long[] kcp, int[] optNums,
            long[] optValues) throws IOException;

    static native void kcpSend(long h, byte[] b, int off, int len, int t) throws IOException;

    static native byte[] kcpRecv(long h, int t) throws IOException;

    static native void kcpFlush(long h, int t) throws IOException;

    static native int kcpPoll(long h, int t) throws IOException;

    static native long[] kcpSessionStats(long h) throws IOException;

    static native long kcpConv(long h) throws IOException;

    static native String kcpAddress(long h, boolean peer) throws IOException;
}
