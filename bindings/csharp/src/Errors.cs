// Exceptions: one class per libsock error code (docs/NAMES.md), all LibsockExceptions (which are
// System.IO.IOExceptions, as the errors of .NET's own streams are), with the code, its name and
// core's message - the same text as in every other door.
using System;
using System.IO;

namespace Libsock
{
    /// <summary>The stable error codes of libsock (<c>LS_ERR_*</c> of include/libsock.h, core's
    /// <c>ErrorKind</c>): the same numbers in every door.</summary>
    public static class ErrorCodes
    {
        /// <summary><c>LS_OK</c>: success.</summary>
        public const int OK = 0;
        /// <summary><c>LS_ERR_TIMEOUT</c>: operation timed out.</summary>
        public const int TIMEOUT = -1;
        /// <summary><c>LS_ERR_CONNECTION_REFUSED</c>: connection refused.</summary>
        public const int CONNECTION_REFUSED = -2;
        /// <summary><c>LS_ERR_CONNECTION_RESET</c>: connection reset by peer.</summary>
        public const int CONNECTION_RESET = -3;
        /// <summary><c>LS_ERR_CONNECTION_ABORTED</c>: connection aborted.</summary>
        public const int CONNECTION_ABORTED = -4;
        /// <summary><c>LS_ERR_CLOSED</c>: connection closed.</summary>
        public const int CLOSED = -5;
        /// <summary><c>LS_ERR_ADDR_IN_USE</c>: address already in use.</summary>
        public const int ADDR_IN_USE = -6;
        /// <summary><c>LS_ERR_ADDR_NOT_AVAILABLE</c>: address not available.</summary>
        public const int ADDR_NOT_AVAILABLE = -7;
        /// <summary><c>LS_ERR_UNREACHABLE</c>: network or host unreachable.</summary>
        public const int UNREACHABLE = -8;
        /// <summary><c>LS_ERR_RESOLVE</c>: host name could not be resolved.</summary>
        public const int RESOLVE = -9;
        /// <summary><c>LS_ERR_INVALID_ARGUMENT</c>: invalid argument.</summary>
        public const int INVALID_ARGUMENT = -10;
        /// <summary><c>LS_ERR_FRAME_TOO_LARGE</c>: frame too large.</summary>
        public const int FRAME_TOO_LARGE = -11;
        /// <summary><c>LS_ERR_BUFFER_TOO_SMALL</c>: buffer too small.</summary>
        public const int BUFFER_TOO_SMALL = -12;
        /// <summary><c>LS_ERR_BAD_HANDLE</c>: bad handle.</summary>
        public const int BAD_HANDLE = -13;
        /// <summary><c>LS_ERR_QUEUE_FULL</c>: queue full.</summary>
        public const int QUEUE_FULL = -14;
        /// <summary><c>LS_ERR_UNSUPPORTED</c>: not supported on this platform.</summary>
        public const int UNSUPPORTED = -15;
        /// <summary><c>LS_ERR_TLS</c>: TLS error.</summary>
        public const int TLS = -16;
        /// <summary><c>LS_ERR_IO</c>: I/O error.</summary>
        public const int IO = -17;
        /// <summary><c>LS_ERR_INTERNAL</c>: internal error.</summary>
        public const int INTERNAL = -18;
        /// <summary><c>LS_ERR_INTERRUPTED</c>: interrupted.</summary>
        public const int INTERRUPTED = -19;
        /// <summary><c>LS_ERR_BAD_FRAME</c>: malformed frame from the peer.</summary>
        public const int BAD_FRAME = -20;

        /// <summary>The name of a code without the <c>LS_ERR_</c> prefix ("TIMEOUT" for -1, "OK" for 0,
        /// "UNKNOWN" for a number that is no code), as <c>ls_error_name</c> gives it.</summary>
        public static string Name(int code) => Utf8.FromStatic(Native.ls_error_name(code));

        /// <summary>A fixed English description of a code, as <c>ls_strerror</c> gives it.</summary>
        public static string Describe(int code) => Utf8.FromStatic(Native.ls_strerror(code));
    }

    /// <summary>An error reported by libsock: <see cref="Code"/> is the stable <c>LS_ERR_*</c>
    /// number, <see cref="Name"/> its name ("TIMEOUT", "CONNECTION_REFUSED" ...) and
    /// <c>Message</c> core's text naming the operation and the address
    /// ("connect to 127.0.0.1:9: connection refused (os error 111)"). Each code has its own
    /// subclass (<see cref="LibsockTimeoutException"/>, <see cref="ConnectionRefusedException"/> ...).</summary>
    public class LibsockException : IOException
    {
        /// <summary>The <c>LS_ERR_*</c> code (negative).</summary>
        public int Code { get; }

