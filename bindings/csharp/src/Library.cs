// Library-wide calls: the version and stopping the engine's threads.
namespace Libsock
{
    /// <summary>Calls that concern the whole library.</summary>
    public static class Library
    {
        /// <summary>The version of the loaded libsock, e.g. "0.1.0".</summary>
        public static string Version => Utf8.FromStatic(Native.ls_version());

        /// <summary>Stops every server, client and datagram server at once (their waiters wake, their
        /// objects stay valid until closed) and joins the engine's threads; the next engine object
        /// starts it again. The blocking objects are not affected. Call it at the end of Main.</summary>
        public static void ShutdownEngine() => Utf8.Check(Native.ls_shutdown_engine());
    }
}
