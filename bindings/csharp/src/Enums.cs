// Enumerations: the numbers of include/libsock.h under core's words (docs/NAMES.md), generated
// once from the header; python-tests/test_names.py checks them against core's tables.
namespace Libsock
{
    /// <summary>Socket options (<c>LS_OPT_*</c>; core's <c>SockOpt</c>), for <see cref="SocketBase.SetOption(SockOpt, long)"/> and <see cref="SocketBase.GetOption"/>: the names are core's words in upper case, as in every door (docs/NAMES.md).</summary>
    public enum SockOpt
    {
        /// <summary><c>LS_OPT_NODELAY</c>: TCP_NODELAY (0/1): send small writes at once.</summary>
        NODELAY = 1,
        /// <summary><c>LS_OPT_KEEPALIVE</c>: SO_KEEPALIVE (0/1): kernel keepalive probes.</summary>
        KEEPALIVE = 2,
        /// <summary><c>LS_OPT_KEEPALIVE_IDLE</c>: TCP_KEEPIDLE: seconds of idleness before the first probe (setting it enables keepalive).</summary>
        KEEPALIVE_IDLE = 3,
        /// <summary><c>LS_OPT_KEEPALIVE_INTERVAL</c>: TCP_KEEPINTVL: seconds between probes (setting it enables keepalive).</summary>
        KEEPALIVE_INTERVAL = 4,
        /// <summary><c>LS_OPT_KEEPALIVE_COUNT</c>: TCP_KEEPCNT: unanswered probes before the connection is dropped (enables keepalive).</summary>
        KEEPALIVE_COUNT = 5,
        /// <summary><c>LS_OPT_LINGER</c>: SO_LINGER in seconds: -1 off, 0 abortive close (RST), N wait up to N seconds.</summary>
        LINGER = 6,
        /// <summary><c>LS_OPT_RECV_BUFFER_SIZE</c>: SO_RCVBUF in bytes (Linux reports double the value set). Core's option recv_buffer_size (docs/NAMES.md; LS_OPT_RECV_BUFFER before).</summary>
        RECV_BUFFER_SIZE = 7,
        /// <summary><c>LS_OPT_SEND_BUFFER_SIZE</c>: SO_SNDBUF in bytes (Linux reports double the value set). Core's option send_buffer_size (LS_OPT_SEND_BUFFER before).</summary>
        SEND_BUFFER_SIZE = 8,
        /// <summary><c>LS_OPT_REUSE_ADDRESS</c>: SO_REUSEADDR (0/1).</summary>
        REUSE_ADDRESS = 9,
        /// <summary><c>LS_OPT_REUSE_PORT</c>: SO_REUSEPORT (0/1).</summary>
        REUSE_PORT = 10,
        /// <summary><c>LS_OPT_TTL</c>: IP_TTL / IPV6_UNICAST_HOPS.</summary>
        TTL = 11,
        /// <summary><c>LS_OPT_TOS</c>: IP_TOS / IPV6_TCLASS.</summary>
        TOS = 12,
        /// <summary><c>LS_OPT_V6_ONLY</c>: IPV6_V6ONLY (0/1).</summary>
        V6_ONLY = 13,
        /// <summary><c>LS_OPT_BROADCAST</c>: SO_BROADCAST (0/1).</summary>
        BROADCAST = 14,
        /// <summary><c>LS_OPT_MULTICAST_TTL</c>: IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS.</summary>
        MULTICAST_TTL = 15,
        /// <summary><c>LS_OPT_MULTICAST_LOOP</c>: IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP (0/1).</summary>
        MULTICAST_LOOP = 16,
        /// <summary><c>LS_OPT_TCP_USER_TIMEOUT</c>: TCP_USER_TIMEOUT in milliseconds (Linux). Core's option tcp_user_timeout (LS_OPT_USER_TIMEOUT before).</summary>
        TCP_USER_TIMEOUT = 17,
    }

