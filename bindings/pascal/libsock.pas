{$IFDEF FPC}{$MODE DELPHI}{$ENDIF}
{ libsock.pas - the Delphi / Free Pascal door of libsock.

  Two layers over the C ABI of libsock (include/libsock.h), in two files:

  1. The raw API, in libsock_api.inc (included in this unit's interface, so `uses libsock;` sees
     it): one external declaration per ls_* function of libsock.h, cdecl, with the header's
     fixed-width types (Int32, Int64, UInt64, NativeUInt for size_t, PAnsiChar for UTF-8
     strings, PByte for byte buffers) and every LS_* constant. Use it exactly as the C
     documentation says: functions return LS_OK (0) or a negative LS_ERR_* code, results come
     through pointer out-parameters.

  2. This file: a thin class layer. TLsConnection, TLsListener, TLsDatagram, TLsOptions and
     TLsTlsConfig (blocking sockets), and TLsServer, TLsClient, TLsDatagramServer and TLsEngineConfig (the event-driven
     engine, whose events are pulled with NextEvent into a TLsEvent record; no callbacks) own one
     handle each (the destructor closes it) and raise ELibsock exceptions (one subclass per error
     code, message from ls_last_error_message) instead of returning codes. A program that used the
     engine calls LsShutdownEngine before it ends (or before unloading the library).

  Library file per platform (LIBSOCK_LIB in libsock_api.inc): libsock.so on Linux / Android
  (SONAME libsock.so.0), libsock.dylib on macOS, sock.dll on Windows - cargo names the cdylib of the
  crate libsock-c (lib name "sock") sock.dll there, with no "lib" prefix.

  The unit compiles with Free Pascal 3.2 (mode Delphi, and mode DelphiUnicode where string is
  UnicodeString as in Delphi 2009+, which CI checks) and is written for Delphi 2009 and later
  (RawByteString, UTF8String, TBytes, Int32/UInt64/NativeUInt). Symbols are imported by their
  plain C names (no leading underscore: the 32-bit macOS Delphi target, which wanted one, is
  not supported). }
unit libsock;

interface

uses
  SysUtils;

{$I libsock_api.inc}

{ ---- Exceptions ----------------------------------------------------------------------------- }

type
  /// Base class of every libsock error: Code is the LS_ERR_* value, OsError the errno behind it
  /// (0 when the failure did not come from the OS); Message comes from ls_last_error_message.
  ELibsock = class(Exception)
  private
    FCode: Int32;
    FOsError: Int32;
  public
    /// Create an error with return code ACode, OS error AOsError and message AMessage.
    constructor CreateCode(ACode: Int32; AOsError: Int32; const AMessage: string);
    /// The LS_ERR_* return code.
    property Code: Int32 read FCode;
    /// The OS error number (errno) behind the failure, or 0.
    property OsError: Int32 read FOsError;
  end;
  /// Class of ELibsock and its subclasses.
  ELibsockClass = class of ELibsock;

  /// LS_ERR_TIMEOUT: a wait ran out of time; the object stays usable.
  ELsTimeout = class(ELibsock);
  /// LS_ERR_CONNECTION_REFUSED: nobody listens at the address.
  ELsConnectionRefused = class(ELibsock);
  /// LS_ERR_CONNECTION_RESET: the peer reset the connection.
  ELsConnectionReset = class(ELibsock);
  /// LS_ERR_CONNECTION_ABORTED: the connection was aborted locally.
  ELsConnectionAborted = class(ELibsock);
  /// LS_ERR_CLOSED: the peer finished sending first, or another thread closed the object.
  ELsClosed = class(ELibsock);
  /// LS_ERR_ADDR_IN_USE: the local address is taken.
  ELsAddrInUse = class(ELibsock);
  /// LS_ERR_ADDR_NOT_AVAILABLE: the local address is not on this host.
  ELsAddrNotAvailable = class(ELibsock);
  /// LS_ERR_UNREACHABLE: no route to the network or host.
  ELsUnreachable = class(ELibsock);
  /// LS_ERR_RESOLVE: a host name could not be resolved.
  ELsResolve = class(ELibsock);
  /// LS_ERR_INVALID_ARGUMENT: a malformed address, an out-of-range value, a nil buffer ...
  ELsInvalidArgument = class(ELibsock);
  /// LS_ERR_FRAME_TOO_LARGE: a frame exceeds the framing's max_len.
  ELsFrameTooLarge = class(ELibsock);
  /// LS_ERR_BUFFER_TOO_SMALL: the caller's buffer is too small; Needed bytes would fit and the
  /// message stays queued for the next call.
  ELsBufferTooSmall = class(ELibsock)
  private
    FNeeded: NativeUInt;
  public
    /// The size a buffer needs for the call to succeed.
    property Needed: NativeUInt read FNeeded;
  end;
  /// LS_ERR_BAD_HANDLE: an unknown or closed handle, or one of the wrong kind.
  ELsBadHandle = class(ELibsock);
  /// LS_ERR_QUEUE_FULL: a bounded queue is full.
  ELsQueueFull = class(ELibsock);
  /// LS_ERR_UNSUPPORTED: the operation or option does not exist here.
  ELsUnsupported = class(ELibsock);
  /// LS_ERR_TLS: a TLS handshake or certificate failure.
  ELsTls = class(ELibsock);
  /// LS_ERR_IO: any other OS error (OsError holds the errno).
  ELsIo = class(ELibsock);
  /// LS_ERR_INTERNAL: a bug inside libsock.
  ELsInternal = class(ELibsock);
  /// LS_ERR_INTERRUPTED: a wait was interrupted.
  ELsInterrupted = class(ELibsock);
  /// LS_ERR_BAD_FRAME: the peer sent a malformed frame (e.g. a wrong HP-Socket PACK flag); close
  /// the connection.
  ELsBadFrame = class(ELibsock);

/// The ELibsock subclass raised for return code Code.
function LsErrorClass(Code: Int32): ELibsockClass;
/// Raise the exception for return code Code with the calling thread's last error message and
/// OS error; call it right after the failing ls_* call. Does nothing for LS_OK (or positive).
procedure LsRaise(Code: Int32; Needed: NativeUInt = 0);
/// Return Code unchanged when it is LS_OK, else raise its exception (see LsRaise).
function LsCheck(Code: Int32): Int32;
/// The calling thread's last error message as a string ('' if no call failed).
function LsLastErrorMessage: string;
/// The version of the loaded libsock library, e.g. '0.1.0'.
function LsVersion: string;
/// The fixed English text of return code Code.
function LsStrError(Code: Int32): string;
/// The name of return code Code without LS_ERR_, e.g. 'TIMEOUT'.
function LsErrorName(Code: Int32): string;

{ ---- Classes -------------------------------------------------------------------------------- }

