// Handle ownership: every libsock object (connection, listener, datagram socket, options, engine
// config, server, client, datagram server) is an int64 handle owned by a SafeLibsockHandle, so a
// forgotten Dispose is still closed by the finalizer. Close from another thread calls ls_close at
// once - libsock never reuses a handle, so that is safe while a call is blocked on it, and it makes
// that call return LS_ERR_CLOSED promptly (ClosedException) - and the SafeHandle's own release
// (when no call holds it any more) does not close twice.
using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Libsock
{
    /// <summary>The SafeHandle that owns one libsock handle (an int64 id, positive, never reused):
    /// released with <c>ls_close</c> exactly once, by <see cref="LibsockObject.Close"/> or by the
    /// finalizer.</summary>
    public sealed class SafeLibsockHandle : SafeHandle
    {
        private int _closed;
        private readonly long _id;

        /// <summary>Takes ownership of handle <paramref name="id"/> (0 makes an invalid handle).</summary>
        public SafeLibsockHandle(long id) : base(IntPtr.Zero, true)
        {
            // The number is kept as a long (exact on 32-bit platforms too); the IntPtr only says
            // whether there is a handle.
            _id = id;
            SetHandle(id == 0 ? IntPtr.Zero : new IntPtr(1));
        }

        /// <summary>The libsock handle number.</summary>
        public long Id => _id;

        /// <summary>True for handle 0.</summary>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>True once <c>ls_close</c> was called for this handle.</summary>
        public bool IsNativeClosed => Volatile.Read(ref _closed) != 0;

        /// <summary>Calls <c>ls_close</c> once (wakes calls blocked on the handle in other threads).</summary>
        internal void CloseNative()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0 && !IsInvalid)
                Native.ls_close(Id);
        }

        /// <summary>Releases the handle (<c>ls_close</c>), unless <see cref="LibsockObject.Close"/> already did.</summary>
        protected override bool ReleaseHandle()
        {
            CloseNative();
            return true;
        }
    }

    /// <summary>The base of every libsock object: owns its handle, closes it in
    /// <see cref="Close"/> / <see cref="Dispose"/> (idempotent, from any thread; a call blocked on
    /// the object in another thread then throws <see cref="ClosedException"/>). Using the object
    /// after that throws <see cref="ObjectDisposedException"/>.</summary>
    public abstract class LibsockObject : IDisposable
    {
        /// <summary>The owned handle.</summary>
        protected internal readonly SafeLibsockHandle SafeHandle;

        /// <summary>Wraps a handle just returned by libsock.</summary>
        protected LibsockObject(long id)
        {
            SafeHandle = new SafeLibsockHandle(id);
        }

        /// <summary>The raw libsock handle (for the C functions), valid until <see cref="Close"/>.</summary>
        public long Handle => SafeHandle.Id;

        /// <summary>True after <see cref="Close"/> or <see cref="Dispose"/>.</summary>
        public bool IsClosed => SafeHandle.IsNativeClosed || SafeHandle.IsClosed;

        /// <summary>Closes the object at once (<c>ls_close</c>); harmless when already closed.</summary>
        public virtual void Close()
        {
            SafeHandle.CloseNative();
            SafeHandle.Dispose();
        }

        /// <summary>The same as <see cref="Close"/> (the <c>using</c> statement calls it).</summary>
        public void Dispose()
        {
            Close();
            GC.SuppressFinalize(this);
        }

        /// <summary>Runs <paramref name="call"/> with the handle number, holding the SafeHandle for
        /// the call's duration; a failure code becomes its exception, and a closed object
        /// ObjectDisposedException.</summary>
        internal int Call(Func<long, int> call, long needed = -1)
        {
            bool added = false;
            try
            {
                if (SafeHandle.IsNativeClosed) throw Disposed();
                SafeHandle.DangerousAddRef(ref added);
                int rc = call(SafeHandle.Id);
                if (rc == ErrorCodes.BAD_HANDLE && SafeHandle.IsNativeClosed) throw Disposed();
                if (rc < 0) throw Utf8.Error(rc, needed);
                return rc;
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            finally
            {
                if (added) SafeHandle.DangerousRelease();
            }
        }

        /// <summary>The id while the object is open, for calls that check the code themselves;
        /// pair with <see cref="Release"/>.</summary>
        internal long Acquire()
        {
            bool added = false;
            try
            {
                if (SafeHandle.IsNativeClosed) throw Disposed();
                SafeHandle.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            return SafeHandle.Id;
        }

        /// <summary>Ends an <see cref="Acquire"/>.</summary>
        internal void Release() => SafeHandle.DangerousRelease();

        /// <summary>Throws the exception of a failure code (ObjectDisposedException when the object
        /// was closed meanwhile and libsock says bad handle).</summary>
        internal void Fail(int rc, long needed = -1)
        {
            if (rc >= 0) return;
            if (rc == ErrorCodes.BAD_HANDLE && SafeHandle.IsNativeClosed) throw Disposed();
            throw Utf8.Error(rc, needed);
        }

        private ObjectDisposedException Disposed() =>
            new ObjectDisposedException(GetType().Name, $"this {GetType().Name} (libsock handle {SafeHandle.Id}) is closed");

        /// <summary>The class name and the handle.</summary>
        public override string ToString() => $"{GetType().Name}(handle {SafeHandle.Id}{(IsClosed ? ", closed" : "")})";
    }
}
