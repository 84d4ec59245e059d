// Descriptor passing on Unix connections (SCM_RIGHTS) and the peer's credentials (SO_PEERCRED).
// The .NET idiom chosen: a received descriptor is a SafeHandle (SafeFdHandle, closed with close(2)
// by Dispose or by the finalizer, so none leaks), and a descriptor to send is an int (what
// Socket.Handle, Process pipes and Mono.Unix give) or a SafeHandle whose handle is the descriptor
// (held for the call, so it cannot be closed meanwhile).
using System;
using System.Collections.Generic;
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
            int fd = handle.ToInt32();
            SetHandleAsInvalid();
            return fd;
        }

        /// <summary>Closes the descriptor.</summary>
        protected override bool ReleaseHandle() => CloseFd(handle.ToInt32()) == 0;

        /// <summary>"fd N".</summary>
        public override string ToString() => $"fd {Fd}";
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
        public uint Uid { get; }

        /// <summary>The peer's group id.</summary>
        public uint Gid { get; }

        /// <summary>Credentials.</summary>
        public PeerCredentials(int pid, uint uid, uint gid)
        {
            Pid = pid; Uid = uid; Gid = gid;
        }

        /// <summary>"pid P uid U gid G".</summary>
        public override string ToString() => $"pid {Pid} uid {Uid} gid {Gid}";
    }
}
