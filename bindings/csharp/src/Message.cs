// One engine message without its event: what EngineObject.Messages gives (ls_next_messages).
namespace Libsock
{
    /// <summary>A message taken with <see cref="EngineObject.Messages"/>: who sent it and its bytes
    /// (the fast path for a stream of messages: no <see cref="Event"/> per message).</summary>
    public sealed class Message
    {
        /// <summary>The client id (server: 1, 2, ... never reused; client: the connection number),
        /// as <see cref="Event.Client"/> of the MESSAGE event would say.</summary>
        public ulong Client { get; }

        /// <summary>The message's bytes.</summary>
        public byte[] Data { get; }

        /// <summary>A message (a null <paramref name="data"/> is empty).</summary>
        public Message(ulong client, byte[] data)
        {
            Client = client; Data = data ?? new byte[0];
        }

        /// <summary><see cref="Data"/> decoded as UTF-8.</summary>
        public string Text => Utf8.Decode(Data);

        /// <summary>"Message(client 1, 5 bytes)".</summary>
        public override string ToString() => $"Message(client {Client}, {Data.Length} bytes)";
    }
}
