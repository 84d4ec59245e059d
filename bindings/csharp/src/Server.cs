// The engine's multi-client server: accepts, frames, heartbeats and limits on libsock's threads;
// the program pulls events and gives commands that return at once.
using System;
using System.Collections.Generic;

namespace Libsock
{
    /// <summary>An event-driven server with many clients (<see cref="Listen"/>): pull CONNECTED,
    /// MESSAGE, DISCONNECTED, WARNING and the final CLOSED with <see cref="EngineObject.NextEvent"/>;
    /// <see cref="Send"/>, <see cref="Broadcast"/> and <see cref="Disconnect"/> return at once.</summary>
    public sealed class Server : EngineObject
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

        /// <summary>Queues one message to client <paramref name="client"/>. <see cref="ClosedException"/>
        /// for an unknown or gone client, <see cref="QueueFullException"/> when its queue is full,
        /// <see cref="FrameTooLargeException"/> above the framing's limit or the queue's bound.</summary>
        public unsafe void Send(ulong client, byte[] data)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            long h = Acquire();
            try
            {
                fixed (byte* p = data) Fail(Native.ls_server_send(h, client, data.Length == 0 ? null : p, Utf8.Size(data.Length)));
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

        /// <summary>Disconnects a client: <paramref name="graceful"/> delivers what is queued first.
        /// A DISCONNECTED event with reason KICKED follows.</summary>
        public void Disconnect(ulong client, bool graceful = true) =>
            Call(h => Native.ls_server_disconnect(h, client, graceful ? 1 : 0));

        /// <summary>The ids of the connected clients, in increasing order.</summary>
        public unsafe ulong[] Clients()
        {
            long h = Acquire();
            try
            {
                var ids = new ulong[64];
                while (true)
                {
                    UIntPtr n;
                    int rc;
                    fixed (ulong* p = ids) rc = Native.ls_server_clients(h, p, Utf8.Size(ids.Length), &n);
                    if (rc == ErrorCodes.BUFFER_TOO_SMALL) { ids = new ulong[Utf8.Long(n) + 64]; continue; }
                    Fail(rc);
                    var r = new ulong[Utf8.Long(n)];
                    Array.Copy(ids, r, r.Length);
                    return r;
                }
            }
            finally { Release(); }
        }

        /// <summary>The address of connected client <paramref name="client"/> (<see cref="ClosedException"/> if unknown).</summary>
        public unsafe string ClientAddress(ulong client)
        {
            long h = Acquire();
            try
            {
                byte* buf = stackalloc byte[256];
                UIntPtr len;
                Fail(Native.ls_server_client_address(h, client, buf, (UIntPtr)256, &len));
                return Utf8.Decode(buf, Utf8.Long(len));
            }
            finally { Release(); }
        }

        /// <summary>Stops the server: no new clients, queued messages delivered within
        /// <paramref name="graceMs"/>, then every connection closed and the final CLOSED event queued.
        /// The object stays usable to pull the last events; <see cref="LibsockObject.Close"/> frees it.</summary>
        public void Shutdown(int graceMs = 1000) => Call(h => Native.ls_server_shutdown(h, graceMs));
    }
}
