// The engine's multi-client server: accepts, frames, heartbeats and limits on libsock's threads;
// the program pulls events and gives commands that return at once.
using System;
using System.Collections.Generic;

namespace Libsock
{
    /// <summary>An event-driven server with many clients (<see cref="Listen"/>): pull CONNECTED,
    /// MESSAGE, DISCONNECTED, WARNING and the final CLOSED with <see cref="EngineObject.NextEvent"/>;
    /// <see cref="ServerBase.Send"/>, <see cref="Broadcast"/> and <see cref="ServerBase.Disconnect"/> return at once.</summary>
    public sealed class Server : ServerBase
    {
        private Server(long id) : base(id) { }

        /// <summary>Starts a server on <paramref name="address"/> ("127.0.0.1:0", "[::]:port",
        /// "unix:/path") with <paramref name="config"/> (null: 4-byte length-prefixed messages).</summary>
        public static unsafe Server Listen(string address, EngineConfig config = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            fixed (byte* p = a) Utf8.Check(Native.ls_server_listen(p, EngineConfig.IdOf(config), &h));
            return new Server(h);
        }

        /// <summary>Queues <paramref name="messages"/> to client <paramref name="client"/> in order, as
        /// one batch (at most one wake-up of the engine, written together). Each waits for room
        /// in the client's send queue, all within <paramref name="timeoutMs"/> (-1 as long as it takes, 0
        /// not at all). Every message is checked first, so a bad one queues none
        /// (<see cref="FrameTooLargeException"/>). Returns how many were queued: all, or fewer when
        /// the time ran out (or the client went) after some were; when not even the first could be,
        /// the error (<see cref="LibsockTimeoutException"/>, <see cref="QueueFullException"/>,
        /// <see cref="ClosedException"/>).</summary>
        public unsafe int SendBatch(ulong client, IList<byte[]> messages, int timeoutMs = Timeouts.Forever)
        {
            Batch.Pack(messages, out byte[] buf, out UIntPtr[] lens);
            long h = Acquire();
            try
            {
                UIntPtr sent;
                fixed (byte* b = buf)
                fixed (UIntPtr* l = lens)
                    Fail(Native.ls_server_send_batch(h, client, buf.Length == 0 ? null : b, lens.Length == 0 ? null : l,
                                                     Utf8.Size(lens.Length), timeoutMs, &sent));
                return (int)Utf8.Long(sent);
            }
            finally { Release(); }
        }

        /// <summary>The counters of connected client <paramref name="client"/> (bytes and messages in
        /// and out, bytes queued, since when, TLS or not) read at one moment;
        /// <see cref="ClosedException"/> for an unknown or gone client.</summary>
        public unsafe ConnectionStats ClientStats(ulong client)
        {
            long h = Acquire();
            try
            {
                Func<int, long> get = stat =>
                {
                    long v;
                    Fail(Native.ls_server_client_stats(h, client, stat, &v));
                    return v;
                };
                return new ConnectionStats(get((int)Libsock.Stat.BYTES_IN), get((int)Libsock.Stat.BYTES_OUT),
                                           get((int)Libsock.Stat.MESSAGES_IN), get((int)Libsock.Stat.MESSAGES_OUT),
                                           get((int)Libsock.Stat.QUEUED_BYTES), get(ConnectionStats.CONNECTED_SINCE_MS),
                                           get(ConnectionStats.TLS) != 0);
            }
            finally { Release(); }
        }

        /// <summary>One counter of connected client <paramref name="client"/>: <see cref="Libsock.Stat.BYTES_IN"/>,
        /// <see cref="Libsock.Stat.BYTES_OUT"/>, <see cref="Libsock.Stat.MESSAGES_IN"/>,
        /// <see cref="Libsock.Stat.MESSAGES_OUT"/> or <see cref="Libsock.Stat.QUEUED_BYTES"/> (another is
        /// <see cref="UnsupportedException"/>); <see cref="ClosedException"/> for an unknown client.</summary>
        public unsafe long ClientStat(ulong client, Stat stat)
        {
            long h = Acquire();
            try
            {
                long v;
                Fail(Native.ls_server_client_stats(h, client, (int)stat, &v));
                return v;
            }
            finally { Release(); }
        }

        /// <summary>Queues one message to each of <paramref name="clients"/>; returns how many took it.</summary>
        public unsafe int SendMany(IList<ulong> clients, byte[] data)
        {
            if (clients == null || data == null) throw new InvalidArgumentException("invalid argument: clients or data is null");
            var ids = new ulong[clients.Count];
            clients.CopyTo(ids, 0);
            long h = Acquire();
            try
            {
                UIntPtr sent;
                fixed (ulong* c = ids)
                fixed (byte* p = data)
                    Fail(Native.ls_server_send_many(h, ids.Length == 0 ? null : c, Utf8.Size(ids.Length),
                                                    data.Length == 0 ? null : p, Utf8.Size(data.Length), &sent));
                return (int)Utf8.Long(sent);
            }
            finally { Release(); }
        }

        /// <summary>Queues one message to every connected client but <paramref name="exceptClient"/>
        /// (0 = none); returns how many took it.</summary>
        public unsafe int Broadcast(byte[] data, ulong exceptClient = 0)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            long h = Acquire();
            try
            {
                UIntPtr sent;
                fixed (byte* p = data) Fail(Native.ls_server_broadcast(h, data.Length == 0 ? null : p, Utf8.Size(data.Length), exceptClient, &sent));
                return (int)Utf8.Long(sent);
            }
            finally { Release(); }
        }
    }
}
