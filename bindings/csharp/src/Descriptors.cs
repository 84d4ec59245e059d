// Descriptor passing on Unix connections (SCM_RIGHTS) and the peer's credentials (SO_PEERCRED).
// The .NET idiom chosen: a received descriptor is a SafeHandle (SafeFdHandle, closed with close(2)
// by Dispose or by the finalizer, so none leaks), and a descriptor to send is an int (what
// Socket.Handle, Process pipes and Mono.Unix give) or a SafeHandle whose handle is the descriptor
// (held for the call, so it cannot be closed meanwhile).
using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Libsock
{
    /// <summary>A file descriptor received with <see cref="Connection.RecvFds"/>: owned by this
    /// object, closed with close(2) by <see cref="SafeHandle.Dispose()"/> or the finalizer. Take it
    /// out with <see cref="Detach"/> to hand it to something that closes it itself.</summary>
    public sealed class SafeFdHandle : SafeHandle
    {
        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        private static extern int CloseFd(int fd);

        /// <summary>Owns descriptor <paramref name="fd"/> (when <paramref name="ownsHandle"/>: closes it).</summary>
        public SafeFdHandle(int fd, bool ownsHandle = true) : base(new IntPtr(-1), ownsHandle)
        {
            SetHandle(new IntPtr(fd));
        }

        /// <summary>The descriptor number (-1 once closed or detached).</summary>
        public int Fd => IsClosed ? -1 : handle.ToInt32();

        /// <summary>True for a negative descriptor.</summary>
        public override bool IsInvalid => handle.ToInt64() < 0;

        /// <summary>Gives the descriptor up: returns its number and no longer closes it (the caller now
        /// owns it).</summary>
        public int Detach()
        {
            if (IsClosed) throw new ObjectDisposedException(nameof(SafeFdHandle), "the descriptor was closed or detached");
            int fd = handle.ToInt32();
            SetHandleAsInvalid();
            return fd;
        }

        /// <summary>A <see cref="Stream"/> that reads and writes the descriptor with read(2) and
        /// write(2) (a pipe, a socket, a file at its current offset; no seeking) and takes it over:
        /// disposing the stream closes it, and this handle no longer owns it. (Mono's FileStream
        /// accepts only descriptors Mono opened itself, so a received one needs this.)</summary>
        public Stream ToStream(FileAccess access)
        {
            if (access != FileAccess.Read && access != FileAccess.Write && access != FileAccess.ReadWrite)
                throw new InvalidArgumentException($"invalid argument: access {access}");
            return new FdStream(new SafeFdHandle(Detach()), access);
        }

        /// <summary>Closes the descriptor.</summary>
        protected override bool ReleaseHandle() => CloseFd(handle.ToInt32()) == 0;

        /// <summary>"fd N".</summary>
        public override string ToString() => $"fd {Fd}";
    }

    /// <summary>The stream of <see cref="SafeFdHandle.ToStream"/>: read(2) and write(2) on a
    /// descriptor, retried on EINTR; errors are <see cref="IOException"/> with the errno.</summary>
    internal sealed class FdStream : Stream
    {
        [DllImport("libc", EntryPoint = "read", SetLastError = true)]
        private static extern unsafe IntPtr SysRead(int fd, byte* buf, UIntPtr count);

        [DllImport("libc", EntryPoint = "write", SetLastError = true)]
        private static extern unsafe IntPtr SysWrite(int fd, byte* buf, UIntPtr count);

        private const int EINTR = 4;
        private readonly SafeFdHandle _fd;
        private readonly FileAccess _access;

        internal FdStream(SafeFdHandle fd, FileAccess access)
        {
            _fd = fd; _access = access;
        }

        public override bool CanRead => !_fd.IsClosed && (_access & FileAccess.Read) != 0;
        public override bool CanWrite => !_fd.IsClosed && (_access & FileAccess.Write) != 0;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException("a descriptor stream has no length");
        public override long Position
        {
            get => throw new NotSupportedException("a descriptor stream cannot seek");
            set => throw new NotSupportedException("a descriptor stream cannot seek");
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a descriptor stream cannot seek");
        public override void SetLength(long value) => throw new NotSupportedException("a descriptor stream has no length");
        public override void Flush() { }

        public override unsafe int Read(byte[] buffer, int offset, int count)
        {
            Utf8.Range(buffer, offset, count);
            if (!CanRead) throw new NotSupportedException("the stream is closed or not readable");
            bool added = false;
            try
            {
                _fd.DangerousAddRef(ref added);
                while (true)
                {
                    long n;
                    fixed (byte* p = buffer) n = SysRead(_fd.Fd, p + offset, (UIntPtr)(uint)count).ToInt64();
                    if (n >= 0) return (int)n;
                    int errno = Marshal.GetLastWin32Error();
                    if (errno != EINTR) throw new IOException($"read from descriptor {_fd.Fd}: errno {errno}");
                }
            }
            finally { if (added) _fd.DangerousRelease(); }
        }

        public override unsafe void Write(byte[] buffer, int offset, int count)
        {
            Utf8.Range(buffer, offset, count);
            if (!CanWrite) throw new NotSupportedException("the stream is closed or not writable");
            bool added = false;
            try
            {
                _fd.DangerousAddRef(ref added);
                while (count > 0)
                {
                    long n;
                    fixed (byte* p = buffer) n = SysWrite(_fd.Fd, p + offset, (UIntPtr)(uint)count).ToInt64();
                    if (n < 0)
                    {
                        int errno = Marshal.GetLastWin32Error();
                        if (errno == EINTR) continue;
                        throw new IOException($"write to descriptor {_fd.Fd}: errno {errno}");
                    }
                    offset += (int)n;
                    count -= (int)n;
                }
            }
            finally { if (added) _fd.DangerousRelease(); }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _fd.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>What <see cref="Connection.RecvFds"/> received: bytes and the descriptors that came
    /// with them. Disposing it closes the descriptors not <see cref="SafeFdHandle.Detach"/>ed.</summary>
    public sealed class ReceivedFds : IDisposable
    {
        /// <summary>The bytes (empty at the end of the stream).</summary>
        public byte[] Data { get; }

        /// <summary>The descriptors, owned by the receiver (close-on-exec set).</summary>
        public SafeFdHandle[] Fds { get; }

        /// <summary>Bytes and descriptors.</summary>
        public ReceivedFds(byte[] data, SafeFdHandle[] fds)
        {
            Data = data; Fds = fds;
        }

        /// <summary>Closes every descriptor still owned.</summary>
        public void Dispose()
        {
            foreach (var f in Fds) f.Dispose();
        }

        /// <summary>"N bytes, M descriptors".</summary>
        public override string ToString() => $"{Data.Length} bytes, {Fds.Length} descriptors";
    }

    /// <summary>The process at the other end of a Unix connection, as the kernel recorded it when
    /// the connection was made (<see cref="Connection.PeerCredentials"/>).</summary>
    public sealed class PeerCredentials
    {
        /// <summary>The peer's process id.</summary>
        public int Pid { get; }

        /// <summary>The peer's user id.</summary>
        public long Uid { get; }

        /// <summary>The peer's group id.</summary>
        public long Gid { get; }

        /// <summary>Credentials.</summary>
        public PeerCredentials(int pid, long uid, long gid)
        {
            Pid = pid; Uid = uid; Gid = gid;
        }

        /// <summary>"pid P uid U gid G".</summary>
        public override string ToString() => $"pid {Pid} uid {Uid} gid {Gid}";
    }
}