    /// <summary>What an engine event reports (<c>LS_EVENT_*</c>; core's <c>EventKind</c>).</summary>
    public enum EventKind
    {
        /// <summary><c>LS_EVENT_CONNECTED</c>: ls_next_event kind: a connection was made (server: a client was accepted, the buffer gets its address as text; client: connected to the server).</summary>
        CONNECTED = 1,
        /// <summary><c>LS_EVENT_MESSAGE</c>: ls_next_event kind: a framed message arrived (the buffer gets it).</summary>
        MESSAGE = 2,
        /// <summary><c>LS_EVENT_DISCONNECTED</c>: ls_next_event kind: a connection ended; out_value is the LS_REASON_ code and the buffer gets the reason as text. Every CONNECTED is followed by exactly one DISCONNECTED with the same client id; a client whose connect attempt failed for good reports client 0.</summary>
        DISCONNECTED = 3,
        /// <summary><c>LS_EVENT_RECONNECTING</c>: ls_next_event kind: a client lost its connection (or could not connect) and tries again: out_client is the attempt number (1 for the first retry), out_value the delay in ms.</summary>
        RECONNECTING = 4,
        /// <summary><c>LS_EVENT_DATAGRAM</c>: ls_next_event kind: a datagram arrived at a datagram server (the buffer gets it; the sender's address is not in this event: use ls_next_datagram to get it).</summary>
        DATAGRAM = 5,
        /// <summary><c>LS_EVENT_CLOSED</c>: ls_next_event kind: the object stopped (shutdown, close, or a client gave up reconnecting); the last event. Pulling again gives LS_ERR_CLOSED.</summary>
        CLOSED = 6,
        /// <summary><c>LS_EVENT_WARNING</c>: ls_next_event kind: something went wrong that ended no connection (server only), reported once per episode: out_value is the LS_ERR_ code of what failed and the buffer gets a message in words. LS_ERR_QUEUE_FULL with the client's id in out_client: a send to that client was refused or a broadcast skipped it because its send queue is full (a slow consumer under LS_SEND_POLICY_ERROR; counted in LS_STAT_SEND_QUEUE_FULL); again only after its queue took a message. Another code with client 0: accepting failed (e.g. out of descriptors, EMFILE; counted in LS_STAT_ACCEPT_ERRORS); the server pauses accepting and retries.</summary>
        WARNING = 7,
    }

    /// <summary>Why a connection ended (<c>LS_REASON_*</c>; core's <c>DisconnectReason</c>).</summary>
    public enum DisconnectReason
    {
        /// <summary><c>LS_REASON_PEER_CLOSED</c>: Disconnect reason: the peer closed the connection in order.</summary>
        PEER_CLOSED = 1,
        /// <summary><c>LS_REASON_RESET</c>: Disconnect reason: the peer reset the connection (or it broke).</summary>
        RESET = 2,
        /// <summary><c>LS_REASON_IDLE_TIMEOUT</c>: Disconnect reason: nothing arrived (or moved, per LS_ECFG_IDLE_MODE) for the idle timeout.</summary>
        IDLE_TIMEOUT = 3,
        /// <summary><c>LS_REASON_HEARTBEAT_LOST</c>: Disconnect reason: nothing arrived for heartbeat interval x misses.</summary>
        HEARTBEAT_LOST = 4,
        /// <summary><c>LS_REASON_FRAME_TOO_LARGE</c>: Disconnect reason: the peer sent a frame above the framing's max_len. (A malformed header, e.g. a wrong HP-Socket flag, ends the connection with LS_REASON_ERROR, its text naming the bad frame.)</summary>
        FRAME_TOO_LARGE = 5,
        /// <summary><c>LS_REASON_KICKED</c>: Disconnect reason: the application disconnected the client (ls_server_disconnect).</summary>
        KICKED = 6,
        /// <summary><c>LS_REASON_SERVER_SHUTDOWN</c>: Disconnect reason: the server was shut down.</summary>
        SERVER_SHUTDOWN = 7,
        /// <summary><c>LS_REASON_ERROR</c>: Disconnect reason: another error (the text in the buffer says which).</summary>
        ERROR = 8,
        /// <summary><c>LS_REASON_SEND_QUEUE_FULL</c>: Disconnect reason: the client's send queue overflowed under LS_SEND_POLICY_DISCONNECT.</summary>
        SEND_QUEUE_FULL = 9,
        /// <summary><c>LS_REASON_CLOSED</c>: Disconnect reason: the local client was closed (ls_client_close, ls_close).</summary>
        CLOSED = 10,
        /// <summary><c>LS_REASON_TLS</c> (11): TLS failed: the handshake (unknown CA, name or pin
        /// mismatch, protocol version, a plaintext peer, the handshake timeout ...), a TLS alert later,
        /// or a truncation; the event's text says which.</summary>
        TLS = 11,
    }

