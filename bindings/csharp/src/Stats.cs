// Every statistic of an engine object at once (EngineObject.Stats), one property per LS_STAT_*.
using System;

namespace Libsock
{
    /// <summary>The statistics of an engine object, read at one moment (<see cref="EngineObject.Stats"/>);
    /// a statistic the object does not keep is -1.</summary>
    public sealed class Stats
    {
        /// <summary><c>LS_STAT_CONNECTIONS</c>: Server: clients connected now. Client: 1 while connected, else 0. (-1 when the object does not keep it).</summary>
        public long Connections { get; internal set; }

        /// <summary><c>LS_STAT_CONNECTIONS_TOTAL</c>: Server: clients accepted since the start. Client: connections made so far. (-1 when the object does not keep it).</summary>
        public long ConnectionsTotal { get; internal set; }

        /// <summary><c>LS_STAT_REFUSED</c>: Server: connections closed at once because of LS_ECFG_MAX_CLIENTS. (-1 when the object does not keep it).</summary>
        public long Refused { get; internal set; }

        /// <summary><c>LS_STAT_BYTES_IN</c>: All: bytes received. (-1 when the object does not keep it).</summary>
        public long BytesIn { get; internal set; }

        /// <summary><c>LS_STAT_BYTES_OUT</c>: All: bytes sent (frames with their headers). (-1 when the object does not keep it).</summary>
        public long BytesOut { get; internal set; }

        /// <summary><c>LS_STAT_MESSAGES_IN</c>: All: application messages (datagrams) received; heartbeats are not counted. (-1 when the object does not keep it).</summary>
        public long MessagesIn { get; internal set; }

        /// <summary><c>LS_STAT_MESSAGES_OUT</c>: All: frames (datagrams) sent, heartbeats included. (-1 when the object does not keep it).</summary>
        public long MessagesOut { get; internal set; }

        /// <summary><c>LS_STAT_QUEUED_BYTES</c>: Server and client: bytes waiting in the send queues. (-1 when the object does not keep it).</summary>
        public long QueuedBytes { get; internal set; }

        /// <summary><c>LS_STAT_EVENTS_QUEUED</c>: All: events waiting to be pulled. (-1 when the object does not keep it).</summary>
        public long EventsQueued { get; internal set; }

        /// <summary><c>LS_STAT_FAILED_ATTEMPTS</c>: Client: failed connect attempts so far. (-1 when the object does not keep it).</summary>
        public long FailedAttempts { get; internal set; }

        /// <summary><c>LS_STAT_SEND_QUEUE_FULL</c>: Server: sends refused (LS_ERR_QUEUE_FULL) and broadcast deliveries skipped because a client's send queue was full (under LS_SEND_POLICY_ERROR; each episode also gives an LS_EVENT_WARNING). (-1 when the object does not keep it).</summary>
        public long SendQueueFull { get; internal set; }

        /// <summary><c>LS_STAT_ACCEPT_ERRORS</c>: Server: failed accepts (e.g. EMFILE: out of descriptors); each episode also gives an LS_EVENT_WARNING. (-1 when the object does not keep it).</summary>
        public long AcceptErrors { get; internal set; }

        /// <summary>Core's <c>TLS_FAILURES</c>: server and client: failed TLS handshakes (each also reported by an event) (-1 when the object does not keep it).</summary>
        public long TlsFailures { get; internal set; }

        internal static Stats Read(Func<Stat, long> get)
        {
            var s = new Stats();
            s.Connections = get(Libsock.Stat.CONNECTIONS);
            s.ConnectionsTotal = get(Libsock.Stat.CONNECTIONS_TOTAL);
            s.Refused = get(Libsock.Stat.REFUSED);
            s.BytesIn = get(Libsock.Stat.BYTES_IN);
            s.BytesOut = get(Libsock.Stat.BYTES_OUT);
            s.MessagesIn = get(Libsock.Stat.MESSAGES_IN);
            s.MessagesOut = get(Libsock.Stat.MESSAGES_OUT);
            s.QueuedBytes = get(Libsock.Stat.QUEUED_BYTES);
            s.EventsQueued = get(Libsock.Stat.EVENTS_QUEUED);
            s.FailedAttempts = get(Libsock.Stat.FAILED_ATTEMPTS);
            s.SendQueueFull = get(Libsock.Stat.SEND_QUEUE_FULL);
            s.AcceptErrors = get(Libsock.Stat.ACCEPT_ERRORS);
            s.TlsFailures = get(Libsock.Stat.TLS_FAILURES);
            return s;
        }
    }
}