        /// <summary>The OS error number (errno) behind the failure, or 0.</summary>
        public int OsError { get; }

        /// <summary>The code's name without the <c>LS_ERR_</c> prefix, e.g. "TIMEOUT".</summary>
        public string Name => ErrorCodes.Name(Code);

        /// <summary>An error of code <paramref name="code"/> with core's message.</summary>
        public LibsockException(int code, string message, int osError = 0) : base(message)
        {
            Code = code;
            OsError = osError;
        }

        /// <summary>The exception class of <paramref name="code"/> with this message: the one place
        /// that maps codes to classes.</summary>
        public static LibsockException FromCode(int code, string message, int osError = 0, long needed = -1)
        {
            switch (code)
            {
                case ErrorCodes.TIMEOUT: return new LibsockTimeoutException(message, osError);
                case ErrorCodes.CONNECTION_REFUSED: return new ConnectionRefusedException(message, osError);
                case ErrorCodes.CONNECTION_RESET: return new ConnectionResetException(message, osError);
                case ErrorCodes.CONNECTION_ABORTED: return new ConnectionAbortedException(message, osError);
                case ErrorCodes.CLOSED: return new ClosedException(message, osError);
                case ErrorCodes.ADDR_IN_USE: return new AddrInUseException(message, osError);
                case ErrorCodes.ADDR_NOT_AVAILABLE: return new AddrNotAvailableException(message, osError);
                case ErrorCodes.UNREACHABLE: return new UnreachableException(message, osError);
                case ErrorCodes.RESOLVE: return new ResolveException(message, osError);
                case ErrorCodes.INVALID_ARGUMENT: return new InvalidArgumentException(message, osError);
                case ErrorCodes.FRAME_TOO_LARGE: return new FrameTooLargeException(message, osError);
                case ErrorCodes.BUFFER_TOO_SMALL: return new BufferTooSmallException(message, osError, needed);
                case ErrorCodes.BAD_HANDLE: return new BadHandleException(message, osError);
                case ErrorCodes.QUEUE_FULL: return new QueueFullException(message, osError);
                case ErrorCodes.UNSUPPORTED: return new UnsupportedException(message, osError);
                case ErrorCodes.TLS: return new TlsException(message, osError);
                case ErrorCodes.IO: return new IoException(message, osError);
                case ErrorCodes.INTERNAL: return new InternalException(message, osError);
                case ErrorCodes.INTERRUPTED: return new InterruptedException(message, osError);
                case ErrorCodes.BAD_FRAME: return new BadFrameException(message, osError);
                default: return new LibsockException(code, message, osError);
            }
        }
    }

