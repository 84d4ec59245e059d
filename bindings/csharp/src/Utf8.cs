// Text across the boundary: C# strings (UTF-16) to NUL-terminated UTF-8 and back, strictly: a
// lone surrogate or a NUL inside a string is refused with InvalidArgumentException (core's words),
// never replaced by something else; bytes from libsock that are not UTF-8 decode with U+FFFD.
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Libsock
{
    /// <summary>UTF-8 marshalling and the translation of return codes into exceptions (internal).</summary>
    internal static unsafe class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);
        private static readonly UTF8Encoding Lenient = new UTF8Encoding(false, false);

        /// <summary><paramref name="text"/> as NUL-terminated UTF-8; <paramref name="what"/> names the
        /// argument in the error. null is an InvalidArgumentException (as a NULL pointer is in C).</summary>
        internal static byte[] Encode(string text, string what)
        {
            if (text == null)
                throw new InvalidArgumentException($"invalid argument: {what} is null");
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '\0')
                    throw new InvalidArgumentException($"invalid argument: {what} contains a NUL character at index {i}");
                if (char.IsHighSurrogate(c))
                {
                    if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
                    throw LoneSurrogate(what, c, i);
                }
                if (char.IsLowSurrogate(c))
                    throw LoneSurrogate(what, c, i);
            }
            int n = Strict.GetByteCount(text);
            var bytes = new byte[n + 1];
            Strict.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes;
        }

        private static InvalidArgumentException LoneSurrogate(string what, char c, int at) =>
            new InvalidArgumentException($"invalid argument: {what} is not text: a lone UTF-16 surrogate 0x{(int)c:x4} at index {at}");

        /// <summary>Text of <paramref name="len"/> bytes at <paramref name="p"/> (not NUL-terminated).</summary>
        internal static string Decode(byte* p, long len) => len <= 0 ? "" : Lenient.GetString(p, checked((int)len));

        /// <summary>Text of a byte array.</summary>
        internal static string Decode(byte[] b) => b == null ? "" : Lenient.GetString(b);

        /// <summary>A static NUL-terminated string owned by libsock.</summary>
        internal static string FromStatic(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            byte* s = (byte*)p;
            int n = 0;
            while (s[n] != 0) n++;
            return Decode(s, n);
        }

        /// <summary>The calling thread's last error message (copied right after the failing call).</summary>
        internal static string LastErrorMessage()
        {
            byte* buf = stackalloc byte[1024];
            UIntPtr len;
            int rc = Native.ls_last_error_message(buf, (UIntPtr)1024, &len);
            if (rc == 0) return Decode(buf, (long)len.ToUInt64());
            if (rc == ErrorCodes.BUFFER_TOO_SMALL)
            {
                var big = new byte[(long)len.ToUInt64()];
                fixed (byte* b = big)
                {
                    if (Native.ls_last_error_message(b, (UIntPtr)big.Length, &len) == 0)
                        return Decode(b, (long)len.ToUInt64());
                }
            }
            return "";
        }

        /// <summary>Throws the exception of <paramref name="rc"/> when it is an error (negative).</summary>
        internal static void Check(int rc, long needed = -1)
        {
            if (rc >= 0) return;
            throw Error(rc, needed);
        }

        /// <summary>The exception of error code <paramref name="rc"/>, with the thread's last message.</summary>
        internal static LibsockException Error(int rc, long needed = -1)
        {
            string msg = LastErrorMessage();
            int os = Native.ls_last_os_error();
            if (msg.Length == 0) msg = ErrorCodes.Describe(rc);
            return LibsockException.FromCode(rc, msg, os, needed);
        }

        /// <summary>Size_t of an int count (never negative here).</summary>
        internal static UIntPtr Size(long n) => (UIntPtr)(ulong)n;

        /// <summary>A size_t result as long.</summary>
        internal static long Long(UIntPtr n) => (long)n.ToUInt64();

        /// <summary>Throws ArgumentOutOfRange unless offset..offset+count lies inside an array of cap.</summary>
        internal static void Range(byte[] buf, int offset, int count)
        {
            if (buf == null) throw new InvalidArgumentException("invalid argument: buf is null");
            if (offset < 0 || count < 0 || offset > buf.Length - count)
                throw new InvalidArgumentException(
                    $"invalid argument: offset {offset} and count {count} do not fit a buffer of {buf.Length} bytes");
        }
    }
}
