// A blocking listener: listen on an address, accept connections with a timeout.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Libsock
{
    /// <summary>A listening stream socket (TCP or Unix), made by <see cref="Listen"/>.</summary>
    public sealed class Listener : SocketBase
    {
        private Listener(long id) : base(id) { }

        /// <summary>Listens on <paramref name="address"/> ("127.0.0.1:0" picks a free port: read it
        /// from <see cref="SocketBase.LocalPort"/>; "[::]:port"; "unix:/path"), with
        /// <paramref name="backlog"/> (0 = 1024) and options applied before binding. Accepted
        /// connections get <paramref name="framing"/> when given. SO_REUSEADDR is on.</summary>
        public static unsafe Listener Listen(string address, int backlog = 0, SocketOptions options = null, Framing framing = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            int rc;
            fixed (byte* p = a)
                rc = options == null ? Native.ls_listen(p, backlog, &h)
                                     : Native.ls_listen_ex(p, backlog, Connection.Opt(options), &h);
            Utf8.Check(rc);
            var l = new Listener(h);
            if (framing != null)
            {
                try { l.SetFraming(framing); }
                catch { l.Close(); throw; }
            }
            return l;
        }

        /// <summary>Waits for a client up to <paramref name="timeoutMs"/>
        /// (<see cref="LibsockTimeoutException"/> when none came) and returns its connection.</summary>
        public unsafe Connection Accept(int timeoutMs = Timeouts.Default)
        {
            long h = Acquire();
            try
            {
                long c;
                Fail(Native.ls_accept(h, timeoutMs, &c));
                return new Connection(c);
            }
            finally { Release(); }
        }

        /// <summary>Accepts a client without blocking the caller (waits in 100 ms slices on its own
        /// thread; <paramref name="cancellationToken"/> ends the wait).</summary>
        public Task<Connection> AcceptAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            Connection.Sliced(ms => Accept(ms), cancellationToken);
    }
}
