// One client's counters on a server (Server.ClientStats: core's ConnectionStats through
// ls_server_client_stats), and the packing of message batches for SendBatch.
using System;
using System.Collections.Generic;

namespace Libsock
{
    /// <summary>The counters of one connection: a client of a <see cref="Server"/>
    /// (<see cref="Server.ClientStats"/>) or a blocking <see cref="Connection"/>
    /// (<see cref="Connection.Stats"/>), each read at one moment.</summary>
    public sealed class ConnectionStats
    {
        internal const int CONNECTED_SINCE_MS = 201; // LS_CLIENT_STAT_CONNECTED_SINCE_MS
        internal const int TLS = 202;                // LS_CLIENT_STAT_TLS

        /// <summary>Bytes received (with TLS: application bytes).</summary>
        public long BytesIn { get; }

        /// <summary>Bytes sent (a server's client: frames with their headers).</summary>
        public long BytesOut { get; }

        /// <summary>Messages received (heartbeats not counted).</summary>
        public long MessagesIn { get; }

        /// <summary>Messages or frames sent (a server's heartbeats included).</summary>
        public long MessagesOut { get; }

        /// <summary>Bytes waiting in the send queue (0 for a blocking connection).</summary>
        public long QueuedBytes { get; }

        /// <summary>When the connection was made (a server's client: admitted, and with TLS its
        /// handshake done), in milliseconds since 1970-01-01 UTC.</summary>
        public long ConnectedSinceMs { get; }

        /// <summary><see cref="ConnectedSinceMs"/> as a UTC time.</summary>
        public DateTime ConnectedSince => new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMilliseconds(ConnectedSinceMs);

        /// <summary>True when the connection speaks TLS.</summary>
        public bool Tls { get; }

        /// <summary>A client's counters.</summary>
        public ConnectionStats(long bytesIn, long bytesOut, long messagesIn, long messagesOut, long queuedBytes,
                               long connectedSinceMs, bool tls)
        {
            BytesIn = bytesIn; BytesOut = bytesOut; MessagesIn = messagesIn; MessagesOut = messagesOut;
            QueuedBytes = queuedBytes; ConnectedSinceMs = connectedSinceMs; Tls = tls;
        }

        /// <summary>A one-line summary.</summary>
        public override string ToString() =>
            $"in {BytesIn} bytes/{MessagesIn} messages, out {BytesOut}/{MessagesOut}, queued {QueuedBytes}, since {ConnectedSince:o}{(Tls ? ", TLS" : "")}";
    }

    /// <summary>Messages laid back to back with their lengths, as the C ABI's batch calls take them.</summary>
    internal static class Batch
    {
        internal static void Pack(IList<byte[]> messages, out byte[] buf, out UIntPtr[] lens)
        {
            if (messages == null) throw new InvalidArgumentException("invalid argument: messages is null");
            long total = 0;
            for (int i = 0; i < messages.Count; i++)
            {
                if (messages[i] == null) throw new InvalidArgumentException($"invalid argument: message {i} is null");
                total += messages[i].Length;
            }
            if (total > int.MaxValue) throw new InvalidArgumentException($"invalid argument: a batch of {total} bytes (at most 2 GiB at once)");
            buf = new byte[total];
            lens = new UIntPtr[messages.Count];
            int off = 0;
            for (int i = 0; i < messages.Count; i++)
            {
                Buffer.BlockCopy(messages[i], 0, buf, off, messages[i].Length);
                off += messages[i].Length;
                lens[i] = (UIntPtr)(uint)messages[i].Length;
            }
        }
    }
}
