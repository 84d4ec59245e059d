// Framing presets: how a byte stream is cut into messages (the ls_set_framing_* calls). A Framing
// is a value: set it on a connection, a listener (accepted connections get it) or an engine config.
using System;

namespace Libsock
{
    /// <summary>How messages are cut out of a stream (and framed when sent): raw, length-prefixed,
    /// delimited, fixed-size or HP-Socket's PACK. Immutable; apply it with
    /// <see cref="SocketBase.SetFraming"/> or <see cref="EngineConfig.SetFraming"/>. Values are
    /// checked by libsock when applied (a width of 3 is <see cref="InvalidArgumentException"/>).</summary>
    public sealed class Framing
    {
        private enum Kind { Raw, Length, Delimited, Fixed, HpPack }

        private readonly Kind _kind;
        private readonly int _width, _flag;
        private readonly bool _bigEndian, _keep;
        private readonly long _offset, _headerLen, _adjustment, _maxLen, _size;
        private readonly byte[] _delimiter;
        private readonly bool _extended;

        private Framing(Kind kind, int width = 0, bool bigEndian = true, long offset = 0, long headerLen = 0,
                        long adjustment = 0, long maxLen = 0, bool keep = false, byte[] delimiter = null,
                        long size = 0, int flag = 0, bool extended = false)
        {
            _kind = kind; _width = width; _bigEndian = bigEndian; _offset = offset; _headerLen = headerLen;
            _adjustment = adjustment; _maxLen = maxLen; _keep = keep; _delimiter = delimiter; _size = size;
            _flag = flag; _extended = extended;
        }

        /// <summary>No framing: a message is what one read gives, and is sent as it is.</summary>
        public static Framing Raw() => new Framing(Kind.Raw);

        /// <summary>A length field of <paramref name="width"/> bytes (1, 2, 4 or 8) before each body,
        /// big endian unless <paramref name="bigEndian"/> is false; bodies above
        /// <paramref name="maxLen"/> bytes (0 = 16 MiB) are <see cref="FrameTooLargeException"/>.</summary>
        public static Framing LengthPrefixed(int width = 4, bool bigEndian = true, long maxLen = 0) =>
            new Framing(Kind.Length, width: width, bigEndian: bigEndian, maxLen: maxLen);

        /// <summary>A length field of <paramref name="width"/> bytes at <paramref name="offset"/> in a
        /// header of <paramref name="headerLength"/> bytes; body length = field + <paramref name="adjustment"/>;
        /// <paramref name="keepHeader"/> delivers (and expects on send) each message with its header.</summary>
        public static Framing LengthPrefixed(int width, bool bigEndian, long offset, long headerLength,
                                             long adjustment, long maxLen = 0, bool keepHeader = false) =>
            new Framing(Kind.Length, width: width, bigEndian: bigEndian, offset: offset, headerLen: headerLength,
                        adjustment: adjustment, maxLen: maxLen, keep: keepHeader, extended: true);

        /// <summary>Messages ending with <paramref name="delimiter"/> (e.g. "\r\n"); a message longer
        /// than <paramref name="maxLen"/> (0 = 16 MiB) is <see cref="FrameTooLargeException"/>;
        /// <paramref name="keep"/> delivers the delimiter with each message.</summary>
        public static Framing Delimited(byte[] delimiter, long maxLen = 0, bool keep = false) =>
            new Framing(Kind.Delimited, delimiter: delimiter == null ? null : (byte[])delimiter.Clone(), maxLen: maxLen, keep: keep);

        /// <summary><see cref="Delimited(byte[], long, bool)"/> with a text delimiter (UTF-8).</summary>
        public static Framing Delimited(string delimiter, long maxLen = 0, bool keep = false)
        {
            byte[] z = Utf8.Encode(delimiter, "delimiter");
            var d = new byte[z.Length - 1];
            Array.Copy(z, d, d.Length);
            return new Framing(Kind.Delimited, delimiter: d, maxLen: maxLen, keep: keep);
        }

        /// <summary>Lines ending with "\n" (delivered without it).</summary>
        public static Framing Lines(long maxLen = 0) => Delimited(new byte[] { 10 }, maxLen);

        /// <summary>Lines ending with "\r\n" (delivered without it).</summary>
        public static Framing CrLf(long maxLen = 0) => Delimited(new byte[] { 13, 10 }, maxLen);

        /// <summary>Messages of exactly <paramref name="size"/> (&gt; 0) bytes.</summary>
        public static Framing Fixed(long size) => new Framing(Kind.Fixed, size: size);

        /// <summary>HP-Socket's PACK: a 4-byte little-endian header, 22 bits of length and the 10-bit
        /// <paramref name="flag"/> (0..1023, checked on receive); <paramref name="maxLen"/> 0 = 4194303.</summary>
        public static Framing HpPack(int flag = 0, long maxLen = 0) => new Framing(Kind.HpPack, flag: flag, maxLen: maxLen);

        /// <summary>Applies the framing to handle <paramref name="h"/>; returns libsock's code.</summary>
        internal unsafe int Apply(long h)
        {
            if ((_kind == Kind.Length || _kind == Kind.Delimited || _kind == Kind.HpPack) && _maxLen < 0)
                throw new InvalidArgumentException($"invalid argument: max_len {_maxLen} is negative");
            switch (_kind)
            {
                case Kind.Raw:
                    return Native.ls_set_framing_raw(h);
                case Kind.Length:
                    if (!_extended)
                        return Native.ls_set_framing_length(h, _width, _bigEndian ? 1 : 0, Utf8.Size(_maxLen));
                    if (_offset < 0 || _headerLen < 0)
                        throw new InvalidArgumentException($"invalid argument: offset {_offset} and header_len {_headerLen} must not be negative");
                    return Native.ls_set_framing_length_ex(h, _width, _bigEndian ? 1 : 0, Utf8.Size(_offset),
                        Utf8.Size(_headerLen), _adjustment, Utf8.Size(_maxLen), _keep ? 1 : 0);
                case Kind.Delimited:
                    if (_delimiter == null) throw new InvalidArgumentException("invalid argument: delimiter is null");
                    fixed (byte* d = _delimiter)
                        return Native.ls_set_framing_delimited(h, d, Utf8.Size(_delimiter.Length), Utf8.Size(_maxLen), _keep ? 1 : 0);
                case Kind.Fixed:
                    if (_size < 0) throw new InvalidArgumentException($"invalid argument: size {_size} is negative");
                    return Native.ls_set_framing_fixed(h, Utf8.Size(_size));
                default:
                    return Native.ls_set_framing_hp_pack(h, _flag, Utf8.Size(_maxLen));
            }
        }

        /// <summary>A description such as "LengthPrefixed(width 4, big endian)".</summary>
        public override string ToString()
        {
            switch (_kind)
            {
                case Kind.Raw: return "Raw";
                case Kind.Length: return $"LengthPrefixed(width {_width}, {(_bigEndian ? "big" : "little")} endian{(_maxLen > 0 ? ", max " + _maxLen : "")})";
                case Kind.Delimited: return $"Delimited({BitConverter.ToString(_delimiter ?? new byte[0])})";
                case Kind.Fixed: return $"Fixed({_size})";
                default: return $"HpPack(flag {_flag})";
            }
        }
    }
}