    /// <summary><c>LS_ERR_TIMEOUT</c> (-1): operation timed out.</summary>
    public sealed class LibsockTimeoutException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public LibsockTimeoutException(string message, int osError = 0) : base(ErrorCodes.TIMEOUT, message, osError) { }
    }

    /// <summary><c>LS_ERR_CONNECTION_REFUSED</c> (-2): connection refused.</summary>
    public sealed class ConnectionRefusedException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public ConnectionRefusedException(string message, int osError = 0) : base(ErrorCodes.CONNECTION_REFUSED, message, osError) { }
    }

    /// <summary><c>LS_ERR_CONNECTION_RESET</c> (-3): connection reset by peer.</summary>
    public sealed class ConnectionResetException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public ConnectionResetException(string message, int osError = 0) : base(ErrorCodes.CONNECTION_RESET, message, osError) { }
    }

    /// <summary><c>LS_ERR_CONNECTION_ABORTED</c> (-4): connection aborted.</summary>
    public sealed class ConnectionAbortedException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public ConnectionAbortedException(string message, int osError = 0) : base(ErrorCodes.CONNECTION_ABORTED, message, osError) { }
    }

    /// <summary><c>LS_ERR_CLOSED</c> (-5): connection closed.</summary>
    public sealed class ClosedException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public ClosedException(string message, int osError = 0) : base(ErrorCodes.CLOSED, message, osError) { }
    }

    /// <summary><c>LS_ERR_ADDR_IN_USE</c> (-6): address already in use.</summary>
    public sealed class AddrInUseException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public AddrInUseException(string message, int osError = 0) : base(ErrorCodes.ADDR_IN_USE, message, osError) { }
    }

    /// <summary><c>LS_ERR_ADDR_NOT_AVAILABLE</c> (-7): address not available.</summary>
    public sealed class AddrNotAvailableException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public AddrNotAvailableException(string message, int osError = 0) : base(ErrorCodes.ADDR_NOT_AVAILABLE, message, osError) { }
    }

    /// <summary><c>LS_ERR_UNREACHABLE</c> (-8): network or host unreachable.</summary>
    public sealed class UnreachableException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public UnreachableException(string message, int osError = 0) : base(ErrorCodes.UNREACHABLE, message, osError) { }
    }

    /// <summary><c>LS_ERR_RESOLVE</c> (-9): host name could not be resolved.</summary>
    public sealed class ResolveException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public ResolveException(string message, int osError = 0) : base(ErrorCodes.RESOLVE, message, osError) { }
    }

    /// <summary><c>LS_ERR_INVALID_ARGUMENT</c> (-10): invalid argument.</summary>
    public sealed class InvalidArgumentException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public InvalidArgumentException(string message, int osError = 0) : base(ErrorCodes.INVALID_ARGUMENT, message, osError) { }
    }

    /// <summary><c>LS_ERR_FRAME_TOO_LARGE</c> (-11): frame too large.</summary>
    public sealed class FrameTooLargeException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public FrameTooLargeException(string message, int osError = 0) : base(ErrorCodes.FRAME_TOO_LARGE, message, osError) { }
    }

    /// <summary><c>LS_ERR_BUFFER_TOO_SMALL</c> (-12): buffer too small.</summary>
    public sealed class BufferTooSmallException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public BufferTooSmallException(string message, int osError = 0) : base(ErrorCodes.BUFFER_TOO_SMALL, message, osError) { }

        /// <summary>The size the buffer needed, in bytes (or elements), when libsock reported it; else -1.</summary>
        public long Needed { get; }

        /// <summary>A buffer-too-small error that knows the size needed.</summary>
        public BufferTooSmallException(string message, int osError, long needed) : base(ErrorCodes.BUFFER_TOO_SMALL, message, osError) { Needed = needed; }
    }

    /// <summary><c>LS_ERR_BAD_HANDLE</c> (-13): bad handle.</summary>
    public sealed class BadHandleException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public BadHandleException(string message, int osError = 0) : base(ErrorCodes.BAD_HANDLE, message, osError) { }
    }

    /// <summary><c>LS_ERR_QUEUE_FULL</c> (-14): queue full.</summary>
    public sealed class QueueFullException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public QueueFullException(string message, int osError = 0) : base(ErrorCodes.QUEUE_FULL, message, osError) { }
    }

    /// <summary><c>LS_ERR_UNSUPPORTED</c> (-15): not supported on this platform.</summary>
    public sealed class UnsupportedException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public UnsupportedException(string message, int osError = 0) : base(ErrorCodes.UNSUPPORTED, message, osError) { }
    }

    /// <summary><c>LS_ERR_TLS</c> (-16): TLS error.</summary>
    public sealed class TlsException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public TlsException(string message, int osError = 0) : base(ErrorCodes.TLS, message, osError) { }
    }

    /// <summary><c>LS_ERR_IO</c> (-17): I/O error.</summary>
    public sealed class IoException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public IoException(string message, int osError = 0) : base(ErrorCodes.IO, message, osError) { }
    }

    /// <summary><c>LS_ERR_INTERNAL</c> (-18): internal error.</summary>
    public sealed class InternalException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public InternalException(string message, int osError = 0) : base(ErrorCodes.INTERNAL, message, osError) { }
    }

    /// <summary><c>LS_ERR_INTERRUPTED</c> (-19): interrupted.</summary>
    public sealed class InterruptedException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public InterruptedException(string message, int osError = 0) : base(ErrorCodes.INTERRUPTED, message, osError) { }
    }

    /// <summary><c>LS_ERR_BAD_FRAME</c> (-20): malformed frame from the peer.</summary>
    public sealed class BadFrameException : LibsockException
    {
        /// <summary>The error with core's message (<c>Message</c>) and the errno behind it (0 if none).</summary>
        public BadFrameException(string message, int osError = 0) : base(ErrorCodes.BAD_FRAME, message, osError) { }
    }
}