    /// <summary>Engine settings (<c>LS_ECFG_*</c>; core's <c>ConfigKey</c>), set with <see cref="EngineConfig.Set"/>; times in milliseconds.</summary>
    public enum ConfigKey
    {
        /// <summary><c>LS_ECFG_MAX_CLIENTS</c>: Server: most clients at once; an extra connection is closed at once and counted (LS_STAT_REFUSED). -1 = no limit (default); 0 is refused (LS_ERR_INVALID_ARGUMENT from ls_server_listen, as in every door).</summary>
        MAX_CLIENTS = 1,
        /// <summary><c>LS_ECFG_SEND_QUEUE_BYTES</c>: Server and client: bound of each send queue in bytes (default 4 MiB). A client's queue also holds messages while it is reconnecting. A message larger than the whole bound is refused with LS_ERR_FRAME_TOO_LARGE, even into an empty queue. 0 is refused when the object is made (LS_ERR_INVALID_ARGUMENT).</summary>
        SEND_QUEUE_BYTES = 2,
        /// <summary><c>LS_ECFG_SEND_POLICY</c>: Server: what a full send queue does, LS_SEND_POLICY_ERROR (default) or LS_SEND_POLICY_DISCONNECT.</summary>
        SEND_POLICY = 3,
        /// <summary><c>LS_ECFG_EVENT_CAPACITY</c>: All: bound of the event queue in events (default 4096). When it is full the engine stops reading sockets: nothing is dropped, memory stays bounded. 0 is refused when the object is made (LS_ERR_INVALID_ARGUMENT).</summary>
        EVENT_CAPACITY = 4,
        /// <summary><c>LS_ECFG_IDLE_TIMEOUT_MS</c>: Server and client: close a connection idle for this many ms (LS_REASON_IDLE_TIMEOUT); 0 = never (default).</summary>
        IDLE_TIMEOUT_MS = 5,
        /// <summary><c>LS_ECFG_IDLE_MODE</c>: Server and client: what the idle timeout counts as activity, LS_IDLE_READS (default) or LS_IDLE_READS_AND_WRITES.</summary>
        IDLE_MODE = 6,
        /// <summary><c>LS_ECFG_HEARTBEAT_INTERVAL_MS</c>: Server and client: send a heartbeat ping after this many ms of silence (sub-second is fine, at least 10 ms) and declare the peer dead after LS_ECFG_HEARTBEAT_MISSES silent intervals. 0 (default): only answer the peer's pings; -1: no heartbeat at all (pings are delivered as messages). An active heartbeat needs a message framing (not raw). 1-9 ms are refused when the object is made (LS_ERR_INVALID_ARGUMENT).</summary>
        HEARTBEAT_INTERVAL_MS = 7,
        /// <summary><c>LS_ECFG_HEARTBEAT_MISSES</c>: Server and client: silent heartbeat intervals before the peer is declared dead (default 3; 0 is refused when the object is made).</summary>
        HEARTBEAT_MISSES = 8,
        /// <summary><c>LS_ECFG_RECONNECT</c>: Client: reconnect after a failed attempt or a lost connection, 0/1 (default 1).</summary>
        RECONNECT = 9,
        /// <summary><c>LS_ECFG_BACKOFF_MIN_MS</c>: Client: first retry delay in ms (default 100, at least 10); it doubles per attempt up to the maximum, which must not be smaller (else LS_ERR_INVALID_ARGUMENT from ls_client_connect).</summary>
        BACKOFF_MIN_MS = 10,
        /// <summary><c>LS_ECFG_BACKOFF_MAX_MS</c>: Client: longest retry delay in ms (default 10000).</summary>
        BACKOFF_MAX_MS = 11,
        /// <summary><c>LS_ECFG_MAX_ATTEMPTS</c>: Client: give up after this many failed attempts in a row; 0 = never (default).</summary>
        MAX_ATTEMPTS = 12,
        /// <summary><c>LS_ECFG_CONNECT_TIMEOUT_MS</c>: Client: time limit of one connect attempt in ms, name lookup included (default 10000; 0 is refused by ls_client_connect).</summary>
        CONNECT_TIMEOUT_MS = 13,
        /// <summary><c>LS_ECFG_JITTER</c>: Client: randomize each retry delay within [delay/2, delay], 0/1 (default 1).</summary>
        JITTER = 14,
        /// <summary><c>LS_ECFG_BACKLOG</c>: Server: listen backlog (default 1024).</summary>
        BACKLOG = 15,
        /// <summary><c>LS_ECFG_CLOSE_TIMEOUT_MS</c>: Server: how long a graceful ls_server_disconnect may flush before the connection is cut, in ms (default 5000).</summary>
        CLOSE_TIMEOUT_MS = 16,
        /// <summary><c>LS_ECFG_MAX_DATAGRAM</c>: Datagram server: largest datagram received whole (default 65536, the most: 1..65536); longer ones are cut.</summary>
        MAX_DATAGRAM = 17,
        /// <summary><c>LS_ECFG_REMOVE_STALE</c>: Server on a Unix path: remove a stale socket file before binding, 0/1 (default 0).</summary>
        REMOVE_STALE = 18,
    }