type
  /// Owner of one libsock handle; the destructor closes it. Close is idempotent.
  TLsObject = class
  protected
    FHandle: Int64;
  public
    /// Adopt handle AHandle (it is closed by Close or the destructor).
    constructor CreateFromHandle(AHandle: Int64);
    /// Close the handle (harmless when already closed).
    destructor Destroy; override;
    /// Release the handle: a call blocked on it in another thread raises ELsClosed promptly.
    /// Closing again does nothing; other methods then raise ELsBadHandle.
    procedure Close;
    /// Give up ownership: return the handle and leave the object closed without closing it.
    function ReleaseHandle: Int64;
    /// The libsock handle (0 once closed), for the raw ls_* functions.
    property Handle: Int64 read FHandle;
  end;

  /// TLS settings: CreateClient (verifies the server against the system's roots and the host
  /// connected to) or CreateServer (set a certificate). Attach them with TLsOptions.SetTls or
  /// TLsEngineConfig.SetTls. Bad values raise ELsInvalidArgument; a failed handshake later
  /// raises ELsTls naming the reason.
  TLsTlsConfig = class(TLsObject)
  public
    /// Client settings.
    constructor CreateClient;
    /// Server settings (they need SetCertFiles or SetCertPem).
    constructor CreateServer;
    /// Client: trust the CA certificates of a PEM file (instead of the system's roots).
    procedure SetCaFile(const Path: string);
    /// Client: trust the CA certificates in PEM text.
    procedure SetCaPem(const Pem: RawByteString);
    /// Client: trust the Mozilla roots bundled in libsock.
    procedure SetBundledRoots;
    /// Client: trust only a server whose certificate (or key) has this SHA-256 fingerprint
    /// (LsFingerprint computes it); call again to allow several.
    procedure AddPin(const Sha256Hex: string);
    /// Client: DANGER: verify nothing (tests only; pin a self-signed server instead).
    procedure SetDangerousNoVerify;
    /// Client: the name sent by SNI and checked (default: the host connected to).
    procedure SetServerName(const Name: string);
    /// The certificate chain and key from PEM files: a server's own, or a client's (mTLS).
    procedure SetCertFiles(const CertPath, KeyPath: string);
    /// SetCertFiles from PEM text (e.g. from LsSelfSigned).
    procedure SetCertPem(const Cert, Key: RawByteString);
    /// Server: serve this certificate (PEM files) to clients asking for Name by SNI.
    procedure AddSniCertFiles(const Name, CertPath, KeyPath: string);
    /// Server: AddSniCertFiles from PEM text.
    procedure AddSniCertPem(const Name: string; const Cert, Key: RawByteString);
    /// Server: client certificates LS_TLS_CLIENT_AUTH_*, checked against the CAs in CaPem.
    procedure SetClientAuth(Mode: Int32; const CaPem: RawByteString = '');
    /// Server: SetClientAuth with the CA certificates of a PEM file.
    procedure SetClientAuthFile(Mode: Int32; const CaPath: string);
    /// Add an ALPN protocol (most preferred first).
    procedure AddAlpn(const Protocol: string);
    /// The lowest version: LS_TLS_VERSION_1_2 (default) or LS_TLS_VERSION_1_3.
    procedure SetMinVersion(Version: Int32);
    /// How long a handshake may take in ms (default 10000).
    procedure SetHandshakeTimeout(TimeoutMs: Int32);
    /// Write session keys to $SSLKEYLOGFILE (for Wireshark).
    procedure SetKeylog(On_: Boolean);
  end;

  /// Socket options applied before binding or connecting (pass it to the constructors).
  TLsOptions = class(TLsObject)
  public
    /// Create an empty options object.
    constructor Create;
    /// Record option Option (LS_OPT_*) = Value.
    procedure SetOption(Option: Int32; Value: Int64);
    /// The value recorded for Option (ELsInvalidArgument if none was).
    function GetOption(Option: Int32): Int64;
    /// Bind to this local address ('ip:port') before connecting.
    procedure SetLocalAddress(const Address: string);
    /// Speak TLS with these settings (nil: plaintext): a client config for
    /// TLsConnection.Connect, a server config for TLsListener.Listen. Tls may be freed after.
    procedure SetTls(Tls: TLsTlsConfig);
    /// Connect through a proxy: 'socks5://[user:password@]host[:port]' (port 1080 by default;
    /// the target's name is resolved by the proxy) or 'http://[user:password@]host[:port]'
    /// (HTTP CONNECT); '' removes it. A bad URL raises ELsInvalidArgument here (the message never
    /// shows the password). TLsConnection.Connect then reaches the proxy and asks it for the
    /// address (TLS runs end to end with the target); a proxy that refuses raises the error of
    /// its answer (ELsConnectionRefused, ELsUnreachable ...). Listen and the datagram calls
    /// refuse options with a proxy.
    procedure SetProxy(const Url: string);
  end;

  /// What every socket has: options, addresses, default timeout.
  TLsSocket = class(TLsObject)
  private
    function GetTimeout: Int32;
    procedure SetTimeout(Value: Int32);
  public
    /// Set socket option Option (LS_OPT_*) to Value (booleans 0/1).
    procedure SetOption(Option: Int32; Value: Int64);
    /// Read socket option Option back from the OS.
    function GetOption(Option: Int32): Int64;
    /// The local address as text ('127.0.0.1:5000', '[::1]:5000', 'unix:/path').
    function LocalAddress: string;
    /// The local port (0 for Unix sockets).
    function LocalPort: Int32;
    /// Bytes readable now without waiting (datagram: size of the next datagram).
    function BytesAvailable: NativeUInt;
    /// Default timeout in milliseconds of calls given LS_TIMEOUT_DEFAULT and of every send:
    /// -1 forever (the initial value), 0 poll, N milliseconds.
    property Timeout: Int32 read GetTimeout write SetTimeout;
  end;

  /// A socket whose messages go through a framing (connections; on a listener the framing is
  /// given to every accepted connection).
  TLsFramedSocket = class(TLsSocket)
  public
    /// No framing (the default): RecvMsg returns what one read gives.
    procedure SetFramingRaw;
    /// Length-prefixed messages: a Width-byte (1, 2, 4, 8) length field, big endian (network
    /// order) or little endian; bodies above MaxLen (0 = 16 MiB) raise ELsFrameTooLarge.
    procedure SetFramingLength(Width: Int32; BigEndian: Boolean = True;
      MaxLen: NativeUInt = LS_DEFAULT_MAX_LEN);
    /// Length-prefixed messages with a longer header (see ls_set_framing_length_ex).
    procedure SetFramingLengthEx(Width: Int32; BigEndian: Boolean; Offset, HeaderLen: NativeUInt;
      Adjustment: Int64; MaxLen: NativeUInt; KeepHeader: Boolean);
    /// Delimited messages ending with Delim (e.g. #13#10); Keep delivers the delimiter too.
    procedure SetFramingDelimited(const Delim: RawByteString;
      MaxLen: NativeUInt = LS_DEFAULT_MAX_LEN; Keep: Boolean = False); overload;
    /// Delimited messages ending with the bytes Delim.
    procedure SetFramingDelimited(const Delim: TBytes;
      MaxLen: NativeUInt = LS_DEFAULT_MAX_LEN; Keep: Boolean = False); overload;
    /// Fixed-size messages of Size bytes.
    procedure SetFramingFixed(Size: NativeUInt);
    /// HP-Socket's PACK framing with header flag Flag (0..1023).
    procedure SetFramingHpPack(Flag: Int32; MaxLen: NativeUInt = 0);
  end;

  /// The byte order of a number on the wire, for TLsConnection's typed reads and writes
  /// (RecvInt32, SendDouble ...): lsBigEndian (network order, most significant byte first) or
  /// lsLittleEndian. Always given explicitly: the wire format is the protocol's, not the CPU's.
  TLsByteOrder = (lsBigEndian, lsLittleEndian);

  /// Messages of TLsConnection.SendMsgs and RecvMsgs, in order.
  TLsMessages = array of TBytes;

  /// Descriptors received with TLsConnection.RecvFds (the caller owns and closes them).
  TLsFds = array of Int32;

  /// The process at the other end of a Unix connection (TLsConnection.PeerCredentials).
  TLsPeerCredentials = record
    /// Its process id.
    Pid: Int32;
    /// Its user id.
    Uid: UInt64;
    /// Its group id.
    Gid: UInt64;
  end;

  /// One connection's counters: a server's client (TLsServer.ClientStats) or a blocking
  /// connection (TLsConnection.Stats; QueuedBytes always 0 there).
  TLsClientStats = record
    /// Bytes received from it (frames with their headers).
    BytesIn: Int64;
    /// Bytes sent to it (frames with their headers).
    BytesOut: Int64;
    /// Messages received from it (heartbeats not counted).
    MessagesIn: Int64;
    /// Messages sent to it (heartbeats included).
    MessagesOut: Int64;
    /// Bytes waiting in its send queue.
    QueuedBytes: Int64;
    /// When it was admitted (accepted; with TLS, its handshake done), in ms since 1970-01-01 UTC.
    ConnectedSinceMs: Int64;
    /// True when it speaks TLS.
    Tls: Boolean;
  end;

  /// A TCP or Unix stream connection.
  TLsConnection = class(TLsFramedSocket)
  public
    /// Connect to 'host:port', '[v6]:port' or 'unix:/path' within TimeoutMs (-1: the OS's
    /// limit), with Options (may be nil) applied first. Raises ELsConnectionRefused, ELsTimeout ...
    constructor Connect(const Address: string; TimeoutMs: Int32 = LS_TIMEOUT_FOREVER;
      Options: TLsOptions = nil);
    /// Send what the socket takes now from Buf (at least one byte); returns the count.
    function SendBuf(Buf: Pointer; Len: NativeUInt): NativeUInt;
    /// Send what the socket takes now of Data; returns the count sent.
    function Send(const Data: TBytes): NativeUInt; overload;
    /// Send what the socket takes now of the bytes of Data; returns the count sent.
    function Send(const Data: RawByteString): NativeUInt; overload;
    /// Send all Len bytes at Buf.
    procedure SendAllBuf(Buf: Pointer; Len: NativeUInt);
    /// Send all of Data.
    procedure SendAll(const Data: TBytes); overload;
    /// Send all bytes of Data (a UTF8String or any RawByteString, sent as they are).
    procedure SendAll(const Data: RawByteString); overload;
    /// Receive what is there (waiting for at least one byte) into Buf; 0 at end of stream.
    function RecvBuf(Buf: Pointer; Cap: NativeUInt; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): NativeUInt;
    /// Receive what is there, at most MaxLen bytes; empty at end of stream.
    function Recv(MaxLen: NativeUInt = 65536; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes;
    /// Recv as a string of the bytes received (UTF8String: assign it to string for text).
    function RecvStr(MaxLen: NativeUInt = 65536; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UTF8String;
    /// Receive exactly Len bytes into Buf (ELsClosed if the peer closes first, ELsTimeout when
    /// TimeoutMs runs out; what arrived stays buffered either way).
    procedure RecvExactBuf(Buf: Pointer; Len: NativeUInt; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT);
    /// Receive exactly Len bytes.
    function RecvExact(Len: NativeUInt; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes;
    /// Receive exactly Len bytes as a string.
    function RecvExactStr(Len: NativeUInt; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UTF8String;
    /// Receive up to and including Delim (at most MaxLen bytes, else ELsFrameTooLarge and the
    /// bytes stay buffered).
    function RecvUntil(const Delim: RawByteString; MaxLen: NativeUInt = 65536;
      TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes; overload;
    /// Receive up to and including the bytes Delim.
    function RecvUntil(const Delim: TBytes; MaxLen: NativeUInt = 65536;
      TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes; overload;
    /// RecvUntil as a string (the delimiter included).
    function RecvUntilStr(const Delim: RawByteString; MaxLen: NativeUInt = 65536;
      TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UTF8String;
    /// Send one message of Len bytes at Buf through the framing.
    procedure SendMsgBuf(Buf: Pointer; Len: NativeUInt);
    /// Send one message through the framing (a length header, a delimiter ...).
    procedure SendMsg(const Data: TBytes); overload;
    /// Send one message (the bytes of Data) through the framing.
    procedure SendMsg(const Data: RawByteString); overload;
    /// Receive one message into Buf; returns its length. ELsBufferTooSmall (with Needed) when
    /// it does not fit: the message stays queued for the next call.
    function RecvMsgBuf(Buf: Pointer; Cap: NativeUInt; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): NativeUInt;
    /// Receive one message of any size through the framing. ELsClosed at end of stream,
    /// ELsFrameTooLarge for a frame above the framing's max_len.
    function RecvMsg(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes;
    /// RecvMsg as a string of the message's bytes.
    function RecvMsgStr(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UTF8String;
    /// Send the messages Msgs through the framing with as few system calls as possible (their
    /// frames go out together). Each is checked against the framing first: ELsFrameTooLarge
    /// sends none.
    procedure SendMsgs(const Msgs: array of TBytes);
    /// Receive up to MaxCount messages through the framing: waits (TimeoutMs) for the first
    /// only, then takes those already there. An error met after the first message ends the
    /// batch and is raised by the next message call, so no message before it is lost.
    function RecvMsgs(MaxCount: NativeUInt = 64; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TLsMessages;
    /// Shut down one direction: LS_SHUT_WRITE (half-close), LS_SHUT_READ or LS_SHUT_BOTH.
    procedure Shutdown(How: Int32 = LS_SHUT_WRITE);
    /// The peer's address as text (known even after the peer left).
    function PeerAddress: string;
    /// Send Len bytes (-1: to the end) of the file at Path from Offset; returns the count.
    function SendFile(const Path: string; Offset: UInt64 = 0; Len: Int64 = -1): UInt64;
    /// Receive exactly Len bytes into a new file at Path; returns the count.
    function RecvFile(const Path: string; Len: UInt64): UInt64;
    /// True when the connection speaks TLS.
    function IsTls: Boolean;
    /// The TLS version agreed on ('TLSv1.3', 'TLSv1.2'; '' for a plain connection).
    function TlsVersion: string;
    /// The cipher suite agreed on ('' for a plain connection).
    function TlsCipher: string;
    /// The ALPN protocol agreed on ('' when none).
    function TlsAlpn: string;
    /// The SHA-256 fingerprint of the peer's certificate ('' when it sent none).
    function TlsPeerFingerprint: string;
    /// The peer's certificate (DER; empty when it sent none).
    function TlsPeerCertificate: TBytes;
    /// Unix connections: send all of Data with the descriptors Fds attached (SCM_RIGHTS; Data
    /// at least one byte when Fds is not empty; at most 253). The peer gets duplicates, ours
    /// stay open. ELsUnsupported on TCP or TLS; a number that is no open descriptor: ELsIo.
    procedure SendFds(const Data: TBytes; const Fds: array of Int32); overload;
    /// SendFds with the bytes of a string.
    procedure SendFds(const Data: RawByteString; const Fds: array of Int32); overload;
    /// Unix connections: receive what is there (at most MaxLen bytes, waiting for one; empty at
    /// end of stream) and up to MaxFds descriptors sent with those bytes into Fds, which the
    /// caller then owns (close them with fpClose / CloseHandle's kin; close-on-exec is set).
    /// More than MaxFds came: ELsIo (none leak; the bytes stay buffered). MaxFds above
    /// LS_MAX_FDS (253) raises ELsInvalidArgument.
    function RecvFds(out Fds: TLsFds; MaxLen: NativeUInt = 65536; MaxFds: NativeUInt = 16;
      TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes;
    /// Unix connections: the peer process as the kernel recorded it at connect (SO_PEERCRED;
    /// Linux). ELsUnsupported on TCP.
    function PeerCredentials: TLsPeerCredentials;
    /// What went through this connection so far: bytes and messages each way, and when it was
    /// made (ls_connection_stats). Never waits behind a call blocked on it in another thread.
    function Stats: TLsClientStats;
    /// One counter of Stats by its C number (LS_STAT_BYTES_IN ... LS_CLIENT_STAT_TLS).
    function Stat(Id: Int32): Int64;
    { Typed reads and writes: one number, a fixed count of bytes in the byte order given. A read
      is RecvExactBuf of the number's size: ELsClosed if the peer closes before all of it came,
      ELsTimeout when TimeoutMs runs out (what arrived stays buffered either way). A write is
      SendAllBuf. Single and Double are IEEE 754 binary32 and binary64. }
    /// Receive one signed byte.
    function RecvInt8(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): Int8;
    /// Receive one unsigned byte.
    function RecvUInt8(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UInt8;
    /// Receive a signed 16-bit integer (2 bytes) in byte order Order.
    function RecvInt16(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): Int16;
    /// Receive a unsigned 16-bit integer (2 bytes) in byte order Order.
    function RecvUInt16(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UInt16;
    /// Receive a signed 32-bit integer (4 bytes) in byte order Order.
    function RecvInt32(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): Int32;
    /// Receive a unsigned 32-bit integer (4 bytes) in byte order Order.
    function RecvUInt32(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UInt32;
    /// Receive a signed 64-bit integer (8 bytes) in byte order Order.
    function RecvInt64(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): Int64;
    /// Receive a unsigned 64-bit integer (8 bytes) in byte order Order.
    function RecvUInt64(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UInt64;
    /// Receive an IEEE 754 binary32 float (4 bytes) in byte order Order.
    function RecvSingle(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): Single;
    /// Receive an IEEE 754 binary64 float (8 bytes) in byte order Order.
    function RecvDouble(Order: TLsByteOrder; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): Double;
    /// Send one signed byte.
    procedure SendInt8(Value: Int8);
    /// Send one unsigned byte.
    procedure SendUInt8(Value: UInt8);
    /// Send Value as a signed 16-bit integer (2 bytes) in byte order Order.
    procedure SendInt16(Value: Int16; Order: TLsByteOrder);
    /// Send Value as a unsigned 16-bit integer (2 bytes) in byte order Order.
    procedure SendUInt16(Value: UInt16; Order: TLsByteOrder);
    /// Send Value as a signed 32-bit integer (4 bytes) in byte order Order.
    procedure SendInt32(Value: Int32; Order: TLsByteOrder);
    /// Send Value as a unsigned 32-bit integer (4 bytes) in byte order Order.
    procedure SendUInt32(Value: UInt32; Order: TLsByteOrder);
    /// Send Value as a signed 64-bit integer (8 bytes) in byte order Order.
    procedure SendInt64(Value: Int64; Order: TLsByteOrder);
    /// Send Value as a unsigned 64-bit integer (8 bytes) in byte order Order.
    procedure SendUInt64(Value: UInt64; Order: TLsByteOrder);
    /// Send Value as an IEEE 754 binary32 float (4 bytes) in byte order Order.
    procedure SendSingle(Value: Single; Order: TLsByteOrder);
    /// Send Value as an IEEE 754 binary64 float (8 bytes) in byte order Order.
    procedure SendDouble(Value: Double; Order: TLsByteOrder);
  end;

  /// A TCP or Unix listening socket.
  TLsListener = class(TLsFramedSocket)
  public
    /// Listen on Address ('127.0.0.1:0' picks a free port, '[::]:port', 'unix:/path');
    /// Backlog 0 = 1024; Options (may be nil) applied before binding.
    constructor Listen(const Address: string; Backlog: Int32 = 0; Options: TLsOptions = nil);
    /// Wait for a client (LS_TIMEOUT_DEFAULT: the Timeout property) and return its connection,
    /// which has this listener's framing. Raises ELsTimeout when no client came.
    function Accept(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TLsConnection;
  end;

  /// A UDP or Unix datagram socket.
  TLsDatagram = class(TLsSocket)
  public
    /// Open a datagram socket bound to Address ('0.0.0.0:5000', '127.0.0.1:0', 'unix:/path').
    constructor Bind(const Address: string; Options: TLsOptions = nil);
    /// Open a datagram socket connected to Address (Send/Recv talk to that peer only).
    constructor Connect(const Address: string; Options: TLsOptions = nil);
    /// Send one datagram of Len bytes at Buf to Address (data first, address last, as in
    /// every door: docs/NAMES.md).
    procedure SendToBuf(Buf: Pointer; Len: NativeUInt; const Address: string);
    /// Send one datagram to Address.
    procedure SendTo(const Data: TBytes; const Address: string); overload;
    /// Send one datagram (the bytes of Data) to Address.
    procedure SendTo(const Data: RawByteString; const Address: string); overload;
    /// Receive one datagram into Buf: returns its length, Peer the sender, Truncated True when
    /// it was larger than Cap (its tail is lost).
    function RecvFromBuf(Buf: Pointer; Cap: NativeUInt; out Peer: string; out Truncated: Boolean;
      TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): NativeUInt;
    /// Receive one datagram of at most MaxLen bytes, with its sender and truncation flag.
    function RecvFrom(out Peer: string; out Truncated: Boolean; MaxLen: NativeUInt = 65536;
      TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes;
    /// Send one datagram to the connected peer.
    procedure Send(const Data: TBytes); overload;
    /// Send one datagram (the bytes of Data) to the connected peer.
    procedure Send(const Data: RawByteString); overload;
    /// Receive one datagram from the connected peer (cut silently at MaxLen).
    function Recv(MaxLen: NativeUInt = 65536; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes;
    /// Join multicast group Group ('239.1.2.3', 'ff02::1234') on Iface ('' the default).
    procedure JoinMulticast(const Group: string; const Iface: string = '');
    /// Leave a multicast group (same arguments as JoinMulticast).
    procedure LeaveMulticast(const Group: string; const Iface: string = '');
    /// Send this socket's multicast datagrams out of interface Iface: '' the OS's choice, an
    /// IPv4 interface address ('127.0.0.1') or an IPv6 interface index ('1'). A malformed one
    /// raises ELsInvalidArgument, one this host lacks ELsAddrNotAvailable.
    procedure SetMulticastInterface(const Iface: string);
    /// The connected peer's address as text.
    function PeerAddress: string;
  end;

{ ---- The engine: event-driven servers and long-lived clients ------------------------------- }

type
  /// One event pulled from a TLsServer, TLsClient or TLsDatagramServer (NextEvent).
  TLsEvent = record
    /// The LS_EVENT_* kind.
    Kind: Int32;
    /// The client id (server: from 1, never reused; client: the connection number; for
    /// LS_EVENT_RECONNECTING the attempt number; 0 when the event has none).
    Client: UInt64;
    /// LS_EVENT_DISCONNECTED: the LS_REASON_* code; LS_EVENT_RECONNECTING: the delay in ms;
    /// LS_EVENT_WARNING: the LS_ERR_* code; else 0.
    Value: Int64;
    /// LS_EVENT_DISCONNECTED: the LS_REASON_* code; else 0.
    Reason: Int32;
    /// LS_EVENT_WARNING: the LS_ERR_* code of what failed (LS_ERR_QUEUE_FULL for a slow
    /// consumer); else 0.
    ErrorCode: Int32;
    /// LS_EVENT_MESSAGE and LS_EVENT_DATAGRAM: the message or datagram; else empty.
    Data: TBytes;
    /// LS_EVENT_CONNECTED: the peer's address; LS_EVENT_DISCONNECTED: the reason as text;
    /// LS_EVENT_WARNING: the warning in words; LS_EVENT_DATAGRAM from NextDatagram: the
    /// sender's address; else ''.
    Text: string;
  end;

  /// Client ids of a TLsServer (Clients, SendMany).
  TLsClientIds = array of UInt64;

  /// One message taken with TLsEngineObject.Messages: who sent it and its bytes (no TLsEvent
  /// per message).
  TLsEngineMessage = record
    /// The client id (server: from 1, never reused; client: the connection number), as the
    /// LS_EVENT_MESSAGE event's Client would say.
    Client: UInt64;
    /// The message (TBytes, any size; empty for an empty message).
    Data: TBytes;
  end;

  /// Messages of TLsEngineObject.Messages, in the order they came.
  TLsEngineMessages = array of TLsEngineMessage;

  /// Every statistic of an engine object at once (Stats); a statistic the object does not keep
  /// reads 0.
  TLsEngineStats = record
    /// LS_STAT_CONNECTIONS: server: clients connected now; client: 1 while connected.
    Connections: Int64;
    /// LS_STAT_CONNECTIONS_TOTAL: clients accepted (server) or connections made (client).
    ConnectionsTotal: Int64;
    /// LS_STAT_REFUSED: connections closed at once because of LS_ECFG_MAX_CLIENTS.
    Refused: Int64;
    /// LS_STAT_BYTES_IN: bytes received.
    BytesIn: Int64;
    /// LS_STAT_BYTES_OUT: bytes sent, frame headers included.
    BytesOut: Int64;
    /// LS_STAT_MESSAGES_IN: messages (datagrams) received, heartbeats not counted.
    MessagesIn: Int64;
    /// LS_STAT_MESSAGES_OUT: frames (datagrams) sent, heartbeats included.
    MessagesOut: Int64;
    /// LS_STAT_QUEUED_BYTES: bytes waiting in the send queues.
    QueuedBytes: Int64;
    /// LS_STAT_EVENTS_QUEUED: events waiting to be pulled.
    EventsQueued: Int64;
    /// LS_STAT_FAILED_ATTEMPTS: failed connect attempts of a client.
    FailedAttempts: Int64;
    /// LS_STAT_SEND_QUEUE_FULL: sends refused and broadcast deliveries skipped because a
    /// client's send queue was full (server).
    SendQueueFull: Int64;
    /// LS_STAT_ACCEPT_ERRORS: failed accepts (server).
    AcceptErrors: Int64;
    /// LS_STAT_TLS_FAILURES: failed TLS handshakes (server and client).
    TlsFailures: Int64;
  end;

  /// Settings for TLsServer.Listen, TLsClient.Connect and TLsDatagramServer.Bind: numbers by
  /// LS_ECFG_* key, the framing (default: a 4-byte big-endian length prefix), socket options
  /// (default: LS_OPT_NODELAY on) and heartbeat payloads. Keys that do not apply to the object
  /// made are ignored; the object made takes a copy, so the config may be changed, reused or
  /// freed afterwards.
  TLsEngineConfig = class(TLsObject)
  public
    /// Create a config holding the defaults.
    constructor Create;
    /// Set Key (LS_ECFG_*) to AValue (booleans 0/1, times in ms); ELsInvalidArgument out of range.
    procedure SetKey(Key: Int32; AValue: Int64);
    /// The value of Key (LS_ECFG_*): as set, or the default.
    function GetKey(Key: Int32): Int64;
    /// Active heartbeat: a ping after IntervalMs of silence, the peer declared dead after Misses
    /// silent intervals (LS_REASON_HEARTBEAT_LOST). Needs a message framing (not raw).
    procedure SetHeartbeat(IntervalMs: Int64; Misses: Int64 = 3);
    /// Client reconnecting: on or off, first and longest retry delay in ms, jitter on or off.
    procedure SetReconnect(Enabled: Boolean; BackoffMinMs: Int64 = 100;
      BackoffMaxMs: Int64 = 10000; Jitter: Boolean = True);
    /// Use other heartbeat payloads than the default #0'LSPING' / #0'LSPONG' (non-empty, different).
    procedure SetHeartbeatPayloads(const Ping, Pong: RawByteString);
    /// Speak TLS (nil: plaintext on both sides): a server config for TLsServer.Listen, a client
    /// config for TLsClient.Connect, as the settings are now. A failed handshake is a server
    /// LS_EVENT_WARNING with LS_ERR_TLS, a client disconnect with LS_REASON_TLS.
    procedure SetTls(Tls: TLsTlsConfig);
    /// Connect TLsClient through a proxy: Url as for TLsOptions.SetProxy ('' removes it),
    /// checked here (ELsInvalidArgument). Every attempt, reconnects included, goes through the
    /// proxy again, within LS_ECFG_CONNECT_TIMEOUT_MS; a refusal is a failed attempt like any
    /// other (its event's text says what the proxy answered). Servers ignore it.
    procedure SetProxy(const Url: string);
    /// Set socket option Option (LS_OPT_*) for the sockets the engine makes.
    procedure SetOption(Option: Int32; AValue: Int64);
    /// The socket option recorded for Option (ELsInvalidArgument if none was).
    function GetOption(Option: Int32): Int64;
    /// No framing: each read is one message.
    procedure SetFramingRaw;
    /// Length-prefixed messages: a Width-byte (1, 2, 4, 8) length field (the default: 4, big endian).
    procedure SetFramingLength(Width: Int32; BigEndian: Boolean = True;
      MaxLen: NativeUInt = LS_DEFAULT_MAX_LEN);
    /// Length-prefixed messages with a longer header (see ls_set_framing_length_ex).
    procedure SetFramingLengthEx(Width: Int32; BigEndian: Boolean; Offset, HeaderLen: NativeUInt;
      Adjustment: Int64; MaxLen: NativeUInt; KeepHeader: Boolean);
    /// Delimited messages ending with Delim (e.g. #13#10); Keep delivers the delimiter too.
    procedure SetFramingDelimited(const Delim: RawByteString;
      MaxLen: NativeUInt = LS_DEFAULT_MAX_LEN; Keep: Boolean = False);
    /// Fixed-size messages of Size bytes.
    procedure SetFramingFixed(Size: NativeUInt);
    /// HP-Socket's PACK framing with header flag Flag (0..1023).
    procedure SetFramingHpPack(Flag: Int32; MaxLen: NativeUInt = 0);
    /// The value of key Key (LS_ECFG_*); writing sets it.
    property Values[Key: Int32]: Int64 read GetKey write SetKey; default;
  end;

  /// What servers, clients and datagram servers of the engine share: pulling events, the
  /// readiness descriptor, statistics. Free closes the handle (the object stops at once).
  TLsEngineObject = class(TLsObject)
  public
    /// Take the next event, waiting up to TimeoutMs (-1 forever, 0 poll): True and Event filled
    /// when one came, False when the time ran out. Messages of any size are taken whole (the
    /// buffer grows on LS_ERR_BUFFER_TOO_SMALL; the event stays queued meanwhile). After the
    /// final LS_EVENT_CLOSED was taken, or when another thread closed the object, raises ELsClosed.
    /// Safe to call from several threads.
    function NextEvent(TimeoutMs: Int32; out Event: TLsEvent): Boolean;
    /// The LS_EVENT_MESSAGE events at the head of the queue, up to MaxCount, in one call
    /// (ls_next_messages): waits up to TimeoutMs (-1 forever, 0 poll) for the first event, then
    /// takes the messages already there, with no TLsEvent per message. It stops before the first
    /// event of another kind, which NextEvent then takes: so an empty array means the time ran
    /// out (NextEvent's False) or such an event (e.g. LS_EVENT_DISCONNECTED) is next. Messages
    /// of any size are taken whole (the buffer grows on LS_ERR_BUFFER_TOO_SMALL; the message
    /// stays queued meanwhile); fewer than MaxCount may come when the buffer is full, the rest
    /// stays queued. ELsInvalidArgument for MaxCount 0 and on a TLsDatagramServer (its events
    /// carry senders: NextDatagram); ELsClosed as NextEvent. Safe to call from several threads.
    function Messages(TimeoutMs: Int32; MaxCount: NativeUInt = 64): TLsEngineMessages;
    /// Events waiting now (without waiting).
    function PendingEvents: NativeUInt;
    /// A file descriptor readable while events wait (level-triggered), for select/poll/epoll or
    /// a TThread waiting on it; never read from it or close it.
    function NotifyFd: Int32;
    /// Statistic Id (LS_STAT_*); ELsUnsupported for one the object does not keep.
    function Stat(Id: Int32): Int64;
    /// Every statistic at once (those the object does not keep read 0).
    function Stats: TLsEngineStats;
  end;

  /// An event-driven server: accepts clients, reads their framed messages and queues
  /// LS_EVENT_CONNECTED / MESSAGE / DISCONNECTED events (pull them with NextEvent); commands
  /// (Send, Broadcast, Disconnect ...) return at once and may come from any thread.
  TLsServer = class(TLsEngineObject)
  public
    /// Listen on Address ('127.0.0.1:0' picks a free port: read it with LocalPort; '[::]:port';
    /// 'unix:/path') with Config's settings (nil: the defaults, 4-byte big-endian length prefix).
    constructor Listen(const Address: string; Config: TLsEngineConfig = nil);
    /// The address it listens on as text ('127.0.0.1:5000', 'unix:/path').
    function LocalAddress: string;
    /// The port it listens on: the real port when bound to port 0.
    function LocalPort: Int32;
    /// Queue Len bytes at Buf as one message to Client. ELsClosed for an unknown or gone client,
    /// ELsQueueFull when its send queue is full (LS_SEND_POLICY_ERROR).
    procedure SendBuf(Client: UInt64; Buf: Pointer; Len: NativeUInt);
    /// Queue Data as one message to Client.
    procedure Send(Client: UInt64; const Data: TBytes); overload;
    /// Queue the bytes of Data as one message to Client.
    procedure Send(Client: UInt64; const Data: RawByteString); overload;
    /// Queue Data to every connected client except ExceptClient (0: none); returns how many
    /// clients it was queued for.
    function Broadcast(const Data: TBytes; ExceptClient: UInt64 = 0): NativeUInt; overload;
    /// Queue the bytes of Data to every connected client except ExceptClient.
    function Broadcast(const Data: RawByteString; ExceptClient: UInt64 = 0): NativeUInt; overload;
    /// Queue Data to each client of Clients (unknown ones are skipped); returns how many took it.
    function SendMany(const Clients: array of UInt64; const Data: TBytes): NativeUInt; overload;
    /// Queue the bytes of Data to each client of Clients; returns how many took it.
    function SendMany(const Clients: array of UInt64; const Data: RawByteString): NativeUInt; overload;
    /// Disconnect Client: Graceful delivers what is queued first, else the connection is cut.
    /// An LS_EVENT_DISCONNECTED with LS_REASON_KICKED follows.
    procedure Disconnect(Client: UInt64; Graceful: Boolean = True);
    /// The ids of the connected clients, in increasing order.
    function Clients: TLsClientIds;
    /// The address of connected client Client as text (ELsClosed for an unknown client).
    function ClientAddress(Client: UInt64): string;
    /// Client's counters: bytes and messages in and out, queued bytes, since when, TLS.
    /// ELsClosed for an unknown or gone client.
    function ClientStats(Client: UInt64): TLsClientStats;
    /// Queue Msgs to Client in order as one batch (at most one wake-up of the engine, written
    /// together), each waiting for room in its send queue, all within TimeoutMs (-1 as long as
    /// it takes, 0 not at all). Every message is checked first: one too large queues none
    /// (ELsFrameTooLarge). Returns how many were queued: all, or fewer when the time ran out (or
    /// the client went) after some; raises when not even the first could be (ELsTimeout,
    /// ELsQueueFull, ELsClosed).
    function SendBatch(Client: UInt64; const Msgs: array of TBytes;
      TimeoutMs: Int32 = LS_TIMEOUT_FOREVER): NativeUInt;
    /// Stop: no new clients, queued messages delivered within GraceMs, then every connection
    /// closed (LS_REASON_SERVER_SHUTDOWN) and the final LS_EVENT_CLOSED queued. Blocks until
    /// done and wakes NextEvent waiters; pull the last events, then Free. Again: does nothing.
    procedure Shutdown(GraceMs: Int32 = 5000);
  end;

  /// A long-lived client with auto-reconnect (backoff with jitter) and a send queue that holds
  /// messages while it is disconnected and sends them in order after the next connect.
  TLsClient = class(TLsEngineObject)
  public
    /// Start a client of the server at Address ('host:port', '[v6]:port', 'unix:/path') with
    /// Config's settings (nil: defaults). Returns at once; LS_EVENT_CONNECTED (or
    /// LS_EVENT_RECONNECTING) tells how it went. A malformed address raises here.
    constructor Connect(const Address: string; Config: TLsEngineConfig = nil);
    /// Queue Len bytes at Buf as one message (ELsQueueFull when the queue's bound is reached).
    procedure SendBuf(Buf: Pointer; Len: NativeUInt);
    /// Queue Data as one message.
    procedure Send(const Data: TBytes); overload;
    /// Queue the bytes of Data as one message.
    procedure Send(const Data: RawByteString); overload;
    /// Queue Msgs in order as one batch (as TLsServer.SendBatch); while disconnected they wait
    /// in the queue and go after the next connect. Returns how many were queued.
    function SendBatch(const Msgs: array of TBytes; TimeoutMs: Int32 = LS_TIMEOUT_FOREVER): NativeUInt;
    /// Close gracefully: while connected, what is queued is delivered within GraceMs, then the
    /// connection is closed (LS_REASON_CLOSED) and the final LS_EVENT_CLOSED follows. Blocks
    /// until done; pull the last events, then Free. (Close without argument closes at once.)
    procedure Close(GraceMs: Int32); overload;
  end;

  /// A UDP endpoint whose datagrams arrive as LS_EVENT_DATAGRAM events (NextDatagram gives the
  /// sender too).
  TLsDatagramServer = class(TLsEngineObject)
  public
    /// Bind to Address ('0.0.0.0:5000', '127.0.0.1:0', '[::]:0') with Config's settings (nil:
    /// defaults; LS_ECFG_MAX_DATAGRAM, LS_ECFG_EVENT_CAPACITY and socket options apply).
    constructor Bind(const Address: string; Config: TLsEngineConfig = nil);
    /// The address it is bound to as text.
    function LocalAddress: string;
    /// The port it is bound to: the real port when bound to port 0.
    function LocalPort: Int32;
    /// Send one datagram of Len bytes at Buf to Address (data first, address last, as in
    /// every door: docs/NAMES.md).
    procedure SendToBuf(Buf: Pointer; Len: NativeUInt; const Address: string);
    /// Send one datagram to Address.
    procedure SendTo(const Data: TBytes; const Address: string); overload;
    /// Send one datagram (the bytes of Data) to Address.
    procedure SendTo(const Data: RawByteString; const Address: string); overload;
    /// Connect to one peer, Address ('127.0.0.1:5000', '[::1]:5000', 'host:5000'; nothing is
    /// sent): from then on only that peer's datagrams are received, Send goes to it without
    /// naming it (the kernel keeps the route: the cheapest send, for a client of one server),
    /// and an ICMP error for it (nothing listens there) makes the next Send (or the next
    /// NextDatagram that finds nothing queued) raise ELsConnectionRefused. SendTo still sends
    /// anywhere; connecting again moves to another peer.
    procedure Connect(const Address: string);
    /// Send one datagram of Len bytes at Buf to the peer given to Connect; ELsInvalidArgument if
    /// Connect was never called.
    procedure SendBuf(Buf: Pointer; Len: NativeUInt);
    /// Send one datagram to the connected peer (see Connect).
    procedure Send(const Data: TBytes); overload;
    /// Send one datagram (the bytes of Data) to the connected peer (see Connect).
    procedure Send(const Data: RawByteString); overload;
    /// NextEvent with the sender: Event.Kind LS_EVENT_DATAGRAM (Data the datagram, Text the
    /// sender's address) or the final LS_EVENT_CLOSED. False when TimeoutMs ran out.
    function NextDatagram(TimeoutMs: Int32; out Event: TLsEvent): Boolean;
  end;

  /// Where a file transfer is (TLsFileTransfer.Progress).
  TLsTransferProgress = record
    /// Bytes of the file sent or written so far, counted from the start of the file (a resumed
    /// transfer starts at its offset).
    Done: UInt64;
    /// The file's size (0 on a receiver until the header arrived).
    Total: UInt64;
    /// LS_TRANSFER_STARTING, _TRANSFERRING, _VERIFYING, _DONE or _FAILED.
    State: Int32;
  end;

  /// What is known about a file transfer once its header is through (TLsFileTransfer.Info).
  TLsTransferInfo = record
    /// The file's name as the sender announced it (a receiver: its safe version; '' before).
    Name: string;
    /// The sender's file, or the receiver's final path ('' before the header).
    Path: string;
    /// The file's size.
    Size: UInt64;
    /// The protocol version spoken (1 or 2; 0 before the header).
    Version: Int32;
    /// The bytes the receiver offered to resume from (0: none).
    Offered: UInt64;
    /// Where the bytes started: the offer when the sender accepted it, else 0.
    ResumedAt: UInt64;
    /// The SHA-256 of the whole file in lower-case hex ('' until verified).
    Sha256: string;
  end;

  /// One side of a file transfer (core's FileTransfer: the protocol of `libsock send-file`):
  /// the file with its name, size and SHA-256, resumable after a broken connection, moved over
  /// a TLsConnection the caller made (plain, TLS, Unix). The receiver writes NAME.libsock-part
  /// and renames it to the final name only when the SHA-256 matches. Run moves it all; Step one
  /// piece, so a loop can show Progress (which, like Cancel, works from any thread).
  TLsFileTransfer = class(TLsObject)
  public
    /// Send the file at Path (opened now: a missing file raises here, ELsIo). Name is what the
    /// receiver is told ('': the file's own name). Resume True (the usual) speaks protocol
    /// version 2, which lets a receiver resume; False version 1, for old receivers.
    constructor Sender(const Path: string; const Name: string = ''; Resume: Boolean = True);
    /// Receive one file into Dest: the file to write, or a directory to write into under the
    /// sender's name. Overwrite replaces an existing file (else ELsIo with OsError EEXIST);
    /// Resume offers the partial file a broken transfer left, and the sender sends only the
    /// rest when its first bytes are the same.
    constructor Receiver(const Dest: string; Overwrite: Boolean = False; Resume: Boolean = False);
    /// Move the transfer one piece forward over Conn (the handshake, at most 1 MiB of the file,
    /// or the checksum exchange; each wait bounded by Conn's Timeout) and return the
    /// LS_TRANSFER_* state. A checksum that differs or a peer that does not speak the protocol:
    /// ELsBadFrame; a peer that closes in the middle: ELsClosed (a receiver keeps the partial
    /// file); after Cancel: ELsInterrupted.
    function Step(Conn: TLsConnection): Int32;
    /// Run the transfer to its end over Conn (Step until LS_TRANSFER_DONE; the same errors).
    procedure Run(Conn: TLsConnection);
    /// Bytes done, total and state, from any thread, without waiting for a step.
    function Progress: TLsTransferProgress;
    /// Stop at the start of the next step (which raises ELsInterrupted), from any thread; a
    /// step blocked in a wait finishes first (closing the connection ends it at once).
    procedure Cancel;
    /// Name, path, size, version, resume offer and SHA-256 as known so far.
    function Info: TLsTransferInfo;
  end;

  /// KCP tuning for TLsKcpServer.Bind and TLsKcpSession.Connect: LS_KCP_* keys with the
  /// reference implementation's words (nodelay, interval, resend, nc, windows, MTU, minimum
  /// RTO, stream mode, dead link; the server's linger). Unset keys keep the "fast" defaults; both
  /// ends should agree on the MTU and the stream mode. The object made takes a copy.
  TLsKcpConfig = class(TLsObject)
  private
    procedure SetKey(Key: Int32; AValue: Int64);
    function GetKey(Key: Int32): Int64;
  public
    /// Create a config holding the defaults.
    constructor Create;
    /// Key (LS_KCP_*): read the value as set or the default, write a new one (ELsInvalidArgument
    /// out of range, naming the range).
    property Values[Key: Int32]: Int64 read GetKey write SetKey; default;
  end;

  /// A KCP server (reliable UDP, wire-compatible with the reference KCP): one UDP socket whose
  /// sessions (one per peer address and conversation id, opened by the peer's first datagram)
  /// are its clients, with the TCP server's events (LS_EVENT_CONNECTED, _MESSAGE,
  /// _DISCONNECTED, _CLOSED), calls and statistics (plus LS_KCP_STAT_*). A session whose peer
  /// stops acknowledging ends with LS_REASON_HEARTBEAT_LOST, a silent one with
  /// LS_REASON_IDLE_TIMEOUT (LS_ECFG_IDLE_TIMEOUT_MS; 60 s unless set).
  TLsKcpServer = class(TLsEngineObject)
  public
    /// Bind to Address ('127.0.0.1:0' picks a free port: read it with LocalPort; '[::]:port')
    /// with Config's engine settings (event capacity, max clients, send queue bytes, send
    /// policy, idle timeout; nil: defaults) and Kcp's tuning (nil: defaults). A Unix address
    /// raises ELsUnsupported.
    constructor Bind(const Address: string; Config: TLsEngineConfig = nil; Kcp: TLsKcpConfig = nil);
    /// The address it is bound to as text.
    function LocalAddress: string;
    /// The port it is bound to: the real port when bound to port 0.
    function LocalPort: Int32;
    /// Queue Len bytes at Buf as one message to Client (ELsClosed for an unknown or gone one).
    procedure SendBuf(Client: UInt64; Buf: Pointer; Len: NativeUInt);
    /// Queue Data as one message to Client.
    procedure Send(Client: UInt64; const Data: TBytes); overload;
    /// Queue the bytes of Data as one message to Client.
    procedure Send(Client: UInt64; const Data: RawByteString); overload;
    /// End Client's session (LS_REASON_KICKED).
    procedure Disconnect(Client: UInt64);
    /// The ids of the sessions open now.
    function Clients: TLsClientIds;
    /// Client's address as text.
    function ClientAddress(Client: UInt64): string;
    /// Stop at once (KCP has no close on the wire): the last events, then LS_EVENT_CLOSED.
    procedure Shutdown;
  end;

  /// A KCP session with a KCP server (libsock's or any reference KCP peer) over a connected
  /// UDP socket. It runs only while one of its calls runs: wait in Recv or call Poll so that the
  /// peer's data is acknowledged. Blocking calls take TimeoutMs (LS_TIMEOUT_DEFAULT: the
  /// Timeout property, initially forever). Close abandons what is unacknowledged: Flush first.
  TLsKcpSession = class(TLsObject)
  private
    function GetTimeout: Int32;
    procedure SetTimeout(Value: Int32);
  public
    /// Start a session of conversation Conv (0..4294967295, or LS_KCP_CONV_RANDOM: read it
    /// with Conv) with the KCP server at Address ('host:port', '[v6]:port'), with Kcp's tuning
    /// and Options' socket options (both may be nil). Nothing is sent before the first message.
    constructor Connect(const Address: string; AConv: Int64 = LS_KCP_CONV_RANDOM;
      Kcp: TLsKcpConfig = nil; Options: TLsOptions = nil);
    /// Send Len bytes at Buf as one message, waiting while too much is unacknowledged (ELsTimeout
    /// then, nothing queued). Empty: ELsInvalidArgument; too large: ELsFrameTooLarge; a peer
    /// that stopped acknowledging: ELsConnectionAborted.
    procedure SendBuf(Buf: Pointer; Len: NativeUInt; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT);
    /// Send Data as one message.
    procedure Send(const Data: TBytes; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT); overload;
    /// Send the bytes of Data as one message.
    procedure Send(const Data: RawByteString; TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT); overload;
    /// The next message (any size), waiting up to TimeoutMs (ELsTimeout when none came).
    function Recv(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): TBytes;
    /// Recv as a string of the message's bytes.
    function RecvStr(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT): UTF8String;
    /// Wait until everything sent is acknowledged (ELsTimeout when it was not within TimeoutMs).
    procedure Flush(TimeoutMs: Int32 = LS_TIMEOUT_DEFAULT);
    /// Run the protocol for TimeoutMs (0 or more) without taking messages; True when a message
    /// is ready for Recv.
    function Poll(TimeoutMs: Int32 = 0): Boolean;
    /// The conversation id.
    function Conv: Int64;
    /// The local address as text.
    function LocalAddress: string;
    /// The server's address as text.
    function PeerAddress: string;
    /// Statistic Id: LS_STAT_BYTES_IN, _BYTES_OUT, _MESSAGES_IN, _MESSAGES_OUT or LS_KCP_STAT_*
    /// (ELsUnsupported for one a session does not keep).
    function Stat(Id: Int32): Int64;
    /// Default timeout of the blocking calls in ms (-1 forever, the initial value).
    property Timeout: Int32 read GetTimeout write SetTimeout;
  end;

/// Start a KCP session (the same as TLsKcpSession.Connect; Python's kcp_connect).
function LsKcpConnect(const Address: string; Conv: Int64 = LS_KCP_CONV_RANDOM;
  Kcp: TLsKcpConfig = nil; Options: TLsOptions = nil): TLsKcpSession;

/// The word of transfer state State ('TRANSFERRING' for LS_TRANSFER_TRANSFERRING), '' for none.
function LsTransferStateName(State: Int32): string;

/// Stop the engine: every server, client and datagram server stops at once (waiters wake, their
/// last events are queued; free the objects as usual), and the engine's threads are joined, so
/// the library can be unloaded cleanly. Call it before the program ends (or before FreeLibrary)
/// when it used the engine. Safe to call more than once; a new engine object starts it again.
procedure LsShutdownEngine;
/// The name of event kind Kind without LS_EVENT_, e.g. 'MESSAGE'.
function LsEventName(Kind: Int32): string;
/// The name of disconnect reason Reason without LS_REASON_, e.g. 'HEARTBEAT_LOST'.
function LsReasonName(Reason: Int32): string;

/// A self-signed certificate and key (PEM) for Names ('localhost,127.0.0.1'): to try TLS, for
/// tests, and for devices trusted by their pin.
procedure LsSelfSigned(const Names: string; out Cert, Key: UTF8String);
/// LsSelfSigned into files (the key readable by its owner only); returns the pin.
function LsSelfSignedFiles(const Names, CertPath, KeyPath: string): string;
/// The SHA-256 fingerprint (64 hex digits) of a certificate given as PEM text or DER bytes:
/// what TLsTlsConfig.AddPin takes.
function LsFingerprint(const Cert: RawByteString): string;

/// The bytes of S as TBytes.
function LsBytes(const S: RawByteString): TBytes;
/// The bytes of B as a string (UTF8String; assign to string for text).
function LsBytesToStr(const B: TBytes): UTF8String;

implementation

var
  { Target of the pointer passed for empty data, so that no call ever passes nil (libsock accepts
    nil with length 0, but a non-nil pointer also suits older builds of it). }
  LsEmpty: UInt8;

function DataPtr(P: Pointer; Len: NativeUInt): PByte;
begin
  if (P = nil) and (Len = 0) then
    Result := @LsEmpty
  else
    Result := PByte(P);
end;

function BytesPtr(const B: TBytes): PByte;
begin
  if Length(B) = 0 then
    Result := @LsEmpty
  else
    Result := @B[0];
end;

function StrPtr(const S: RawByteString): PByte;
begin
  if Length(S) = 0 then
    Result := @LsEmpty
  else
    Result := PByte(Pointer(S));
end;

function Utf8Of(const S: string): UTF8String;
begin
  Result := UTF8String(S);
end;

function Utf8Text(P: PAnsiChar; Len: NativeUInt): string;
var
  U: UTF8String;
begin
  SetLength(U, Len);
  if Len > 0 then
    Move(P^, Pointer(U)^, Len);
  Result := string(U);
end;

function CStr(P: PAnsiChar): string;
var
  N: NativeUInt;
begin
  N := 0;
  if P <> nil then
    while P[N] <> #0 do
      Inc(N);
  Result := Utf8Text(P, N);
end;

function LsBytes(const S: RawByteString): TBytes;
begin
  Result := nil;
  SetLength(Result, Length(S));
  if Length(S) > 0 then
    Move(Pointer(S)^, Result[0], Length(S));
end;

function LsBytesToStr(const B: TBytes): UTF8String;
begin
  SetLength(Result, Length(B));
  if Length(B) > 0 then
    Move(B[0], Pointer(Result)^, Length(B));
end;

{ ---- Errors --------------------------------------------------------------------------------- }

constructor ELibsock.CreateCode(ACode: Int32; AOsError: Int32; const AMessage: string);
begin
  inherited Create(AMessage);
  FCode := ACode;
  FOsError := AOsError;
end;

function LsErrorClass(Code: Int32): ELibsockClass;
begin
  case Code of
    LS_ERR_TIMEOUT: Result := ELsTimeout;
    LS_ERR_CONNECTION_REFUSED: Result := ELsConnectionRefused;
    LS_ERR_CONNECTION_RESET: Result := ELsConnectionReset;
    LS_ERR_CONNECTION_ABORTED: Result := ELsConnectionAborted;
    LS_ERR_CLOSED: Result := ELsClosed;
    LS_ERR_ADDR_IN_USE: Result := ELsAddrInUse;
    LS_ERR_ADDR_NOT_AVAILABLE: Result := ELsAddrNotAvailable;
    LS_ERR_UNREACHABLE: Result := ELsUnreachable;
    LS_ERR_RESOLVE: Result := ELsResolve;
    LS_ERR_INVALID_ARGUMENT: Result := ELsInvalidArgument;
    LS_ERR_FRAME_TOO_LARGE: Result := ELsFrameTooLarge;
    LS_ERR_BUFFER_TOO_SMALL: Result := ELsBufferTooSmall;
    LS_ERR_BAD_HANDLE: Result := ELsBadHandle;
    LS_ERR_QUEUE_FULL: Result := ELsQueueFull;
    LS_ERR_UNSUPPORTED: Result := ELsUnsupported;
    LS_ERR_TLS: Result := ELsTls;
    LS_ERR_IO: Result := ELsIo;
    LS_ERR_INTERNAL: Result := ELsInternal;
    LS_ERR_INTERRUPTED: Result := ELsInterrupted;
    LS_ERR_BAD_FRAME: Result := ELsBadFrame;
  else
    Result := ELibsock;
  end;
end;

function LsLastErrorMessage: string;
var
  Buf: array[0..511] of AnsiChar;
  Big: UTF8String;
  N: NativeUInt;
  Rc: Int32;
begin
  N := 0;
  Rc := ls_last_error_message(@Buf[0], SizeOf(Buf), @N);
  if Rc = LS_OK then
    Result := Utf8Text(@Buf[0], N)
  else if Rc = LS_ERR_BUFFER_TOO_SMALL then
  begin
    SetLength(Big, N);
    if ls_last_error_message(PAnsiChar(Pointer(Big)), N, @N) = LS_OK then
      Result := Utf8Text(PAnsiChar(Pointer(Big)), N)
    else
      Result := '';
  end
  else
    Result := '';
end;

procedure LsRaise(Code: Int32; Needed: NativeUInt);
var
  OsErr: Int32;
  Msg: string;
  E: ELibsock;
begin
  if Code >= LS_OK then
    Exit;
  OsErr := ls_last_os_error;
  Msg := LsLastErrorMessage;
  if Msg = '' then
    Msg := CStr(ls_strerror(Code));
  E := LsErrorClass(Code).CreateCode(Code, OsErr, Msg);
  if E is ELsBufferTooSmall then
    ELsBufferTooSmall(E).FNeeded := Needed;
  raise E;
end;

function LsCheck(Code: Int32): Int32;
begin
  if Code < LS_OK then
    LsRaise(Code, 0);
  Result := Code;
end;

function LsVersion: string;
begin
  Result := CStr(ls_version);
end;

function LsStrError(Code: Int32): string;
begin
  Result := CStr(ls_strerror(Code));
end;

function LsErrorName(Code: Int32): string;
begin
  Result := CStr(ls_error_name(Code));
end;

type
  TAddressFn = function(handle: Int64; buf: PAnsiChar; cap: NativeUInt; out_len: PLsSize): Int32; cdecl;

function ReadAddress(Fn: TAddressFn; H: Int64): string;
var
  Buf: array[0..LS_ADDRESS_MAX - 1] of AnsiChar;
  N: NativeUInt;
begin
  N := 0;
  LsCheck(Fn(H, @Buf[0], SizeOf(Buf), @N));
  Result := Utf8Text(@Buf[0], N);
end;

{ ---- TLsObject ------------------------------------------------------------------------------ }

constructor TLsObject.CreateFromHandle(AHandle: Int64);
begin
  inherited Create;
  FHandle := AHandle;
end;

destructor TLsObject.Destroy;
begin
  Close;
  inherited Destroy;
end;

procedure TLsObject.Close;
var
  H: Int64;
begin
  H := FHandle;
  FHandle := 0;
  if H <> 0 then
    ls_close(H); { a second close (BAD_HANDLE) is harmless by design }
end;

function TLsObject.ReleaseHandle: Int64;
begin
  Result := FHandle;
  FHandle := 0;
end;

{ ---- TLsTlsConfig --------------------------------------------------------------------------- }

constructor TLsTlsConfig.CreateClient;
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_tls_client_config_new(@H));
  FHandle := H;
end;

constructor TLsTlsConfig.CreateServer;
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_tls_server_config_new(@H));
  FHandle := H;
end;

procedure TLsTlsConfig.SetCaFile(const Path: string);
begin
  LsCheck(ls_tls_set_ca_file(FHandle, PAnsiChar(Utf8Of(Path))));
end;

procedure TLsTlsConfig.SetCaPem(const Pem: RawByteString);
begin
  LsCheck(ls_tls_set_ca_pem(FHandle, StrPtr(Pem), Length(Pem)));
end;

procedure TLsTlsConfig.SetBundledRoots;
begin
  LsCheck(ls_tls_set_bundled_roots(FHandle));
end;

procedure TLsTlsConfig.AddPin(const Sha256Hex: string);
begin
  LsCheck(ls_tls_add_pin(FHandle, PAnsiChar(Utf8Of(Sha256Hex))));
end;

procedure TLsTlsConfig.SetDangerousNoVerify;
begin
  LsCheck(ls_tls_set_dangerous_no_verify(FHandle));
end;

procedure TLsTlsConfig.SetServerName(const Name: string);
begin
  LsCheck(ls_tls_set_server_name(FHandle, PAnsiChar(Utf8Of(Name))));
end;

procedure TLsTlsConfig.SetCertFiles(const CertPath, KeyPath: string);
begin
  LsCheck(ls_tls_set_cert_files(FHandle, PAnsiChar(Utf8Of(CertPath)), PAnsiChar(Utf8Of(KeyPath))));
end;

procedure TLsTlsConfig.SetCertPem(const Cert, Key: RawByteString);
begin
  LsCheck(ls_tls_set_cert_pem(FHandle, StrPtr(Cert), Length(Cert), StrPtr(Key), Length(Key)));
end;

procedure TLsTlsConfig.AddSniCertFiles(const Name, CertPath, KeyPath: string);
begin
  LsCheck(ls_tls_add_sni_cert_files(FHandle, PAnsiChar(Utf8Of(Name)), PAnsiChar(Utf8Of(CertPath)),
    PAnsiChar(Utf8Of(KeyPath))));
end;

procedure TLsTlsConfig.AddSniCertPem(const Name: string; const Cert, Key: RawByteString);
begin
  LsCheck(ls_tls_add_sni_cert_pem(FHandle, PAnsiChar(Utf8Of(Name)), StrPtr(Cert), Length(Cert),
    StrPtr(Key), Length(Key)));
end;

procedure TLsTlsConfig.SetClientAuth(Mode: Int32; const CaPem: RawByteString);
begin
  LsCheck(ls_tls_set_client_auth(FHandle, Mode, StrPtr(CaPem), Length(CaPem)));
end;

procedure TLsTlsConfig.SetClientAuthFile(Mode: Int32; const CaPath: string);
begin
  LsCheck(ls_tls_set_client_auth_file(FHandle, Mode, PAnsiChar(Utf8Of(CaPath))));
end;

procedure TLsTlsConfig.AddAlpn(const Protocol: string);
begin
  LsCheck(ls_tls_add_alpn(FHandle, PAnsiChar(Utf8Of(Protocol))));
end;

procedure TLsTlsConfig.SetMinVersion(Version: Int32);
begin
  LsCheck(ls_tls_set_min_version(FHandle, Version));
end;

procedure TLsTlsConfig.SetHandshakeTimeout(TimeoutMs: Int32);
begin
  LsCheck(ls_tls_set_handshake_timeout(FHandle, TimeoutMs));
end;

procedure TLsTlsConfig.SetKeylog(On_: Boolean);
begin
  LsCheck(ls_tls_set_keylog(FHandle, Ord(On_)));
end;

function TlsHandle(Tls: TLsTlsConfig): Int64;
begin
  if Tls = nil then
    Result := 0
  else
    Result := Tls.Handle;
end;

type
  TTextFn = function(handle: Int64; buf: PAnsiChar; cap: NativeUInt; out_len: PLsSize): Int32; cdecl;

{ A text result of Fn, growing the buffer when asked to. }
function ReadText(Fn: TTextFn; H: Int64): string;
var
  Buf: AnsiString;
  N: NativeUInt;
  Rc: Int32;
begin
  SetLength(Buf, 128);
  N := 0;
  Rc := Fn(H, PAnsiChar(Buf), Length(Buf), @N);
  if Rc = LS_ERR_BUFFER_TOO_SMALL then
  begin
    SetLength(Buf, N);
    Rc := Fn(H, PAnsiChar(Buf), Length(Buf), @N);
  end;
  LsCheck(Rc);
  Result := Utf8Text(PAnsiChar(Buf), N);
end;

procedure LsSelfSigned(const Names: string; out Cert, Key: UTF8String);
var
  C, K: AnsiString;
  CL, KL: NativeUInt;
  Rc: Int32;
begin
  SetLength(C, 4096);
  SetLength(K, 4096);
  CL := 0;
  KL := 0;
  Rc := ls_tls_self_signed(PAnsiChar(Utf8Of(Names)), PByte(Pointer(C)), Length(C), @CL,
    PByte(Pointer(K)), Length(K), @KL);
  if Rc = LS_ERR_BUFFER_TOO_SMALL then
  begin
    SetLength(C, CL);
    SetLength(K, KL);
    Rc := ls_tls_self_signed(PAnsiChar(Utf8Of(Names)), PByte(Pointer(C)), Length(C), @CL,
      PByte(Pointer(K)), Length(K), @KL);
  end;
  LsCheck(Rc);
  SetLength(Cert, CL);
  SetLength(Key, KL);
  if CL > 0 then
    Move(Pointer(C)^, Pointer(Cert)^, CL);
  if KL > 0 then
    Move(Pointer(K)^, Pointer(Key)^, KL);
end;

function LsSelfSignedFiles(const Names, CertPath, KeyPath: string): string;
var
  Buf: array[0..LS_FINGERPRINT_MAX - 1] of AnsiChar;
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_tls_self_signed_files(PAnsiChar(Utf8Of(Names)), PAnsiChar(Utf8Of(CertPath)),
    PAnsiChar(Utf8Of(KeyPath)), PByte(@Buf[0]), SizeOf(Buf), @N));
  Result := Utf8Text(@Buf[0], N);
end;

function LsFingerprint(const Cert: RawByteString): string;
var
  Buf: array[0..LS_FINGERPRINT_MAX - 1] of AnsiChar;
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_fingerprint(StrPtr(Cert), Length(Cert), PByte(@Buf[0]), SizeOf(Buf), @N));
  Result := Utf8Text(@Buf[0], N);
end;

{ ---- TLsOptions ----------------------------------------------------------------------------- }

constructor TLsOptions.Create;
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_options_new(@H));
  FHandle := H;
end;

procedure TLsOptions.SetOption(Option: Int32; Value: Int64);
begin
  LsCheck(ls_set_option(FHandle, Option, Value));
end;

function TLsOptions.GetOption(Option: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_get_option(FHandle, Option, @V));
  Result := V;
end;

procedure TLsOptions.SetLocalAddress(const Address: string);
begin
  LsCheck(ls_options_set_local_address(FHandle, PAnsiChar(Utf8Of(Address))));
end;

procedure TLsOptions.SetTls(Tls: TLsTlsConfig);
begin
  LsCheck(ls_options_set_tls(FHandle, TlsHandle(Tls)));
end;

procedure TLsOptions.SetProxy(const Url: string);
begin
  LsCheck(ls_options_set_proxy(FHandle, PAnsiChar(Utf8Of(Url))));
end;

function OptionsHandle(Options: TLsOptions): Int64;
begin
  if Options = nil then
    Result := 0
  else
    Result := Options.Handle;
end;

{ ---- TLsSocket ------------------------------------------------------------------------------ }

function TLsSocket.GetTimeout: Int32;
var
  T: Int32;
begin
  T := 0;
  LsCheck(ls_get_timeout(FHandle, @T));
  Result := T;
end;

procedure TLsSocket.SetTimeout(Value: Int32);
begin
  LsCheck(ls_set_timeout(FHandle, Value));
end;

procedure TLsSocket.SetOption(Option: Int32; Value: Int64);
begin
  LsCheck(ls_set_option(FHandle, Option, Value));
end;

function TLsSocket.GetOption(Option: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_get_option(FHandle, Option, @V));
  Result := V;
end;

function TLsSocket.LocalAddress: string;
begin
  Result := ReadAddress(ls_local_address, FHandle);
end;

function TLsSocket.LocalPort: Int32;
var
  P: Int32;
begin
  P := 0;
  LsCheck(ls_local_port(FHandle, @P));
  Result := P;
end;

function TLsSocket.BytesAvailable: NativeUInt;
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_bytes_available(FHandle, @N));
  Result := N;
end;

{ ---- TLsFramedSocket ------------------------------------------------------------------------ }

procedure TLsFramedSocket.SetFramingRaw;
begin
  LsCheck(ls_set_framing_raw(FHandle));
end;

procedure TLsFramedSocket.SetFramingLength(Width: Int32; BigEndian: Boolean; MaxLen: NativeUInt);
begin
  LsCheck(ls_set_framing_length(FHandle, Width, Ord(BigEndian), MaxLen));
end;

procedure TLsFramedSocket.SetFramingLengthEx(Width: Int32; BigEndian: Boolean;
  Offset, HeaderLen: NativeUInt; Adjustment: Int64; MaxLen: NativeUInt; KeepHeader: Boolean);
begin
  LsCheck(ls_set_framing_length_ex(FHandle, Width, Ord(BigEndian), Offset, HeaderLen,
    Adjustment, MaxLen, Ord(KeepHeader)));
end;

procedure TLsFramedSocket.SetFramingDelimited(const Delim: RawByteString; MaxLen: NativeUInt;
  Keep: Boolean);
begin
  LsCheck(ls_set_framing_delimited(FHandle, StrPtr(Delim), Length(Delim), MaxLen, Ord(Keep)));
end;

procedure TLsFramedSocket.SetFramingDelimited(const Delim: TBytes; MaxLen: NativeUInt;
  Keep: Boolean);
begin
  LsCheck(ls_set_framing_delimited(FHandle, BytesPtr(Delim), Length(Delim), MaxLen, Ord(Keep)));
end;

procedure TLsFramedSocket.SetFramingFixed(Size: NativeUInt);
begin
  LsCheck(ls_set_framing_fixed(FHandle, Size));
end;

procedure TLsFramedSocket.SetFramingHpPack(Flag: Int32; MaxLen: NativeUInt);
begin
  LsCheck(ls_set_framing_hp_pack(FHandle, Flag, MaxLen));
end;

{ ---- TLsConnection -------------------------------------------------------------------------- }

constructor TLsConnection.Connect(const Address: string; TimeoutMs: Int32; Options: TLsOptions);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_tcp_connect_ex(PAnsiChar(Utf8Of(Address)), TimeoutMs, OptionsHandle(Options), @H));
  FHandle := H;
end;

function TLsConnection.SendBuf(Buf: Pointer; Len: NativeUInt): NativeUInt;
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_send(FHandle, DataPtr(Buf, Len), Len, @N));
  Result := N;
end;

function TLsConnection.Send(const Data: TBytes): NativeUInt;
begin
  Result := SendBuf(BytesPtr(Data), Length(Data));
end;

function TLsConnection.Send(const Data: RawByteString): NativeUInt;
begin
  Result := SendBuf(StrPtr(Data), Length(Data));
end;

procedure TLsConnection.SendAllBuf(Buf: Pointer; Len: NativeUInt);
begin
  LsCheck(ls_send_all(FHandle, DataPtr(Buf, Len), Len));
end;

procedure TLsConnection.SendAll(const Data: TBytes);
begin
  SendAllBuf(BytesPtr(Data), Length(Data));
end;

procedure TLsConnection.SendAll(const Data: RawByteString);
begin
  SendAllBuf(StrPtr(Data), Length(Data));
end;

function TLsConnection.RecvBuf(Buf: Pointer; Cap: NativeUInt; TimeoutMs: Int32): NativeUInt;
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_recv(FHandle, TimeoutMs, PByte(Buf), Cap, @N));
  Result := N;
end;

function TLsConnection.Recv(MaxLen: NativeUInt; TimeoutMs: Int32): TBytes;
begin
  Result := nil;
  SetLength(Result, MaxLen);
  SetLength(Result, RecvBuf(BytesPtr(Result), MaxLen, TimeoutMs));
end;

function TLsConnection.RecvStr(MaxLen: NativeUInt; TimeoutMs: Int32): UTF8String;
begin
  SetLength(Result, MaxLen);
  SetLength(Result, RecvBuf(StrPtr(Result), MaxLen, TimeoutMs));
end;

procedure TLsConnection.RecvExactBuf(Buf: Pointer; Len: NativeUInt; TimeoutMs: Int32);
begin
  LsCheck(ls_recv_exact(FHandle, TimeoutMs, DataPtr(Buf, Len), Len));
end;

function TLsConnection.RecvExact(Len: NativeUInt; TimeoutMs: Int32): TBytes;
begin
  Result := nil;
  SetLength(Result, Len);
  RecvExactBuf(BytesPtr(Result), Len, TimeoutMs);
end;

function TLsConnection.RecvExactStr(Len: NativeUInt; TimeoutMs: Int32): UTF8String;
begin
  SetLength(Result, Len);
  RecvExactBuf(StrPtr(Result), Len, TimeoutMs);
end;

function TLsConnection.RecvUntil(const Delim: RawByteString; MaxLen: NativeUInt;
  TimeoutMs: Int32): TBytes;
var
  N: NativeUInt;
begin
  Result := nil;
  SetLength(Result, MaxLen);
  N := 0;
  LsCheck(ls_recv_until(FHandle, TimeoutMs, StrPtr(Delim), Length(Delim), BytesPtr(Result),
    MaxLen, @N));
  SetLength(Result, N);
end;

function TLsConnection.RecvUntil(const Delim: TBytes; MaxLen: NativeUInt;
  TimeoutMs: Int32): TBytes;
var
  N: NativeUInt;
begin
  Result := nil;
  SetLength(Result, MaxLen);
  N := 0;
  LsCheck(ls_recv_until(FHandle, TimeoutMs, BytesPtr(Delim), Length(Delim), BytesPtr(Result),
    MaxLen, @N));
  SetLength(Result, N);
end;

function TLsConnection.RecvUntilStr(const Delim: RawByteString; MaxLen: NativeUInt;
  TimeoutMs: Int32): UTF8String;
begin
  Result := LsBytesToStr(RecvUntil(Delim, MaxLen, TimeoutMs));
end;

procedure TLsConnection.SendMsgBuf(Buf: Pointer; Len: NativeUInt);
begin
  LsCheck(ls_send_msg(FHandle, DataPtr(Buf, Len), Len));
end;

procedure TLsConnection.SendMsg(const Data: TBytes);
begin
  SendMsgBuf(BytesPtr(Data), Length(Data));
end;

procedure TLsConnection.SendMsg(const Data: RawByteString);
begin
  SendMsgBuf(StrPtr(Data), Length(Data));
end;

function TLsConnection.RecvMsgBuf(Buf: Pointer; Cap: NativeUInt; TimeoutMs: Int32): NativeUInt;
var
  N: NativeUInt;
  Rc: Int32;
begin
  N := 0;
  Rc := ls_recv_msg(FHandle, TimeoutMs, DataPtr(Buf, Cap), Cap, @N);
  if Rc <> LS_OK then
    LsRaise(Rc, N);
  Result := N;
end;

function TLsConnection.RecvMsg(TimeoutMs: Int32): TBytes;
const
  FirstTry = 65536;
var
  N: NativeUInt;
  Rc: Int32;
begin
  Result := nil;
  SetLength(Result, FirstTry);
  N := 0;
  Rc := ls_recv_msg(FHandle, TimeoutMs, BytesPtr(Result), FirstTry, @N);
  while (Rc = LS_ERR_BUFFER_TOO_SMALL) and (N > NativeUInt(Length(Result))) do
  begin
    { The message stays queued: fetch it again with a buffer of the size it needs. }
    SetLength(Result, N);
    Rc := ls_recv_msg(FHandle, TimeoutMs, BytesPtr(Result), N, @N);
  end;
  if Rc <> LS_OK then
    LsRaise(Rc, N);
  SetLength(Result, N);
end;

function TLsConnection.RecvMsgStr(TimeoutMs: Int32): UTF8String;
begin
  Result := LsBytesToStr(RecvMsg(TimeoutMs));
end;

procedure TLsConnection.Shutdown(How: Int32);
begin
  LsCheck(ls_socket_shutdown(FHandle, How));
end;

function TLsConnection.PeerAddress: string;
begin
  Result := ReadAddress(ls_peer_address, FHandle);
end;

function TLsConnection.IsTls: Boolean;
var
  V: Int32;
begin
  V := 0;
  LsCheck(ls_is_tls(FHandle, @V));
  Result := V <> 0;
end;

function TLsConnection.TlsVersion: string;
begin
  Result := ReadText(ls_tls_version, FHandle);
end;

function TLsConnection.TlsCipher: string;
begin
  Result := ReadText(ls_tls_cipher, FHandle);
end;

function TLsConnection.TlsAlpn: string;
begin
  Result := ReadText(ls_tls_alpn, FHandle);
end;

function TLsConnection.TlsPeerFingerprint: string;
begin
  Result := ReadText(ls_tls_peer_fingerprint, FHandle);
end;

function TLsConnection.TlsPeerCertificate: TBytes;
var
  N: NativeUInt;
  Rc: Int32;
begin
  N := 0;
  Result := nil;
  Rc := ls_tls_peer_certificate(FHandle, nil, 0, @N);
  if Rc <> LS_ERR_BUFFER_TOO_SMALL then
    LsCheck(Rc);
  SetLength(Result, N);
  if N > 0 then
    LsCheck(ls_tls_peer_certificate(FHandle, @Result[0], N, @N));
  SetLength(Result, N);
end;

function TLsConnection.SendFile(const Path: string; Offset: UInt64; Len: Int64): UInt64;
var
  N: UInt64;
begin
  N := 0;
  LsCheck(ls_send_file(FHandle, PAnsiChar(Utf8Of(Path)), Offset, Len, @N));
  Result := N;
end;

function TLsConnection.RecvFile(const Path: string; Len: UInt64): UInt64;
var
  N: UInt64;
begin
  N := 0;
  LsCheck(ls_recv_file(FHandle, PAnsiChar(Utf8Of(Path)), Len, @N));
  Result := N;
end;

{ ---- TLsConnection: message batches ---------------------------------------------------------- }

procedure TLsConnection.SendMsgs(const Msgs: array of TBytes);
var
  Lens: array of NativeUInt;
  Buf: TBytes;
  I: Int32;
  Total, At: NativeUInt;
begin
  if Length(Msgs) = 0 then
  begin
    LsCheck(ls_send_msgs(FHandle, nil, nil, 0));
    Exit;
  end;
  Lens := nil;
  SetLength(Lens, Length(Msgs));
  Total := 0;
  for I := 0 to High(Msgs) do
  begin
    Lens[I] := Length(Msgs[I]);
    Inc(Total, Lens[I]);
  end;
  Buf := nil;
  SetLength(Buf, Total);
  At := 0;
  for I := 0 to High(Msgs) do
    if Lens[I] > 0 then
    begin
      Move(Msgs[I][0], Buf[At], Lens[I]);
      Inc(At, Lens[I]);
    end;
  LsCheck(ls_send_msgs(FHandle, BytesPtr(Buf), @Lens[0], Length(Msgs)));
end;

function TLsConnection.RecvMsgs(MaxCount: NativeUInt; TimeoutMs: Int32): TLsMessages;
var
  Lens: array of NativeUInt;
  Buf: TBytes;
  Count, I, At: NativeUInt;
  Rc: Int32;
begin
  Result := nil;
  if MaxCount = 0 then
    raise ELsInvalidArgument.CreateCode(LS_ERR_INVALID_ARGUMENT, 0, 'RecvMsgs: MaxCount must be at least 1');
  Lens := nil;
  SetLength(Lens, MaxCount);
  Buf := nil;
  SetLength(Buf, 65536);
  Count := 0;
  Rc := ls_recv_msgs(FHandle, TimeoutMs, @Buf[0], Length(Buf), MaxCount, @Lens[0], @Count);
  if Rc = LS_ERR_BUFFER_TOO_SMALL then
  begin
    { The first message alone is larger: room for it (it stays queued until then). }
    SetLength(Buf, Lens[0]);
    Count := 0;
    Rc := ls_recv_msgs(FHandle, 0, BytesPtr(Buf), Length(Buf), MaxCount, @Lens[0], @Count);
  end;
  LsCheck(Rc);
  SetLength(Result, Count);
  At := 0;
  if Count > 0 then
    for I := 0 to Count - 1 do
    begin
      SetLength(Result[I], Lens[I]);
      if Lens[I] > 0 then
        Move(Buf[At], Result[I][0], Lens[I]);
      Inc(At, Lens[I]);
    end;
end;

{ ---- TLsConnection: descriptor passing -------------------------------------------------------- }

procedure SendFdsBuf(H: Int64; Buf: PByte; Len: NativeUInt; const Fds: array of Int32);
begin
  if Length(Fds) = 0 then
    LsCheck(ls_send_fds(H, Buf, Len, nil, 0))
  else
    LsCheck(ls_send_fds(H, Buf, Len, @Fds[0], Length(Fds)));
end;

procedure TLsConnection.SendFds(const Data: TBytes; const Fds: array of Int32);
begin
  SendFdsBuf(FHandle, BytesPtr(Data), Length(Data), Fds);
end;

procedure TLsConnection.SendFds(const Data: RawByteString; const Fds: array of Int32);
begin
  SendFdsBuf(FHandle, StrPtr(Data), Length(Data), Fds);
end;

function TLsConnection.RecvFds(out Fds: TLsFds; MaxLen: NativeUInt; MaxFds: NativeUInt;
  TimeoutMs: Int32): TBytes;
var
  N, NFds: NativeUInt;
  FdBuf: TLsFds;
begin
  Fds := nil;
  Result := nil;
  FdBuf := nil;
  SetLength(Result, MaxLen);
  { Room for LS_MAX_FDS at most: a larger MaxFds is refused by the library before it writes. }
  if MaxFds > LS_MAX_FDS then
    SetLength(FdBuf, LS_MAX_FDS)
  else
    SetLength(FdBuf, MaxFds);
  N := 0;
  NFds := 0;
  if MaxFds = 0 then
    LsCheck(ls_recv_fds(FHandle, TimeoutMs, BytesPtr(Result), MaxLen, @N, nil, 0, @NFds))
  else
    LsCheck(ls_recv_fds(FHandle, TimeoutMs, BytesPtr(Result), MaxLen, @N, @FdBuf[0], MaxFds, @NFds));
  SetLength(Result, N);
  SetLength(FdBuf, NFds);
  Fds := FdBuf;
end;

function TLsConnection.PeerCredentials: TLsPeerCredentials;
var
  Pid: Int32;
  Uid, Gid: UInt64;
begin
  Pid := 0;
  Uid := 0;
  Gid := 0;
  LsCheck(ls_peer_credentials(FHandle, @Pid, @Uid, @Gid));
  Result.Pid := Pid;
  Result.Uid := Uid;
  Result.Gid := Gid;
end;

function TLsConnection.Stat(Id: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_connection_stats(FHandle, Id, @V));
  Result := V;
end;

function TLsConnection.Stats: TLsClientStats;
begin
  Result.BytesIn := Stat(LS_STAT_BYTES_IN);
  Result.BytesOut := Stat(LS_STAT_BYTES_OUT);
  Result.MessagesIn := Stat(LS_STAT_MESSAGES_IN);
  Result.MessagesOut := Stat(LS_STAT_MESSAGES_OUT);
  Result.QueuedBytes := Stat(LS_STAT_QUEUED_BYTES);
  Result.ConnectedSinceMs := Stat(LS_CLIENT_STAT_CONNECTED_SINCE_MS);
  Result.Tls := Stat(LS_CLIENT_STAT_TLS) <> 0;
end;

{ ---- TLsConnection: typed reads and writes --------------------------------------------------- }

{ ELsInvalidArgument for an Order outside TLsByteOrder (a cast from a bad number). }
procedure CheckOrder(Order: TLsByteOrder);
begin
  if Ord(Order) > Ord(High(TLsByteOrder)) then
    raise ELsInvalidArgument.CreateCode(LS_ERR_INVALID_ARGUMENT, 0,
      Format('byte order %d: use lsBigEndian or lsLittleEndian', [Ord(Order)]));
end;

{ Put the Len bytes at P from byte order Order into the CPU's order, or back (the same swap). }
procedure OrderBytes(P: PByte; Len: NativeUInt; Order: TLsByteOrder);
var
  I: NativeUInt;
  T: Byte;
begin
  CheckOrder(Order);
  {$IFDEF ENDIAN_BIG}
  if Order = lsBigEndian then
    Exit;
  {$ELSE}
  if Order = lsLittleEndian then
    Exit;
  {$ENDIF}
  if Len < 2 then
    Exit;
  for I := 0 to Len div 2 - 1 do
  begin
    T := P[I];
    P[I] := P[Len - 1 - I];
    P[Len - 1 - I] := T;
  end;
end;

{ A number of Size bytes in byte order Order from C into P (the order checked before anything is
  read; what arrived stays buffered on a timeout). }
procedure RecvNumber(C: TLsConnection; P: PByte; Size: NativeUInt; Order: TLsByteOrder;
  TimeoutMs: Int32);
begin
  CheckOrder(Order);
  C.RecvExactBuf(P, Size, TimeoutMs);
  OrderBytes(P, Size, Order);
end;

{ Send the number of Size bytes at P (a copy the caller may change) in byte order Order. }
procedure SendNumber(C: TLsConnection; P: PByte; Size: NativeUInt; Order: TLsByteOrder);
begin
  OrderBytes(P, Size, Order);
  C.SendAllBuf(P, Size);
end;

function TLsConnection.RecvInt8(TimeoutMs: Int32): Int8;
begin
  RecvExactBuf(@Result, 1, TimeoutMs);
end;

function TLsConnection.RecvUInt8(TimeoutMs: Int32): UInt8;
begin
  RecvExactBuf(@Result, 1, TimeoutMs);
end;

procedure TLsConnection.SendInt8(Value: Int8);
begin
  SendAllBuf(@Value, 1);
end;

procedure TLsConnection.SendUInt8(Value: UInt8);
begin
  SendAllBuf(@Value, 1);
end;

function TLsConnection.RecvInt16(Order: TLsByteOrder; TimeoutMs: Int32): Int16;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendInt16(Value: Int16; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

function TLsConnection.RecvUInt16(Order: TLsByteOrder; TimeoutMs: Int32): UInt16;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendUInt16(Value: UInt16; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

function TLsConnection.RecvInt32(Order: TLsByteOrder; TimeoutMs: Int32): Int32;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendInt32(Value: Int32; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

function TLsConnection.RecvUInt32(Order: TLsByteOrder; TimeoutMs: Int32): UInt32;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendUInt32(Value: UInt32; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

function TLsConnection.RecvInt64(Order: TLsByteOrder; TimeoutMs: Int32): Int64;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendInt64(Value: Int64; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

function TLsConnection.RecvUInt64(Order: TLsByteOrder; TimeoutMs: Int32): UInt64;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendUInt64(Value: UInt64; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

function TLsConnection.RecvSingle(Order: TLsByteOrder; TimeoutMs: Int32): Single;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendSingle(Value: Single; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

function TLsConnection.RecvDouble(Order: TLsByteOrder; TimeoutMs: Int32): Double;
begin
  Result := 0;
  RecvNumber(Self, @Result, SizeOf(Result), Order, TimeoutMs);
end;

procedure TLsConnection.SendDouble(Value: Double; Order: TLsByteOrder);
begin
  SendNumber(Self, @Value, SizeOf(Value), Order);
end;

{ ---- TLsListener ---------------------------------------------------------------------------- }

constructor TLsListener.Listen(const Address: string; Backlog: Int32; Options: TLsOptions);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_listen_ex(PAnsiChar(Utf8Of(Address)), Backlog, OptionsHandle(Options), @H));
  FHandle := H;
end;

function TLsListener.Accept(TimeoutMs: Int32): TLsConnection;
var
  H: Int64;
begin
  H := 0;
  LsCheck(ls_accept(FHandle, TimeoutMs, @H));
  Result := TLsConnection.CreateFromHandle(H);
end;

{ ---- TLsDatagram ---------------------------------------------------------------------------- }

constructor TLsDatagram.Bind(const Address: string; Options: TLsOptions);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_udp_bind_ex(PAnsiChar(Utf8Of(Address)), OptionsHandle(Options), @H));
  FHandle := H;
end;

constructor TLsDatagram.Connect(const Address: string; Options: TLsOptions);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_udp_connect_ex(PAnsiChar(Utf8Of(Address)), OptionsHandle(Options), @H));
  FHandle := H;
end;

procedure TLsDatagram.SendToBuf(Buf: Pointer; Len: NativeUInt; const Address: string);
begin
  LsCheck(ls_send_to(FHandle, DataPtr(Buf, Len), Len, PAnsiChar(Utf8Of(Address))));
end;

procedure TLsDatagram.SendTo(const Data: TBytes; const Address: string);
begin
  SendToBuf(BytesPtr(Data), Length(Data), Address);
end;

procedure TLsDatagram.SendTo(const Data: RawByteString; const Address: string);
begin
  SendToBuf(StrPtr(Data), Length(Data), Address);
end;

function TLsDatagram.RecvFromBuf(Buf: Pointer; Cap: NativeUInt; out Peer: string;
  out Truncated: Boolean; TimeoutMs: Int32): NativeUInt;
var
  PeerBuf: array[0..LS_ADDRESS_MAX - 1] of AnsiChar;
  N, PeerLen: NativeUInt;
  Tr: Int32;
begin
  N := 0;
  PeerLen := 0;
  Tr := 0;
  LsCheck(ls_recv_from(FHandle, TimeoutMs, PByte(Buf), Cap, @N, @PeerBuf[0], SizeOf(PeerBuf),
    @PeerLen, @Tr));
  Peer := Utf8Text(@PeerBuf[0], PeerLen);
  Truncated := Tr <> 0;
  Result := N;
end;

function TLsDatagram.RecvFrom(out Peer: string; out Truncated: Boolean; MaxLen: NativeUInt;
  TimeoutMs: Int32): TBytes;
begin
  Result := nil;
  SetLength(Result, MaxLen);
  SetLength(Result, RecvFromBuf(BytesPtr(Result), MaxLen, Peer, Truncated, TimeoutMs));
end;

procedure TLsDatagram.Send(const Data: TBytes);
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_send(FHandle, BytesPtr(Data), Length(Data), @N));
end;

procedure TLsDatagram.Send(const Data: RawByteString);
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_send(FHandle, StrPtr(Data), Length(Data), @N));
end;

function TLsDatagram.Recv(MaxLen: NativeUInt; TimeoutMs: Int32): TBytes;
var
  N: NativeUInt;
begin
  Result := nil;
  SetLength(Result, MaxLen);
  N := 0;
  LsCheck(ls_recv(FHandle, TimeoutMs, BytesPtr(Result), MaxLen, @N));
  SetLength(Result, N);
end;

procedure TLsDatagram.JoinMulticast(const Group: string; const Iface: string);
begin
  LsCheck(ls_join_multicast(FHandle, PAnsiChar(Utf8Of(Group)), PAnsiChar(Utf8Of(Iface))));
end;

procedure TLsDatagram.SetMulticastInterface(const Iface: string);
begin
  LsCheck(ls_set_multicast_interface(FHandle, PAnsiChar(Utf8Of(Iface))));
end;

procedure TLsDatagram.LeaveMulticast(const Group: string; const Iface: string);
begin
  LsCheck(ls_leave_multicast(FHandle, PAnsiChar(Utf8Of(Group)), PAnsiChar(Utf8Of(Iface))));
end;

function TLsDatagram.PeerAddress: string;
begin
  Result := ReadAddress(ls_peer_address, FHandle);
end;

{ ---- The engine ----------------------------------------------------------------------------- }

constructor TLsEngineConfig.Create;
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_engine_config_new(@H));
  FHandle := H;
end;

procedure TLsEngineConfig.SetKey(Key: Int32; AValue: Int64);
begin
  LsCheck(ls_engine_config_set(FHandle, Key, AValue));
end;

function TLsEngineConfig.GetKey(Key: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_engine_config_get(FHandle, Key, @V));
  Result := V;
end;

procedure TLsEngineConfig.SetHeartbeat(IntervalMs: Int64; Misses: Int64);
begin
  SetKey(LS_ECFG_HEARTBEAT_INTERVAL_MS, IntervalMs);
  SetKey(LS_ECFG_HEARTBEAT_MISSES, Misses);
end;

procedure TLsEngineConfig.SetReconnect(Enabled: Boolean; BackoffMinMs: Int64;
  BackoffMaxMs: Int64; Jitter: Boolean);
begin
  SetKey(LS_ECFG_RECONNECT, Ord(Enabled));
  SetKey(LS_ECFG_BACKOFF_MIN_MS, BackoffMinMs);
  SetKey(LS_ECFG_BACKOFF_MAX_MS, BackoffMaxMs);
  SetKey(LS_ECFG_JITTER, Ord(Jitter));
end;

procedure TLsEngineConfig.SetHeartbeatPayloads(const Ping, Pong: RawByteString);
begin
  LsCheck(ls_engine_config_set_heartbeat_payloads(FHandle, StrPtr(Ping), Length(Ping),
    StrPtr(Pong), Length(Pong)));
end;

procedure TLsEngineConfig.SetTls(Tls: TLsTlsConfig);
begin
  LsCheck(ls_engine_config_set_tls(FHandle, TlsHandle(Tls)));
end;

procedure TLsEngineConfig.SetProxy(const Url: string);
begin
  LsCheck(ls_engine_config_set_proxy(FHandle, PAnsiChar(Utf8Of(Url))));
end;

procedure TLsEngineConfig.SetOption(Option: Int32; AValue: Int64);
begin
  LsCheck(ls_set_option(FHandle, Option, AValue));
end;

function TLsEngineConfig.GetOption(Option: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_get_option(FHandle, Option, @V));
  Result := V;
end;

procedure TLsEngineConfig.SetFramingRaw;
begin
  LsCheck(ls_set_framing_raw(FHandle));
end;

procedure TLsEngineConfig.SetFramingLength(Width: Int32; BigEndian: Boolean; MaxLen: NativeUInt);
begin
  LsCheck(ls_set_framing_length(FHandle, Width, Ord(BigEndian), MaxLen));
end;

procedure TLsEngineConfig.SetFramingLengthEx(Width: Int32; BigEndian: Boolean;
  Offset, HeaderLen: NativeUInt; Adjustment: Int64; MaxLen: NativeUInt; KeepHeader: Boolean);
begin
  LsCheck(ls_set_framing_length_ex(FHandle, Width, Ord(BigEndian), Offset, HeaderLen,
    Adjustment, MaxLen, Ord(KeepHeader)));
end;

procedure TLsEngineConfig.SetFramingDelimited(const Delim: RawByteString; MaxLen: NativeUInt;
  Keep: Boolean);
begin
  LsCheck(ls_set_framing_delimited(FHandle, StrPtr(Delim), Length(Delim), MaxLen, Ord(Keep)));
end;

procedure TLsEngineConfig.SetFramingFixed(Size: NativeUInt);
begin
  LsCheck(ls_set_framing_fixed(FHandle, Size));
end;

procedure TLsEngineConfig.SetFramingHpPack(Flag: Int32; MaxLen: NativeUInt);
begin
  LsCheck(ls_set_framing_hp_pack(FHandle, Flag, MaxLen));
end;

function ConfigHandle(Config: TLsEngineConfig): Int64;
begin
  if Config = nil then
    Result := 0
  else
    Result := Config.Handle;
end;

procedure ClearEvent(out Event: TLsEvent);
begin
  Event.Kind := 0;
  Event.Client := 0;
  Event.Value := 0;
  Event.Reason := 0;
  Event.ErrorCode := 0;
  Event.Data := nil;
  Event.Text := '';
end;

{ Put the Len bytes at P into Event as its data or its text, as its kind says. }
procedure FillEvent(var Event: TLsEvent; P: PByte; Len: NativeUInt);
begin
  case Event.Kind of
    LS_EVENT_CONNECTED:
      Event.Text := Utf8Text(PAnsiChar(P), Len);
    LS_EVENT_DISCONNECTED:
      begin
        Event.Reason := Int32(Event.Value);
        Event.Text := Utf8Text(PAnsiChar(P), Len);
      end;
    LS_EVENT_WARNING:
      begin
        Event.ErrorCode := Int32(Event.Value);
        Event.Text := Utf8Text(PAnsiChar(P), Len);
      end;
    LS_EVENT_MESSAGE, LS_EVENT_DATAGRAM:
      begin
        SetLength(Event.Data, Len);
        if Len > 0 then
          Move(P^, Event.Data[0], Len);
      end;
  end;
end;

const
  { Events up to this size are taken into a buffer on the stack; larger ones into a buffer of
    the size ls_next_event asks for (the event stays queued meanwhile). }
  EventStackBuf = 8192;

function TLsEngineObject.NextEvent(TimeoutMs: Int32; out Event: TLsEvent): Boolean;
var
  Small: array[0..EventStackBuf - 1] of Byte;
  Big: TBytes;
  Kind: Int32;
  Client: UInt64;
  Value: Int64;
  N: NativeUInt;
  Rc: Int32;
begin
  ClearEvent(Event);
  Kind := 0;
  Client := 0;
  Value := 0;
  N := 0;
  Rc := ls_next_event(FHandle, TimeoutMs, @Kind, @Client, @Value, @Small[0], SizeOf(Small), @N);
  Big := nil;
  while Rc = LS_ERR_BUFFER_TOO_SMALL do
  begin
    { Another thread may take the event in between: then the next one is fetched, which may
      need another size, hence the loop. }
    SetLength(Big, N);
    Rc := ls_next_event(FHandle, TimeoutMs, @Kind, @Client, @Value, BytesPtr(Big), N, @N);
  end;
  if Rc = LS_ERR_TIMEOUT then
  begin
    Result := False;
    Exit;
  end;
  if Rc <> LS_OK then
    LsRaise(Rc, N);
  Event.Kind := Kind;
  Event.Client := Client;
  Event.Value := Value;
  if Big = nil then
    FillEvent(Event, @Small[0], N)
  else if (Kind = LS_EVENT_MESSAGE) or (Kind = LS_EVENT_DATAGRAM) then
  begin
    SetLength(Big, N);
    Event.Data := Big;
  end
  else
    FillEvent(Event, BytesPtr(Big), N);
  Result := True;
end;

const
  { Messages land in a buffer of this size on the stack (no allocation per call); a first
    message larger than that in a buffer of the size ls_next_messages asks for. }
  MessagesStackBuf = 65536;

function TLsEngineObject.Messages(TimeoutMs: Int32; MaxCount: NativeUInt): TLsEngineMessages;
var
  Small: array[0..MessagesStackBuf - 1] of Byte;
  Big: TBytes;
  Lens: array of NativeUInt;
  Ids: array of UInt64;
  Count, I, At: NativeUInt;
  Rc: Int32;
begin
  Result := nil;
  if MaxCount = 0 then
    raise ELsInvalidArgument.CreateCode(LS_ERR_INVALID_ARGUMENT, 0, 'Messages: MaxCount must be at least 1');
  Lens := nil;
  SetLength(Lens, MaxCount);
  Ids := nil;
  SetLength(Ids, MaxCount);
  Big := nil;
  Count := 0;
  Rc := ls_next_messages(FHandle, TimeoutMs, @Small[0], SizeOf(Small), MaxCount, @Lens[0], @Ids[0], @Count);
  while Rc = LS_ERR_BUFFER_TOO_SMALL do
  begin
    { The first message alone is larger and stays queued: room for it, taken at once. Another
      thread may take it in between: then the next one is fetched, hence the loop. }
    SetLength(Big, Lens[0]);
    Count := 0;
    Rc := ls_next_messages(FHandle, 0, BytesPtr(Big), Length(Big), MaxCount, @Lens[0], @Ids[0], @Count);
  end;
  if Rc = LS_ERR_TIMEOUT then
    Exit;
  LsCheck(Rc);
  SetLength(Result, Count);
  At := 0;
  if Count > 0 then
    for I := 0 to Count - 1 do
    begin
      Result[I].Client := Ids[I];
      SetLength(Result[I].Data, Lens[I]);
      if (Lens[I] > 0) and (Big = nil) then
        Move(Small[At], Result[I].Data[0], Lens[I])
      else if Lens[I] > 0 then
        Move(Big[At], Result[I].Data[0], Lens[I]);
      Inc(At, Lens[I]);
    end;
end;

function TLsEngineObject.PendingEvents: NativeUInt;
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_pending_events(FHandle, @N));
  Result := N;
end;

function TLsEngineObject.NotifyFd: Int32;
var
  Fd: Int32;
begin
  Fd := -1;
  LsCheck(ls_notify_fd(FHandle, @Fd));
  Result := Fd;
end;

function TLsEngineObject.Stat(Id: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_engine_stats(FHandle, Id, @V));
  Result := V;
end;

function TLsEngineObject.Stats: TLsEngineStats;

  function Get(Id: Int32): Int64;
  var
    V: Int64;
    Rc: Int32;
  begin
    V := 0;
    Rc := ls_engine_stats(FHandle, Id, @V);
    if Rc = LS_ERR_UNSUPPORTED then
      V := 0
    else if Rc <> LS_OK then
      LsRaise(Rc, 0);
    Result := V;
  end;

begin
  Result.Connections := Get(LS_STAT_CONNECTIONS);
  Result.ConnectionsTotal := Get(LS_STAT_CONNECTIONS_TOTAL);
  Result.Refused := Get(LS_STAT_REFUSED);
  Result.BytesIn := Get(LS_STAT_BYTES_IN);
  Result.BytesOut := Get(LS_STAT_BYTES_OUT);
  Result.MessagesIn := Get(LS_STAT_MESSAGES_IN);
  Result.MessagesOut := Get(LS_STAT_MESSAGES_OUT);
  Result.QueuedBytes := Get(LS_STAT_QUEUED_BYTES);
  Result.EventsQueued := Get(LS_STAT_EVENTS_QUEUED);
  Result.FailedAttempts := Get(LS_STAT_FAILED_ATTEMPTS);
  Result.SendQueueFull := Get(LS_STAT_SEND_QUEUE_FULL);
  Result.AcceptErrors := Get(LS_STAT_ACCEPT_ERRORS);
  Result.TlsFailures := Get(LS_STAT_TLS_FAILURES);
end;

function EnginePort(H: Int64): Int32;
var
  P: Int32;
begin
  P := 0;
  LsCheck(ls_local_port(H, @P));
  Result := P;
end;

constructor TLsServer.Listen(const Address: string; Config: TLsEngineConfig);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_server_listen(PAnsiChar(Utf8Of(Address)), ConfigHandle(Config), @H));
  FHandle := H;
end;

function TLsServer.LocalAddress: string;
begin
  Result := ReadAddress(ls_local_address, FHandle);
end;

function TLsServer.LocalPort: Int32;
begin
  Result := EnginePort(FHandle);
end;

procedure TLsServer.SendBuf(Client: UInt64; Buf: Pointer; Len: NativeUInt);
begin
  LsCheck(ls_server_send(FHandle, Client, DataPtr(Buf, Len), Len));
end;

procedure TLsServer.Send(Client: UInt64; const Data: TBytes);
begin
  SendBuf(Client, BytesPtr(Data), Length(Data));
end;

procedure TLsServer.Send(Client: UInt64; const Data: RawByteString);
begin
  SendBuf(Client, StrPtr(Data), Length(Data));
end;

function TLsServer.Broadcast(const Data: TBytes; ExceptClient: UInt64): NativeUInt;
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_server_broadcast(FHandle, BytesPtr(Data), Length(Data), ExceptClient, @N));
  Result := N;
end;

function TLsServer.Broadcast(const Data: RawByteString; ExceptClient: UInt64): NativeUInt;
var
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_server_broadcast(FHandle, StrPtr(Data), Length(Data), ExceptClient, @N));
  Result := N;
end;

function SendManyRaw(H: Int64; const Clients: array of UInt64; P: PByte; Len: NativeUInt): NativeUInt;
var
  N: NativeUInt;
  Ids: PLsUInt64;
begin
  N := 0;
  if Length(Clients) = 0 then
    Ids := PLsUInt64(@LsEmpty) { count 0: never read }
  else
    Ids := @Clients[0];
  LsCheck(ls_server_send_many(H, Ids, Length(Clients), P, Len, @N));
  Result := N;
end;

function TLsServer.SendMany(const Clients: array of UInt64; const Data: TBytes): NativeUInt;
begin
  Result := SendManyRaw(FHandle, Clients, BytesPtr(Data), Length(Data));
end;

function TLsServer.SendMany(const Clients: array of UInt64; const Data: RawByteString): NativeUInt;
begin
  Result := SendManyRaw(FHandle, Clients, StrPtr(Data), Length(Data));
end;

procedure TLsServer.Disconnect(Client: UInt64; Graceful: Boolean);
begin
  LsCheck(ls_server_disconnect(FHandle, Client, Ord(Graceful)));
end;

{ The ids of the clients of server (or KCP server) H. }
function ServerClients(FHandle: Int64): TLsClientIds;
var
  N: NativeUInt;
  Rc: Int32;
begin
  Result := nil;
  SetLength(Result, 64);
  N := 0;
  Rc := ls_server_clients(FHandle, @Result[0], Length(Result), @N);
  while Rc = LS_ERR_BUFFER_TOO_SMALL do
  begin
    { Clients come and go: ask again with room for a few more than were counted. }
    SetLength(Result, N + 16);
    Rc := ls_server_clients(FHandle, @Result[0], Length(Result), @N);
  end;
  if Rc <> LS_OK then
    LsRaise(Rc, 0);
  SetLength(Result, N);
end;

{ The address of client Client of server (or KCP server) H. }
function ServerClientAddress(FHandle: Int64; Client: UInt64): string;
var
  Buf: array[0..LS_ADDRESS_MAX - 1] of AnsiChar;
  N: NativeUInt;
begin
  N := 0;
  LsCheck(ls_server_client_address(FHandle, Client, @Buf[0], SizeOf(Buf), @N));
  Result := Utf8Text(@Buf[0], N);
end;

function TLsServer.Clients: TLsClientIds;
begin
  Result := ServerClients(FHandle);
end;

function TLsServer.ClientAddress(Client: UInt64): string;
begin
  Result := ServerClientAddress(FHandle, Client);
end;

procedure TLsServer.Shutdown(GraceMs: Int32);
begin
  LsCheck(ls_server_shutdown(FHandle, GraceMs));
end;

constructor TLsClient.Connect(const Address: string; Config: TLsEngineConfig);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_client_connect(PAnsiChar(Utf8Of(Address)), ConfigHandle(Config), @H));
  FHandle := H;
end;

procedure TLsClient.SendBuf(Buf: Pointer; Len: NativeUInt);
begin
  LsCheck(ls_client_send(FHandle, DataPtr(Buf, Len), Len));
end;

procedure TLsClient.Send(const Data: TBytes);
begin
  SendBuf(BytesPtr(Data), Length(Data));
end;

procedure TLsClient.Send(const Data: RawByteString);
begin
  SendBuf(StrPtr(Data), Length(Data));
end;

procedure TLsClient.Close(GraceMs: Int32);
begin
  LsCheck(ls_client_close(FHandle, GraceMs));
end;

constructor TLsDatagramServer.Bind(const Address: string; Config: TLsEngineConfig);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_dgram_server_bind(PAnsiChar(Utf8Of(Address)), ConfigHandle(Config), @H));
  FHandle := H;
end;

function TLsDatagramServer.LocalAddress: string;
begin
  Result := ReadAddress(ls_local_address, FHandle);
end;

function TLsDatagramServer.LocalPort: Int32;
begin
  Result := EnginePort(FHandle);
end;

procedure TLsDatagramServer.SendToBuf(Buf: Pointer; Len: NativeUInt; const Address: string);
begin
  LsCheck(ls_dgram_server_send_to(FHandle, DataPtr(Buf, Len), Len, PAnsiChar(Utf8Of(Address))));
end;

procedure TLsDatagramServer.SendTo(const Data: TBytes; const Address: string);
begin
  SendToBuf(BytesPtr(Data), Length(Data), Address);
end;

procedure TLsDatagramServer.SendTo(const Data: RawByteString; const Address: string);
begin
  SendToBuf(StrPtr(Data), Length(Data), Address);
end;

procedure TLsDatagramServer.Connect(const Address: string);
begin
  LsCheck(ls_dgram_server_connect(FHandle, PAnsiChar(Utf8Of(Address))));
end;

procedure TLsDatagramServer.SendBuf(Buf: Pointer; Len: NativeUInt);
begin
  LsCheck(ls_dgram_server_send(FHandle, DataPtr(Buf, Len), Len));
end;

procedure TLsDatagramServer.Send(const Data: TBytes);
begin
  SendBuf(BytesPtr(Data), Length(Data));
end;

procedure TLsDatagramServer.Send(const Data: RawByteString);
begin
  SendBuf(StrPtr(Data), Length(Data));
end;

function TLsDatagramServer.NextDatagram(TimeoutMs: Int32; out Event: TLsEvent): Boolean;
var
  Peer: array[0..LS_ADDRESS_MAX - 1] of AnsiChar;
  Big: TBytes;
  Kind: Int32;
  N, PeerLen: NativeUInt;
  Rc: Int32;
begin
  ClearEvent(Event);
  Big := nil;
  SetLength(Big, EventStackBuf);
  Kind := 0;
  N := 0;
  PeerLen := 0;
  Rc := ls_next_datagram(FHandle, TimeoutMs, @Kind, @Big[0], Length(Big), @N, @Peer[0],
    SizeOf(Peer), @PeerLen);
  while Rc = LS_ERR_BUFFER_TOO_SMALL do
  begin
    SetLength(Big, N);
    Rc := ls_next_datagram(FHandle, TimeoutMs, @Kind, BytesPtr(Big), N, @N, @Peer[0],
      SizeOf(Peer), @PeerLen);
  end;
  if Rc = LS_ERR_TIMEOUT then
  begin
    Result := False;
    Exit;
  end;
  if Rc <> LS_OK then
    LsRaise(Rc, N);
  Event.Kind := Kind;
  if Kind = LS_EVENT_DATAGRAM then
  begin
    SetLength(Big, N);
    Event.Data := Big;
    Event.Text := Utf8Text(@Peer[0], PeerLen);
  end;
  Result := True;
end;

{ ---- per-client statistics, batch sends ------------------------------------------------------ }

function ClientStat(H: Int64; Client: UInt64; Id: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_server_client_stats(H, Client, Id, @V));
  Result := V;
end;

function TLsServer.ClientStats(Client: UInt64): TLsClientStats;
begin
  Result.BytesIn := ClientStat(FHandle, Client, LS_STAT_BYTES_IN);
  Result.BytesOut := ClientStat(FHandle, Client, LS_STAT_BYTES_OUT);
  Result.MessagesIn := ClientStat(FHandle, Client, LS_STAT_MESSAGES_IN);
  Result.MessagesOut := ClientStat(FHandle, Client, LS_STAT_MESSAGES_OUT);
  Result.QueuedBytes := ClientStat(FHandle, Client, LS_STAT_QUEUED_BYTES);
  Result.ConnectedSinceMs := ClientStat(FHandle, Client, LS_CLIENT_STAT_CONNECTED_SINCE_MS);
  Result.Tls := ClientStat(FHandle, Client, LS_CLIENT_STAT_TLS) <> 0;
end;

type
  TLsSizes = array of NativeUInt;

{ The bodies of Msgs back to back in Buf and their lengths in Lens (for the batch calls). }
procedure PackMsgs(const Msgs: array of TBytes; out Buf: TBytes; out Lens: TLsSizes);
var
  I: Int32;
  Total, At: NativeUInt;
begin
  Lens := nil;
  Buf := nil;
  SetLength(Lens, Length(Msgs));
  Total := 0;
  for I := 0 to High(Msgs) do
  begin
    Lens[I] := Length(Msgs[I]);
    Inc(Total, Lens[I]);
  end;
  SetLength(Buf, Total);
  At := 0;
  for I := 0 to High(Msgs) do
    if Lens[I] > 0 then
    begin
      Move(Msgs[I][0], Buf[At], Lens[I]);
      Inc(At, Lens[I]);
    end;
end;

function LensPtr(const Lens: TLsSizes): PLsSize;
begin
  if Length(Lens) = 0 then
    Result := nil
  else
    Result := @Lens[0];
end;

function TLsServer.SendBatch(Client: UInt64; const Msgs: array of TBytes; TimeoutMs: Int32): NativeUInt;
var
  Buf: TBytes;
  Lens: TLsSizes;
  N: NativeUInt;
begin
  PackMsgs(Msgs, Buf, Lens);
  N := 0;
  LsCheck(ls_server_send_batch(FHandle, Client, BytesPtr(Buf), LensPtr(Lens), Length(Lens), TimeoutMs, @N));
  Result := N;
end;

function TLsClient.SendBatch(const Msgs: array of TBytes; TimeoutMs: Int32): NativeUInt;
var
  Buf: TBytes;
  Lens: TLsSizes;
  N: NativeUInt;
begin
  PackMsgs(Msgs, Buf, Lens);
  N := 0;
  LsCheck(ls_client_send_batch(FHandle, BytesPtr(Buf), LensPtr(Lens), Length(Lens), TimeoutMs, @N));
  Result := N;
end;

{ ---- KCP ------------------------------------------------------------------------------------ }

constructor TLsKcpConfig.Create;
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_kcp_config_new(@H));
  FHandle := H;
end;

procedure TLsKcpConfig.SetKey(Key: Int32; AValue: Int64);
begin
  LsCheck(ls_kcp_config_set(FHandle, Key, AValue));
end;

function TLsKcpConfig.GetKey(Key: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_kcp_config_get(FHandle, Key, @V));
  Result := V;
end;

function KcpConfigHandle(Kcp: TLsKcpConfig): Int64;
begin
  if Kcp = nil then
    Result := 0
  else
    Result := Kcp.Handle;
end;

constructor TLsKcpServer.Bind(const Address: string; Config: TLsEngineConfig; Kcp: TLsKcpConfig);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_kcp_server_bind(PAnsiChar(Utf8Of(Address)), ConfigHandle(Config), KcpConfigHandle(Kcp), @H));
  FHandle := H;
end;

function TLsKcpServer.LocalAddress: string;
begin
  Result := ReadAddress(ls_local_address, FHandle);
end;

function TLsKcpServer.LocalPort: Int32;
begin
  Result := EnginePort(FHandle);
end;

procedure TLsKcpServer.SendBuf(Client: UInt64; Buf: Pointer; Len: NativeUInt);
begin
  LsCheck(ls_server_send(FHandle, Client, DataPtr(Buf, Len), Len));
end;

procedure TLsKcpServer.Send(Client: UInt64; const Data: TBytes);
begin
  SendBuf(Client, BytesPtr(Data), Length(Data));
end;

procedure TLsKcpServer.Send(Client: UInt64; const Data: RawByteString);
begin
  SendBuf(Client, StrPtr(Data), Length(Data));
end;

procedure TLsKcpServer.Disconnect(Client: UInt64);
begin
  LsCheck(ls_server_disconnect(FHandle, Client, 0));
end;

function TLsKcpServer.Clients: TLsClientIds;
begin
  Result := ServerClients(FHandle);
end;

function TLsKcpServer.ClientAddress(Client: UInt64): string;
begin
  Result := ServerClientAddress(FHandle, Client);
end;

procedure TLsKcpServer.Shutdown;
begin
  LsCheck(ls_server_shutdown(FHandle, 0));
end;

constructor TLsKcpSession.Connect(const Address: string; AConv: Int64; Kcp: TLsKcpConfig;
  Options: TLsOptions);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_kcp_connect(PAnsiChar(Utf8Of(Address)), AConv, KcpConfigHandle(Kcp), OptionsHandle(Options), @H));
  FHandle := H;
end;

function LsKcpConnect(const Address: string; Conv: Int64; Kcp: TLsKcpConfig;
  Options: TLsOptions): TLsKcpSession;
begin
  Result := TLsKcpSession.Connect(Address, Conv, Kcp, Options);
end;

function TLsKcpSession.GetTimeout: Int32;
var
  T: Int32;
begin
  T := 0;
  LsCheck(ls_get_timeout(FHandle, @T));
  Result := T;
end;

procedure TLsKcpSession.SetTimeout(Value: Int32);
begin
  LsCheck(ls_set_timeout(FHandle, Value));
end;

procedure TLsKcpSession.SendBuf(Buf: Pointer; Len: NativeUInt; TimeoutMs: Int32);
begin
  LsCheck(ls_kcp_send(FHandle, TimeoutMs, DataPtr(Buf, Len), Len));
end;

procedure TLsKcpSession.Send(const Data: TBytes; TimeoutMs: Int32);
begin
  SendBuf(BytesPtr(Data), Length(Data), TimeoutMs);
end;

procedure TLsKcpSession.Send(const Data: RawByteString; TimeoutMs: Int32);
begin
  SendBuf(StrPtr(Data), Length(Data), TimeoutMs);
end;

function TLsKcpSession.Recv(TimeoutMs: Int32): TBytes;
var
  N: NativeUInt;
  Rc: Int32;
begin
  Result := nil;
  SetLength(Result, 4096);
  N := 0;
  Rc := ls_kcp_recv(FHandle, TimeoutMs, @Result[0], Length(Result), @N);
  if Rc = LS_ERR_BUFFER_TOO_SMALL then
  begin
    { The message stays for the next call: take it with room for it, without waiting. }
    SetLength(Result, N);
    Rc := ls_kcp_recv(FHandle, 0, BytesPtr(Result), Length(Result), @N);
  end;
  LsCheck(Rc);
  SetLength(Result, N);
end;

function TLsKcpSession.RecvStr(TimeoutMs: Int32): UTF8String;
begin
  Result := LsBytesToStr(Recv(TimeoutMs));
end;

procedure TLsKcpSession.Flush(TimeoutMs: Int32);
begin
  LsCheck(ls_kcp_flush(FHandle, TimeoutMs));
end;

function TLsKcpSession.Poll(TimeoutMs: Int32): Boolean;
var
  Ready: NativeUInt;
begin
  Ready := 0;
  LsCheck(ls_kcp_poll(FHandle, TimeoutMs, @Ready));
  Result := Ready <> 0;
end;

function TLsKcpSession.Conv: Int64;
var
  C: Int64;
begin
  C := 0;
  LsCheck(ls_kcp_conv(FHandle, @C));
  Result := C;
end;

function TLsKcpSession.LocalAddress: string;
begin
  Result := ReadAddress(ls_local_address, FHandle);
end;

function TLsKcpSession.PeerAddress: string;
begin
  Result := ReadAddress(ls_peer_address, FHandle);
end;

function TLsKcpSession.Stat(Id: Int32): Int64;
var
  V: Int64;
begin
  V := 0;
  LsCheck(ls_engine_stats(FHandle, Id, @V));
  Result := V;
end;

{ ---- TLsFileTransfer ------------------------------------------------------------------------ }

constructor TLsFileTransfer.Sender(const Path: string; const Name: string; Resume: Boolean);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_transfer_sender(PAnsiChar(Utf8Of(Path)), PAnsiChar(Utf8Of(Name)), Ord(Resume), @H));
  FHandle := H;
end;

constructor TLsFileTransfer.Receiver(const Dest: string; Overwrite: Boolean; Resume: Boolean);
var
  H: Int64;
begin
  inherited Create;
  H := 0;
  LsCheck(ls_transfer_receiver(PAnsiChar(Utf8Of(Dest)), Ord(Overwrite), Ord(Resume), @H));
  FHandle := H;
end;

function ConnHandle(Conn: TLsConnection): Int64;
begin
  if Conn = nil then
    Result := 0 { LS_ERR_BAD_HANDLE from the library }
  else
    Result := Conn.Handle;
end;

function TLsFileTransfer.Step(Conn: TLsConnection): Int32;
var
  St: Int32;
begin
  St := 0;
  LsCheck(ls_transfer_step(FHandle, ConnHandle(Conn), @St));
  Result := St;
end;

procedure TLsFileTransfer.Run(Conn: TLsConnection);
begin
  LsCheck(ls_transfer_run(FHandle, ConnHandle(Conn)));
end;

function TLsFileTransfer.Progress: TLsTransferProgress;
var
  Done, Total: UInt64;
  St: Int32;
begin
  Done := 0;
  Total := 0;
  St := 0;
  LsCheck(ls_transfer_progress(FHandle, @Done, @Total, @St));
  Result.Done := Done;
  Result.Total := Total;
  Result.State := St;
end;

procedure TLsFileTransfer.Cancel;
begin
  LsCheck(ls_transfer_cancel(FHandle));
end;

function TLsFileTransfer.Info: TLsTransferInfo;
var
  Size, Offered, ResumedAt: UInt64;
  Version: Int32;
begin
  Size := 0;
  Offered := 0;
  ResumedAt := 0;
  Version := 0;
  LsCheck(ls_transfer_info(FHandle, @Size, @Version, @Offered, @ResumedAt));
  Result.Size := Size;
  Result.Version := Version;
  Result.Offered := Offered;
  Result.ResumedAt := ResumedAt;
  Result.Name := ReadText(ls_transfer_name, FHandle);
  Result.Path := ReadText(ls_transfer_path, FHandle);
  Result.Sha256 := ReadText(ls_transfer_sha256, FHandle);
end;

function LsTransferStateName(State: Int32): string;
begin
  case State of
    LS_TRANSFER_STARTING: Result := 'STARTING';
    LS_TRANSFER_TRANSFERRING: Result := 'TRANSFERRING';
    LS_TRANSFER_VERIFYING: Result := 'VERIFYING';
    LS_TRANSFER_DONE: Result := 'DONE';
    LS_TRANSFER_FAILED: Result := 'FAILED';
  else
    Result := '';
  end;
end;

procedure LsShutdownEngine;
begin
  LsCheck(ls_shutdown_engine);
end;

function LsEventName(Kind: Int32): string;
begin
  case Kind of
    LS_EVENT_CONNECTED: Result := 'CONNECTED';
    LS_EVENT_MESSAGE: Result := 'MESSAGE';
    LS_EVENT_DISCONNECTED: Result := 'DISCONNECTED';
    LS_EVENT_RECONNECTING: Result := 'RECONNECTING';
    LS_EVENT_DATAGRAM: Result := 'DATAGRAM';
    LS_EVENT_CLOSED: Result := 'CLOSED';
    LS_EVENT_WARNING: Result := 'WARNING';
  else
    Result := 'UNKNOWN(' + IntToStr(Kind) + ')';
  end;
end;

function LsReasonName(Reason: Int32): string;
begin
  case Reason of
    LS_REASON_PEER_CLOSED: Result := 'PEER_CLOSED';
    LS_REASON_RESET: Result := 'RESET';
    LS_REASON_IDLE_TIMEOUT: Result := 'IDLE_TIMEOUT';
    LS_REASON_HEARTBEAT_LOST: Result := 'HEARTBEAT_LOST';
    LS_REASON_FRAME_TOO_LARGE: Result := 'FRAME_TOO_LARGE';
    LS_REASON_KICKED: Result := 'KICKED';
    LS_REASON_SERVER_SHUTDOWN: Result := 'SERVER_SHUTDOWN';
    LS_REASON_ERROR: Result := 'ERROR';
    LS_REASON_SEND_QUEUE_FULL: Result := 'SEND_QUEUE_FULL';
    LS_REASON_CLOSED: Result := 'CLOSED';
    LS_REASON_TLS: Result := 'TLS';
  else
    Result := 'UNKNOWN(' + IntToStr(Reason) + ')';
  end;
end;

end.
