// Timeouts are int milliseconds, as in the C ABI and .NET's own Socket.ReceiveTimeout /
// Task.Wait(int): -1 forever (System.Threading.Timeout.Infinite), 0 poll once, N milliseconds,
// and -2 the object's default timeout (SetTimeout; initially forever).
namespace Libsock
{
    /// <summary>Special timeout values (milliseconds) for every call that waits.</summary>
    public static class Timeouts
    {
        /// <summary>Use the object's default timeout (<see cref="SocketBase.SetTimeout"/>; initially forever).</summary>
        public const int Default = -2;

        /// <summary>Wait forever (the same as <c>System.Threading.Timeout.Infinite</c>).</summary>
        public const int Forever = -1;

        /// <summary>Do not wait: poll once.</summary>
        public const int Poll = 0;
    }
}