    /// <summary>Engine statistics (<c>LS_STAT_*</c>; core's <c>Stat</c>), read one with <see cref="EngineObject.Stat"/> or all with <see cref="EngineObject.Stats"/>.</summary>
    public enum Stat
    {
        /// <summary><c>LS_STAT_CONNECTIONS</c>: Server: clients connected now. Client: 1 while connected, else 0.</summary>
        CONNECTIONS = 1,
        /// <summary><c>LS_STAT_CONNECTIONS_TOTAL</c>: Server: clients accepted since the start. Client: connections made so far.</summary>
        CONNECTIONS_TOTAL = 2,
        /// <summary><c>LS_STAT_REFUSED</c>: Server: connections closed at once because of LS_ECFG_MAX_CLIENTS.</summary>
        REFUSED = 3,
        /// <summary><c>LS_STAT_BYTES_IN</c>: All: bytes received.</summary>
        BYTES_IN = 4,
        /// <summary><c>LS_STAT_BYTES_OUT</c>: All: bytes sent (frames with their headers).</summary>
        BYTES_OUT = 5,
        /// <summary><c>LS_STAT_MESSAGES_IN</c>: All: application messages (datagrams) received; heartbeats are not counted.</summary>
        MESSAGES_IN = 6,
        /// <summary><c>LS_STAT_MESSAGES_OUT</c>: All: frames (datagrams) sent, heartbeats included.</summary>
        MESSAGES_OUT = 7,
        /// <summary><c>LS_STAT_QUEUED_BYTES</c>: Server and client: bytes waiting in the send queues.</summary>
        QUEUED_BYTES = 8,
        /// <summary><c>LS_STAT_EVENTS_QUEUED</c>: All: events waiting to be pulled.</summary>
        EVENTS_QUEUED = 9,
        /// <summary><c>LS_STAT_FAILED_ATTEMPTS</c>: Client: failed connect attempts so far.</summary>
        FAILED_ATTEMPTS = 10,
        /// <summary><c>LS_STAT_SEND_QUEUE_FULL</c>: Server: sends refused (LS_ERR_QUEUE_FULL) and broadcast deliveries skipped because a client's send queue was full (under LS_SEND_POLICY_ERROR; each episode also gives an LS_EVENT_WARNING).</summary>
        SEND_QUEUE_FULL = 11,
        /// <summary><c>LS_STAT_ACCEPT_ERRORS</c>: Server: failed accepts (e.g. EMFILE: out of descriptors); each episode also gives an LS_EVENT_WARNING.</summary>
        ACCEPT_ERRORS = 12,
        /// <summary><c>LS_STAT_TLS_FAILURES</c> (13): server and client: failed TLS handshakes (each
        /// also reported: on a server by a WARNING with <see cref="TlsException"/>'s code, on a client
        /// by a DISCONNECTED with reason TLS).</summary>
        TLS_FAILURES = 13,
    }

    /// <summary>What a full send queue of a server's client does (<see cref="ConfigKey.SEND_POLICY"/>).</summary>
    public enum SendPolicy
    {
        /// <summary><c>LS_SEND_POLICY_ERROR</c>: LS_ECFG_SEND_POLICY: a send to a full queue fails with LS_ERR_QUEUE_FULL (broadcasts skip that client).</summary>
        ERROR = 0,
        /// <summary><c>LS_SEND_POLICY_DISCONNECT</c>: LS_ECFG_SEND_POLICY: the slow client is disconnected (LS_REASON_SEND_QUEUE_FULL); the send itself succeeds.</summary>
        DISCONNECT = 1,
    }

    /// <summary>What the idle timeout counts as activity (<see cref="ConfigKey.IDLE_MODE"/>).</summary>
    public enum IdleMode
    {
        /// <summary><c>LS_IDLE_READS</c>: LS_ECFG_IDLE_MODE: only messages received count as activity.</summary>
        READS = 0,
        /// <summary><c>LS_IDLE_READS_AND_WRITES</c>: LS_ECFG_IDLE_MODE: messages received or queued for sending count as activity.</summary>
        READS_AND_WRITES = 1,
    }

    /// <summary>Which direction <see cref="Connection.Shutdown"/> shuts down.</summary>
    public enum ShutdownHow
    {
        /// <summary><c>LS_SHUT_READ</c>: ls_socket_shutdown direction: no more receiving.</summary>
        READ = 0,
        /// <summary><c>LS_SHUT_WRITE</c>: ls_socket_shutdown direction: no more sending (half-close; the peer reads end of stream).</summary>
        WRITE = 1,
        /// <summary><c>LS_SHUT_BOTH</c>: ls_socket_shutdown direction: both.</summary>
        BOTH = 2,
    }
}
