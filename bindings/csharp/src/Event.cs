// One engine event, as ls_next_event gives it.
using System;

namespace Libsock
{
    /// <summary>What happened on a <see cref="Server"/>, <see cref="Client"/> or
    /// <see cref="DatagramServer"/>, pulled with <see cref="EngineObject.NextEvent"/>.</summary>
    public sealed class Event
    {
        /// <summary>The kind of event.</summary>
        public EventKind Kind { get; }

        /// <summary>The client id (server: 1, 2, ... never reused; client: the connection number;
        /// RECONNECTING: the attempt number; 0 when the event has none).</summary>
        public ulong Client { get; }

        /// <summary>The reason code (DISCONNECTED), the delay in ms (RECONNECTING), the error code
        /// (WARNING), else 0.</summary>
        public long Value { get; }

        /// <summary>The message or datagram; the peer address (CONNECTED), the reason (DISCONNECTED)
        /// or the warning (WARNING) as UTF-8 text; empty otherwise.</summary>
        public byte[] Data { get; }

        /// <summary>The sender of a datagram (<see cref="DatagramServer.NextDatagram"/>), else null.</summary>
        public string Peer { get; }

        /// <summary>An event.</summary>
        public Event(EventKind kind, ulong client, long value, byte[] data, string peer = null)
        {
            Kind = kind; Client = client; Value = value; Data = data ?? new byte[0]; Peer = peer;
        }

        /// <summary><see cref="Data"/> decoded as UTF-8.</summary>
        public string Text => Utf8.Decode(Data);

        /// <summary>The disconnect reason of a DISCONNECTED event, else null.</summary>
        public DisconnectReason? Reason => Kind == EventKind.DISCONNECTED ? (DisconnectReason?)(DisconnectReason)Value : null;

        /// <summary>The kind as core's word in lower case with '-' ("message", "peer-closed" style).</summary>
        public string KindName => Kind.ToString().ToLowerInvariant().Replace('_', '-');

        /// <summary>"Event(message, client 1, 5 bytes)" and the like.</summary>
        public override string ToString()
        {
            switch (Kind)
            {
                case EventKind.MESSAGE:
                case EventKind.DATAGRAM:
                    return $"Event({KindName}, client {Client}, {Data.Length} bytes{(Peer != null ? " from " + Peer : "")})";
                case EventKind.DISCONNECTED:
                    return $"Event({KindName}, client {Client}, {Reason.ToString().ToLowerInvariant().Replace('_', '-')}: {Text})";
                case EventKind.RECONNECTING:
                    return $"Event({KindName}, attempt {Client}, in {Value} ms)";
                default:
                    return $"Event({KindName}, client {Client}{(Data.Length > 0 ? ", " + Text : "")})";
            }
        }
    }
}
