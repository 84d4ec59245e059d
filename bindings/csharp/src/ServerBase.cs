// What the TCP server and the KCP server share: one message to a client, a disconnect, the list
// of clients and their addresses, the stop (the same C functions serve both).
using System;

namespace Libsock
{
    /// <summary>The base of <see cref="Server"/> and <see cref="KcpServer"/>: the engine's servers,
    /// whose clients have ids (from their CONNECTED event) and get commands that return at once.</summary>
    public abstract class ServerBase : EngineObject
    {
        /// <summary>Wraps a handle just returned by libsock.</summary>
        protected ServerBase(long id) : base(id) { }

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
