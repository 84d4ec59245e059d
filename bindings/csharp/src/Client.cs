// The engine's long-lived client: connects and reconnects in the background, queues while away.
using System;
using System.Collections.Generic;

namespace Libsock
{
    /// <summary>A long-lived client of a server (<see cref="Connect"/>): it connects in the
    /// background, reconnects with backoff and jitter, and sends what was queued meanwhile in order.
    /// Pull CONNECTED, MESSAGE, RECONNECTING, DISCONNECTED and CLOSED with
    /// <see cref="EngineObject.NextEvent"/>.</summary>
    public sealed class Client : EngineObject
    {
        private Client(long id) : base(id) { }

        /// <summary>Starts a client of <paramref name="address"/> with <paramref name="config"/>
        /// (null: 4-byte length prefix, reconnect 100 ms..10 s). Returns at once; a malformed address
        /// or nonsensical settings are <see cref="InvalidArgumentException"/> here, an unreachable
        /// server is reported through events.</summary>
        public static unsafe Client Connect(string address, EngineConfig config = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            fixed (byte* p = a) Utf8.Check(Native.ls_client_connect(p, EngineConfig.IdOf(config), &h));
            return new Client(h);
        }

        /// <summary>Queues one message (sent in order after the next connect while disconnected).
        /// <see cref="QueueFullException"/> when the queue's bound would be exceeded.</summary>
        public unsafe void Send(byte[] data)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            long h = Acquire();
            try
            {
                fixed (byte* p = data) Fail(Native.ls_client_send(h, data.Length == 0 ? null : p, Utf8.Size(data.Length)));
            }
            finally { Release(); }
        }

        /// <summary>Queues <paramref name="messages"/> in order as one batch (see
        /// <see cref="Server.SendBatch"/>: the same timeout and result); while disconnected they wait
        /// in the queue and go after the next connect.</summary>
        public unsafe int SendBatch(IList<byte[]> messages, int timeoutMs = Timeouts.Forever)
        {
            Batch.Pack(messages, out byte[] buf, out UIntPtr[] lens);
            long h = Acquire();
            try
            {
                UIntPtr sent;
                fixed (byte* b = buf)
                fixed (UIntPtr* l = lens)
                    Fail(Native.ls_client_send_batch(h, buf.Length == 0 ? null : b, lens.Length == 0 ? null : l,
                                                     Utf8.Size(lens.Length), timeoutMs, &sent));
                return (int)Utf8.Long(sent);
            }
            finally { Release(); }
        }

        /// <summary>True while connected.</summary>
        public bool Connected => Stat(Libsock.Stat.CONNECTIONS) == 1;

        /// <summary>The server's address while connected.</summary>
        public string PeerAddress => Address(false);

        /// <summary>Closes gracefully: what is queued is delivered within <paramref name="graceMs"/>,
        /// then the final CLOSED event is queued. The object stays usable to pull the last events;
        /// <see cref="LibsockObject.Close()"/> frees it.</summary>
        public void Close(int graceMs) => Call(h => Native.ls_client_close(h, graceMs));
    }
}
