// What servers, clients and datagram servers share: pulling events (blocking, batched, or as a
// Task), the notify descriptor, statistics, the local address.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Libsock
{
    /// <summary>The base of the engine's objects (<see cref="Server"/>, <see cref="Client"/>,
    /// <see cref="DatagramServer"/>): they run on libsock's own threads, and the program pulls what
    /// happened with <see cref="NextEvent"/> (no callback crosses the boundary). The last event is
    /// <see cref="EventKind.CLOSED"/>; pulling after it throws <see cref="ClosedException"/>, and so
    /// does a pull blocked when another thread calls <see cref="LibsockObject.Close"/>.</summary>
    public abstract class EngineObject : LibsockObject
    {
        /// <summary>Wraps a handle just returned by libsock.</summary>
        protected EngineObject(long id) : base(id) { }

        [ThreadStatic] private static byte[] _buffer;

        /// <summary>The next event, waiting up to <paramref name="timeoutMs"/> (-1 forever, 0 poll);
        /// null when none came in time. Events of any size are taken whole.</summary>
        public unsafe Event NextEvent(int timeoutMs = Timeouts.Forever)
        {
            byte[] buf = _buffer ?? (_buffer = new byte[64 * 1024]);
            long h = Acquire();
            try
            {
                int wait = timeoutMs;
                while (true)
                {
                    int kind;
                    ulong client;
                    long value;
                    UIntPtr len;
                    int rc;
                    fixed (byte* p = buf) rc = Native.ls_next_event(h, wait, &kind, &client, &value, p, Utf8.Size(buf.Length), &len);
                    if (rc == ErrorCodes.BUFFER_TOO_SMALL)
                    {
                        // The event stayed queued: take it with a bigger buffer, at once.
                        buf = new byte[Math.Max(Utf8.Long(len), (long)buf.Length * 2)];
                        if (buf.Length <= 1024 * 1024) _buffer = buf; // keep at most 1 MiB per thread
                        wait = 0;
                        continue;
                    }
                    if (rc == ErrorCodes.TIMEOUT) return null;
                    Fail(rc);
                    var data = new byte[Utf8.Long(len)];
                    Buffer.BlockCopy(buf, 0, data, 0, data.Length);
                    return new Event((EventKind)kind, client, value, data);
                }
            }
            finally { Release(); }
        }

        /// <summary>A batch: waits up to <paramref name="timeoutMs"/> for the first event, then takes
        /// those already waiting, up to <paramref name="max"/>; an empty list when none came.</summary>
        public List<Event> Events(int max = 256, int timeoutMs = Timeouts.Forever)
        {
            if (max <= 0) throw new InvalidArgumentException($"invalid argument: max {max} must be positive");
            var r = new List<Event>();
            Event e = NextEvent(timeoutMs);
            while (e != null)
            {
                r.Add(e);
                if (r.Count >= max || e.Kind == EventKind.CLOSED) break;
                e = NextEvent(0);
            }
            return r;
        }

        [ThreadStatic] private static UIntPtr[] _lens;
        [ThreadStatic] private static ulong[] _clients;

        /// <summary>The MESSAGE events at the head of the queue, up to <paramref name="max"/>, in one
        /// call (<c>ls_next_messages</c>): waits up to <paramref name="timeoutMs"/> (-1 forever, 0
        /// poll) for the first event, then takes the messages already there, with no
        /// <see cref="Event"/> per message. It stops before the first event of another kind, which
        /// <see cref="NextEvent"/> then takes: so, as with <see cref="Events"/>, an empty list means
        /// the time ran out or another kind of event (e.g. DISCONNECTED) is next. Messages
        /// of any size are taken whole (the landing buffer grows on BUFFER_TOO_SMALL; the message
        /// stays queued meanwhile); fewer than <paramref name="max"/> may come when the buffer is
        /// full, the rest stays queued. <see cref="InvalidArgumentException"/> for a
        /// <paramref name="max"/> below 1 and on a <see cref="DatagramServer"/> (its events carry
        /// senders: <see cref="DatagramServer.NextDatagram"/>); <see cref="ClosedException"/> after
        /// the final CLOSED event, as <see cref="NextEvent"/>.</summary>
        public unsafe List<Message> Messages(int max = 256, int timeoutMs = Timeouts.Forever)
        {
            if (max <= 0) throw new InvalidArgumentException($"invalid argument: max {max} must be positive");
            byte[] buf = _buffer ?? (_buffer = new byte[64 * 1024]);
            UIntPtr[] lens = _lens;
            ulong[] clients = _clients;
            if (lens == null || lens.Length < max)
            {
                lens = new UIntPtr[max];
                clients = new ulong[max];
                if (max <= 4096) { _lens = lens; _clients = clients; } // keep small arrays per thread
            }
            long h = Acquire();
            try
            {
                int wait = timeoutMs;
                while (true)
                {
                    UIntPtr count = UIntPtr.Zero;
                    int rc;
                    fixed (byte* p = buf)
                    fixed (UIntPtr* l = lens)
                    fixed (ulong* c = clients)
                        rc = Native.ls_next_messages(h, wait, p, Utf8.Size(buf.Length), Utf8.Size(max), l, c, &count);
                    if (rc == ErrorCodes.BUFFER_TOO_SMALL)
                    {
                        // The first message stayed queued: take it with a bigger buffer, at once.
                        buf = new byte[Math.Max(Utf8.Long(lens[0]), (long)buf.Length * 2)];
                        if (buf.Length <= 1024 * 1024) _buffer = buf; // keep at most 1 MiB per thread
                        wait = 0;
                        continue;
                    }
                    if (rc == ErrorCodes.TIMEOUT) return new List<Message>();
                    Fail(rc);
                    int n = checked((int)Utf8.Long(count));
                    var r = new List<Message>(n);
                    int at = 0;
                    for (int i = 0; i < n; i++)
                    {
                        var data = new byte[Utf8.Long(lens[i])];
                        Buffer.BlockCopy(buf, at, data, 0, data.Length);
                        at += data.Length;
                        r.Add(new Message(clients[i], data));
                    }
                    return r;
                }
            }
            finally { Release(); }
        }

        /// <summary>The next event without blocking the caller: one already waiting completes the
        /// task at once; otherwise the wait runs on its own thread in slices of 100 ms, so <paramref name="cancellationToken"/> ends it (TaskCanceledException)
        /// without losing an event. Faults with <see cref="ClosedException"/> after the last event.</summary>
        public Task<Event> NextEventAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                // A busy object: the event is already here, no thread is needed.
                Event ready;
                try { ready = NextEvent(0); }
                catch (Exception e) { return FromException<Event>(e); }
                if (ready != null) return Task.FromResult(ready);
            }
            return Task.Factory.StartNew(() =>
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Event e = NextEvent(100);
                    if (e != null) return e;
                }
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        private static Task<T> FromException<T>(Exception e)
        {
            var tcs = new TaskCompletionSource<T>();
            tcs.SetException(e);
            return tcs.Task;
        }

        /// <summary>Events waiting now (without waiting).</summary>
        public unsafe long PendingEvents
        {
            get
            {
                long h = Acquire();
                try
                {
                    UIntPtr n;
                    Fail(Native.ls_pending_events(h, &n));
                    return Utf8.Long(n);
                }
                finally { Release(); }
            }
        }

        /// <summary>A file descriptor readable while events wait (level-triggered), for poll/epoll
        /// or an event loop; never read or close it. Valid until the object is closed.</summary>
        public unsafe int NotifyFd
        {
            get
            {
                long h = Acquire();
                try
                {
                    int fd;
                    Fail(Native.ls_notify_fd(h, &fd));
                    return fd;
                }
                finally { Release(); }
            }
        }

        /// <summary>One statistic; <see cref="UnsupportedException"/> for one the object does not keep.</summary>
        public unsafe long Stat(Stat stat)
        {
            long h = Acquire();
            try
            {
                long v;
                Fail(Native.ls_engine_stats(h, (int)stat, &v));
                return v;
            }
            finally { Release(); }
        }

        /// <summary>Every statistic (-1 for those the object does not keep).</summary>
        public Stats Stats() => Libsock.Stats.Read(s =>
        {
            try { return Stat(s); }
            catch (UnsupportedException) { return -1; }
        });

        /// <summary>The local address (servers and datagram servers), as text.</summary>
        public string LocalAddress => Address(true);

        /// <summary>The local port (servers and datagram servers): the real port of port 0.</summary>
        public unsafe int LocalPort
        {
            get
            {
                long h = Acquire();
                try
                {
                    int p;
                    Fail(Native.ls_local_port(h, &p));
                    return p;
                }
                finally { Release(); }
            }
        }

        internal unsafe string Address(bool local)
        {
            long h = Acquire();
            try
            {
                byte* buf = stackalloc byte[256];
                UIntPtr len;
                Fail(local ? Native.ls_local_address(h, buf, (UIntPtr)256, &len) : Native.ls_peer_address(h, buf, (UIntPtr)256, &len));
                return Utf8.Decode(buf, Utf8.Long(len));
            }
            finally { Release(); }
        }
    }
}
