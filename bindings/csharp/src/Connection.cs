// A blocking stream connection (TCP or Unix): bytes, exact reads, delimiters, framed messages,
// files, half-close - each wait bounded by a timeout in milliseconds - and Task-based wrappers
// for the waits that .NET code awaits.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Libsock
{
    /// <summary>A connected stream socket (TCP, or Unix with "unix:/path"), made by
    /// <see cref="Connect(string, int, SocketOptions, Framing)"/> or <see cref="Listener.Accept"/>.
    /// Every wait takes a timeout in milliseconds (<see cref="Timeouts"/>); a timeout loses nothing.
    /// One thread may send while another receives; <see cref="LibsockObject.Close"/> from any thread
    /// makes a blocked call throw <see cref="ClosedException"/>.</summary>
    public sealed class Connection : SocketBase
    {
        internal Connection(long id) : base(id) { }

        /// <summary>Connects to <paramref name="address"/> ("host:port", "[v6]:port",
        /// "unix:/path"): host names are resolved and each address tried, within
        /// <paramref name="timeoutMs"/> (-1: the OS's limit). <paramref name="options"/> are applied
        /// before connecting and <paramref name="framing"/> (if given) afterwards. Throws
        /// <see cref="ConnectionRefusedException"/>, <see cref="LibsockTimeoutException"/>,
        /// <see cref="InvalidArgumentException"/> (a malformed address) ...</summary>
        public static unsafe Connection Connect(string address, int timeoutMs = Timeouts.Forever,
                                                SocketOptions options = null, Framing framing = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            int rc;
            fixed (byte* p = a)
                rc = options == null ? Native.ls_tcp_connect(p, timeoutMs, &h)
                                     : Native.ls_tcp_connect_ex(p, timeoutMs, Opt(options), &h);
            Utf8.Check(rc);
            var c = new Connection(h);
            if (framing != null)
            {
                try { c.SetFraming(framing); }
                catch { c.Close(); throw; }
            }
            return c;
        }

        /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> (IPv6 literals are bracketed).</summary>
        public static Connection Connect(string host, int port, int timeoutMs, SocketOptions options = null, Framing framing = null)
        {
            if (host == null) throw new InvalidArgumentException("invalid argument: host is null");
            string h = host.Contains(":") && !host.StartsWith("[") ? "[" + host + "]" : host;
            return Connect(h + ":" + port, timeoutMs, options, framing);
        }

        /// <summary>Connects in the background (<see cref="Task"/> on a dedicated thread).</summary>
        public static Task<Connection> ConnectAsync(string address, int timeoutMs = Timeouts.Forever,
                                                    SocketOptions options = null, Framing framing = null) =>
            Task.Factory.StartNew(() => Connect(address, timeoutMs, options, framing), CancellationToken.None,
                                  TaskCreationOptions.LongRunning, TaskScheduler.Default);

        internal static long Opt(SocketOptions o)
        {
            if (o.IsClosed) throw new ObjectDisposedException(nameof(SocketOptions));
            return o.Handle;
        }

        /// <summary>The peer's address as text (known even after the peer left).</summary>
        public string PeerAddress => Address(false);

        // ------------------------------------------------------------------ TLS

        /// <summary>True when this connection speaks TLS (connected or accepted with a
        /// <see cref="TlsConfig"/>).</summary>
        public unsafe bool IsTls
        {
            get
            {
                long h = Acquire();
                try
                {
                    int on;
                    Fail(Native.ls_is_tls(h, &on));
                    return on != 0;
                }
                finally { Release(); }
            }
        }

        /// <summary>What the TLS handshake agreed on (version, cipher, ALPN, the peer's certificate
        /// and its fingerprint); null for a plain connection.</summary>
        public unsafe TlsInfo TlsInfo
        {
            get
            {
                if (!IsTls) return null;
                long h = Acquire();
                try
                {
                    string alpn = TlsText(h, 2), fp = TlsText(h, 3);
                    UIntPtr n;
                    int rc = Native.ls_tls_peer_certificate(h, null, UIntPtr.Zero, &n);
                    byte[] cert = null;
                    if (rc == ErrorCodes.BUFFER_TOO_SMALL || (rc == 0 && Utf8.Long(n) > 0))
                    {
                        cert = new byte[Utf8.Long(n)];
                        fixed (byte* p = cert) Fail(Native.ls_tls_peer_certificate(h, p, Utf8.Size(cert.Length), &n));
                    }
                    else Fail(rc);
                    return new TlsInfo(TlsText(h, 0), TlsText(h, 1), alpn.Length == 0 ? null : alpn,
                                       cert, fp.Length == 0 ? null : fp);
                }
                finally { Release(); }
            }
        }

        private unsafe string TlsText(long h, int which)
        {
            byte* buf = stackalloc byte[512];
            UIntPtr len;
            int rc;
            switch (which)
            {
                case 0: rc = Native.ls_tls_version(h, buf, (UIntPtr)512, &len); break;
                case 1: rc = Native.ls_tls_cipher(h, buf, (UIntPtr)512, &len); break;
                case 2: rc = Native.ls_tls_alpn(h, buf, (UIntPtr)512, &len); break;
                default: rc = Native.ls_tls_peer_fingerprint(h, buf, (UIntPtr)512, &len); break;
            }
            Fail(rc);
            return Utf8.Decode(buf, Utf8.Long(len));
        }

        // ------------------------------------------------------------------ bytes

        /// <summary>Sends what the socket takes now (at least one byte, waiting up to the default
        /// timeout); returns how many bytes were sent.</summary>
        public unsafe int Send(byte[] data, int offset, int count)
        {
            Utf8.Range(data, offset, count);
            long h = Acquire();
            try
            {
                UIntPtr sent;
                fixed (byte* p = data) Fail(Native.ls_send(h, p + offset, Utf8.Size(count), &sent));
                return (int)Utf8.Long(sent);
            }
            finally { Release(); }
        }

        /// <summary>Sends what the socket takes now of <paramref name="data"/>; returns the count.</summary>
        public int Send(byte[] data) => Send(data, 0, data?.Length ?? 0);

        /// <summary>Sends all <paramref name="count"/> bytes (the default timeout applies to each wait).</summary>
        public unsafe void SendAll(byte[] data, int offset, int count)
        {
            Utf8.Range(data, offset, count);
            long h = Acquire();
            try
            {
                fixed (byte* p = data) Fail(Native.ls_send_all(h, p + offset, Utf8.Size(count)));
            }
            finally { Release(); }
        }

        /// <summary>Sends all of <paramref name="data"/>.</summary>
        public void SendAll(byte[] data) => SendAll(data, 0, data?.Length ?? 0);

        /// <summary>Sends all of <paramref name="text"/> as UTF-8.</summary>
        public void SendAll(string text) => SendAll(TextBytes(text));

        /// <summary>Receives what is there (waiting for at least one byte) into
        /// <paramref name="buffer"/>; returns the count, 0 at end of stream (the peer closed in order).</summary>
        public unsafe int Recv(byte[] buffer, int offset, int count, int timeoutMs = Timeouts.Default)
        {
            Utf8.Range(buffer, offset, count);
            long h = Acquire();
            try
            {
                UIntPtr n;
                fixed (byte* p = buffer) Fail(Native.ls_recv(h, timeoutMs, count == 0 ? null : p + offset, Utf8.Size(count), &n));
                return (int)Utf8.Long(n);
            }
            finally { Release(); }
        }

        /// <summary>Receives up to <paramref name="maxBytes"/> bytes; an empty array at end of stream.</summary>
        public byte[] Recv(int maxBytes, int timeoutMs = Timeouts.Default)
        {
            if (maxBytes <= 0) throw new InvalidArgumentException($"invalid argument: maxBytes {maxBytes} must be positive");
            var buf = new byte[maxBytes];
            int n = Recv(buf, 0, maxBytes, timeoutMs);
            if (n == maxBytes) return buf;
            var r = new byte[n];
            Buffer.BlockCopy(buf, 0, r, 0, n);
            return r;
        }

        /// <summary>Receives exactly <paramref name="count"/> bytes into <paramref name="buffer"/>;
        /// <see cref="ClosedException"/> if the peer closes first, <see cref="LibsockTimeoutException"/>
        /// when the time runs out (the bytes that came stay buffered either way).</summary>
        public unsafe void RecvExact(byte[] buffer, int offset, int count, int timeoutMs = Timeouts.Default)
        {
            Utf8.Range(buffer, offset, count);
            long h = Acquire();
            try
            {
                fixed (byte* p = buffer) Fail(Native.ls_recv_exact(h, timeoutMs, count == 0 ? null : p + offset, Utf8.Size(count)));
            }
            finally { Release(); }
        }

        /// <summary>Receives exactly <paramref name="count"/> bytes.</summary>
        public byte[] RecvExact(int count, int timeoutMs = Timeouts.Default)
        {
            if (count < 0) throw new InvalidArgumentException($"invalid argument: count {count} is negative");
            var buf = new byte[count];
            RecvExact(buf, 0, count, timeoutMs);
            return buf;
        }

        /// <summary>Receives up to and including <paramref name="delimiter"/> (at most
        /// <paramref name="maxBytes"/> bytes: more without the delimiter is
        /// <see cref="FrameTooLargeException"/>, and they stay buffered).</summary>
        public unsafe byte[] RecvUntil(byte[] delimiter, int maxBytes = 65536, int timeoutMs = Timeouts.Default)
        {
            if (delimiter == null) throw new InvalidArgumentException("invalid argument: delimiter is null");
            if (maxBytes <= 0) throw new InvalidArgumentException($"invalid argument: maxBytes {maxBytes} must be positive");
            var buf = new byte[maxBytes];
            long h = Acquire();
            try
            {
                UIntPtr n;
                fixed (byte* d = delimiter)
                fixed (byte* p = buf)
                    Fail(Native.ls_recv_until(h, timeoutMs, d, Utf8.Size(delimiter.Length), p, Utf8.Size(maxBytes), &n));
                var r = new byte[Utf8.Long(n)];
                Buffer.BlockCopy(buf, 0, r, 0, r.Length);
                return r;
            }
            finally { Release(); }
        }

        /// <summary>Receives a line ending with <paramref name="delimiter"/> (UTF-8) and returns it
        /// as text, delimiter included.</summary>
        public string RecvUntil(string delimiter, int maxBytes = 65536, int timeoutMs = Timeouts.Default) =>
            Utf8.Decode(RecvUntil(DelimiterBytes(delimiter), maxBytes, timeoutMs));

        // ------------------------------------------------------------------ messages

        /// <summary>Sends one message through the connection's framing (a length header, a delimiter ...).</summary>
        public unsafe void SendMsg(byte[] data, int offset, int count)
        {
            Utf8.Range(data, offset, count);
            long h = Acquire();
            try
            {
                fixed (byte* p = data) Fail(Native.ls_send_msg(h, count == 0 ? null : p + offset, Utf8.Size(count)));
            }
            finally { Release(); }
        }

        /// <summary>Sends one message.</summary>
        public void SendMsg(byte[] data) => SendMsg(data, 0, data?.Length ?? 0);

        /// <summary>Sends one message of UTF-8 text.</summary>
        public void SendMsg(string text) => SendMsg(TextBytes(text));

        /// <summary>Sends several messages with as few system calls as possible (each is checked
        /// against the framing before anything is sent).</summary>
        public unsafe void SendMsgs(IList<byte[]> messages)
        {
            if (messages == null) throw new InvalidArgumentException("invalid argument: messages is null");
            long total = 0;
            var lens = new UIntPtr[messages.Count];
            for (int i = 0; i < messages.Count; i++)
            {
                if (messages[i] == null) throw new InvalidArgumentException($"invalid argument: message {i} is null");
                lens[i] = Utf8.Size(messages[i].Length);
                total += messages[i].Length;
            }
            var all = new byte[total];
            long at = 0;
            foreach (var m in messages) { Buffer.BlockCopy(m, 0, all, (int)at, m.Length); at += m.Length; }
            long h = Acquire();
            try
            {
                fixed (byte* p = all)
                fixed (UIntPtr* l = lens)
                    Fail(Native.ls_send_msgs(h, p, l, Utf8.Size(lens.Length)));
            }
            finally { Release(); }
        }

        /// <summary>Receives one message through the connection's framing into
        /// <paramref name="buffer"/>; returns its length. A message larger than
        /// <paramref name="count"/> is <see cref="BufferTooSmallException"/> with the size
        /// <see cref="BufferTooSmallException.Needed"/>, and stays queued for the next call.</summary>
        public unsafe int RecvMsg(byte[] buffer, int offset, int count, int timeoutMs = Timeouts.Default)
        {
            Utf8.Range(buffer, offset, count);
            long h = Acquire();
            try
            {
                UIntPtr n;
                int rc;
                fixed (byte* p = buffer) rc = Native.ls_recv_msg(h, timeoutMs, count == 0 ? null : p + offset, Utf8.Size(count), &n);
                Fail(rc, rc == ErrorCodes.BUFFER_TOO_SMALL ? Utf8.Long(n) : -1);
                return (int)Utf8.Long(n);
            }
            finally { Release(); }
        }

        /// <summary>Receives one message of any size. <see cref="ClosedException"/> at end of
        /// stream, <see cref="FrameTooLargeException"/> above the framing's limit,
        /// <see cref="LibsockTimeoutException"/> when nothing came in time.</summary>
        public unsafe byte[] RecvMsg(int timeoutMs = Timeouts.Default)
        {
            byte[] buf = MsgBuffer ?? (MsgBuffer = new byte[64 * 1024]);
            long h = Acquire();
            try
            {
                while (true)
                {
                    UIntPtr n;
                    int rc;
                    fixed (byte* p = buf) rc = Native.ls_recv_msg(h, timeoutMs, p, Utf8.Size(buf.Length), &n);
                    if (rc == ErrorCodes.BUFFER_TOO_SMALL)
                    {
                        buf = new byte[Math.Max(Utf8.Long(n), (long)buf.Length * 2)];
                        if (buf.Length <= 1024 * 1024) MsgBuffer = buf; // keep at most 1 MiB per thread
                        continue; // the message stayed queued: take it with the bigger buffer
                    }
                    Fail(rc);
                    var r = new byte[Utf8.Long(n)];
                    Buffer.BlockCopy(buf, 0, r, 0, r.Length);
                    return r;
                }
            }
            finally { Release(); }
        }

        [ThreadStatic] private static byte[] MsgBuffer;

        /// <summary>Receives one message and decodes it as UTF-8 text.</summary>
        public string RecvMsgString(int timeoutMs = Timeouts.Default) => Utf8.Decode(RecvMsg(timeoutMs));

        /// <summary>Receives up to <paramref name="max"/> messages in one call: waits only for the
        /// first, takes the others already here. An error after the first message ends the batch and
        /// comes with the next call, so nothing before it is lost.</summary>
        public unsafe List<byte[]> RecvMsgs(int max, int timeoutMs = Timeouts.Default, int bufferBytes = 256 * 1024)
        {
            if (max <= 0) throw new InvalidArgumentException($"invalid argument: max {max} must be positive");
            var buf = new byte[Math.Max(bufferBytes, 1)];
            var lens = new UIntPtr[max];
            long h = Acquire();
            try
            {
                while (true)
                {
                    UIntPtr count;
                    int rc;
                    fixed (byte* p = buf)
                    fixed (UIntPtr* l = lens)
                        rc = Native.ls_recv_msgs(h, timeoutMs, p, Utf8.Size(buf.Length), Utf8.Size(max), l, &count);
                    if (rc == ErrorCodes.BUFFER_TOO_SMALL)
                    {
                        buf = new byte[Math.Max(Utf8.Long(lens[0]), (long)buf.Length * 2)];
                        continue;
                    }
                    Fail(rc);
                    var r = new List<byte[]>();
                    int at = 0;
                    for (long i = 0; i < Utf8.Long(count); i++)
                    {
                        var m = new byte[Utf8.Long(lens[i])];
                        Buffer.BlockCopy(buf, at, m, 0, m.Length);
                        at += m.Length;
                        r.Add(m);
                    }
                    return r;
                }
            }
            finally { Release(); }
        }

        // ------------------------------------------------------------------ files, half-close

        /// <summary>Sends <paramref name="length"/> bytes (-1: to the end) of the file at
        /// <paramref name="path"/> from <paramref name="offset"/>, with sendfile(2); returns the count.</summary>
        public unsafe long SendFile(string path, long offset = 0, long length = -1)
        {
            byte[] f = Utf8.Encode(path, "path");
            if (offset < 0) throw new InvalidArgumentException($"invalid argument: offset {offset} is negative");
            long h = Acquire();
            try
            {
                ulong sent;
                fixed (byte* p = f) Fail(Native.ls_send_file(h, p, (ulong)offset, length, &sent));
                return (long)sent;
            }
            finally { Release(); }
        }

        /// <summary>Receives exactly <paramref name="length"/> bytes into a new file at <paramref name="path"/>.</summary>
        public unsafe long RecvFile(string path, long length)
        {
            byte[] f = Utf8.Encode(path, "path");
            if (length < 0) throw new InvalidArgumentException($"invalid argument: length {length} is negative");
            long h = Acquire();
            try
            {
                ulong got;
                fixed (byte* p = f) Fail(Native.ls_recv_file(h, p, (ulong)length, &got));
                return (long)got;
            }
            finally { Release(); }
        }

        /// <summary>Shuts down one direction; without an argument, writing (half-close: the peer
        /// reads end of stream after what was sent, and can still reply). The object stays open.</summary>
        public void Shutdown(ShutdownHow how = ShutdownHow.WRITE) => Call(h => Native.ls_socket_shutdown(h, (int)how));

        // ------------------------------------------------------------------ statistics

        /// <summary>One counter of this connection: <see cref="Libsock.Stat.BYTES_IN"/>,
        /// <see cref="Libsock.Stat.BYTES_OUT"/> (application bytes, also with TLS),
        /// <see cref="Libsock.Stat.MESSAGES_IN"/>, <see cref="Libsock.Stat.MESSAGES_OUT"/> (what the
        /// message calls moved) or <see cref="Libsock.Stat.QUEUED_BYTES"/> (always 0); another is
        /// <see cref="UnsupportedException"/>. Never waits behind a call blocked in another thread.</summary>
        public unsafe long Stat(Stat stat) => Counter((int)stat);

        /// <summary>The connection's counters (bytes and messages each way, since when, TLS or not),
        /// as a server's <see cref="Server.ClientStats"/> gives them for its clients.</summary>
        public ConnectionStats Stats() =>
            new ConnectionStats(Counter((int)Libsock.Stat.BYTES_IN), Counter((int)Libsock.Stat.BYTES_OUT),
                                Counter((int)Libsock.Stat.MESSAGES_IN), Counter((int)Libsock.Stat.MESSAGES_OUT),
                                Counter((int)Libsock.Stat.QUEUED_BYTES), Counter(ConnectionStats.CONNECTED_SINCE_MS),
                                Counter(ConnectionStats.TLS) != 0);

        private unsafe long Counter(int stat)
        {
            long h = Acquire();
            try
            {
                long v;
                Fail(Native.ls_connection_stats(h, stat, &v));
                return v;
            }
            finally { Release(); }
        }

        // ------------------------------------------------------------------ descriptors (Unix)

        /// <summary>Sends all of <paramref name="data"/> with descriptors <paramref name="fds"/>
        /// attached to its first byte (Unix connections; SCM_RIGHTS): the peer receives duplicates
        /// (<see cref="RecvFds"/>), ours stay open. At least one byte when descriptors go, at most 253
        /// descriptors (<see cref="InvalidArgumentException"/>; a negative number too); a number that
        /// is no open descriptor is <see cref="IoException"/> (EBADF); a TCP or TLS connection is
        /// <see cref="UnsupportedException"/>. The default timeout bounds each wait.</summary>
        public unsafe void SendFds(byte[] data, params int[] fds)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            if (fds == null) fds = new int[0];
            long h = Acquire();
            try
            {
                fixed (byte* d = data)
                fixed (int* f = fds)
                    Fail(Native.ls_send_fds(h, data.Length == 0 ? null : d, Utf8.Size(data.Length),
                                            fds.Length == 0 ? null : f, Utf8.Size(fds.Length)));
            }
            finally { Release(); }
        }

        /// <summary><see cref="SendFds(byte[], int[])"/> with descriptors held by SafeHandles (a
        /// <see cref="SafeFdHandle"/>, or any SafeHandle whose handle is a descriptor, as Mono's
        /// file and socket handles are): each is held for the call, so no other thread closes it
        /// meanwhile.</summary>
        public void SendFds(byte[] data, IList<SafeHandle> handles)
        {
            if (handles == null) throw new InvalidArgumentException("invalid argument: handles is null");
            var added = new bool[handles.Count];
            try
            {
                var fds = new int[handles.Count];
                for (int i = 0; i < fds.Length; i++)
                {
                    if (handles[i] == null) throw new InvalidArgumentException($"invalid argument: handle {i} is null");
                    handles[i].DangerousAddRef(ref added[i]);
                    fds[i] = handles[i].DangerousGetHandle().ToInt32();
                }
                SendFds(data, fds);
            }
            finally
            {
                for (int i = 0; i < added.Length; i++)
                    if (added[i]) handles[i].DangerousRelease();
            }
        }

        /// <summary>Receives up to <paramref name="maxBytes"/> bytes (at least 1) and up to
        /// <paramref name="maxFds"/> descriptors sent with them (Unix connections), waiting up to
        /// <paramref name="timeoutMs"/>; empty data at the end of the stream. The descriptors are
        /// yours (dispose the result, or each handle). Descriptors travel with the bytes they were
        /// sent with: bytes an earlier receive left come first, alone. More descriptors than
        /// <paramref name="maxFds"/> is <see cref="IoException"/> (none leak); more than 253
        /// <see cref="InvalidArgumentException"/>; TCP or TLS <see cref="UnsupportedException"/>.</summary>
        public unsafe ReceivedFds RecvFds(int maxBytes, int maxFds, int timeoutMs = Timeouts.Default)
        {
            if (maxBytes <= 0) throw new InvalidArgumentException($"invalid argument: maxBytes {maxBytes} must be positive");
            if (maxFds < 0) throw new InvalidArgumentException($"invalid argument: maxFds {maxFds} is negative");
            var buf = new byte[maxBytes];
            var fds = new int[Math.Max(maxFds, 1)];
            long h = Acquire();
            try
            {
                UIntPtr n, nf;
                fixed (byte* b = buf)
                fixed (int* f = fds)
                    Fail(Native.ls_recv_fds(h, timeoutMs, b, Utf8.Size(maxBytes), &n, maxFds == 0 ? null : f, Utf8.Size(maxFds), &nf));
                var data = new byte[Utf8.Long(n)];
                Buffer.BlockCopy(buf, 0, data, 0, data.Length);
                var got = new SafeFdHandle[Utf8.Long(nf)];
                for (int i = 0; i < got.Length; i++) got[i] = new SafeFdHandle(fds[i]);
                return new ReceivedFds(data, got);
            }
            finally { Release(); }
        }

        /// <summary>The process at the other end of this Unix connection (SO_PEERCRED, recorded when
        /// the connection was made); <see cref="UnsupportedException"/> on TCP.</summary>
        public unsafe PeerCredentials PeerCredentials()
        {
            long h = Acquire();
            try
            {
                int pid;
                ulong uid, gid;
                Fail(Native.ls_peer_credentials(h, &pid, &uid, &gid));
                return new PeerCredentials(pid, (long)uid, (long)gid);
            }
            finally { Release(); }
        }

        // ------------------------------------------------------------------ Task wrappers

        /// <summary>Receives one message without blocking the caller: the wait runs on its own thread
        /// in slices of 100 ms, so <paramref name="cancellationToken"/> ends it (TaskCanceledException)
        /// without losing a message.</summary>
        public Task<byte[]> RecvMsgAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            Sliced(ms => RecvMsg(ms), cancellationToken);

        /// <summary>Receives up to <paramref name="maxBytes"/> bytes without blocking the caller (as
        /// <see cref="RecvMsgAsync"/>).</summary>
        public Task<byte[]> RecvAsync(int maxBytes, CancellationToken cancellationToken = default(CancellationToken)) =>
            Sliced(ms => Recv(maxBytes, ms), cancellationToken);

        /// <summary>Sends one message on a background thread.</summary>
        public Task SendMsgAsync(byte[] data) =>
            Task.Factory.StartNew(() => SendMsg(data), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        /// <summary>Sends all bytes on a background thread.</summary>
        public Task SendAllAsync(byte[] data) =>
            Task.Factory.StartNew(() => SendAll(data), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        /// <summary>Runs a wait in slices of <paramref name="sliceMs"/> on a dedicated thread until it
        /// succeeds, fails with anything but a timeout, or <paramref name="ct"/> is cancelled.</summary>
        internal static Task<T> Sliced<T>(Func<int, T> wait, CancellationToken ct, int sliceMs = 100) =>
            Task.Factory.StartNew(() =>
            {
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    try { return wait(sliceMs); }
                    catch (LibsockTimeoutException) { }
                }
            }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        internal static byte[] TextBytes(string text)
        {
            byte[] z = Utf8.Encode(text, "text");
            var b = new byte[z.Length - 1];
            Buffer.BlockCopy(z, 0, b, 0, b.Length);
            return b;
        }

        internal static byte[] DelimiterBytes(string d) => TextBytes(d);
    }
}
