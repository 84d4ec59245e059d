package io.libsock;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How a byte stream is cut into messages for {@link TcpConnection#sendMsg(byte[])} and
 * {@link TcpConnection#recvMsg()}, so messages never arrive glued together or cut in half.
 * Values are immutable; the framing logic itself runs in libsock's core.
 *
 * <pre>{@code
 * conn.setFraming(Framing.lengthPrefixed());            // 4-byte big-endian length, then body
 * conn.setFraming(Framing.delimited("\r\n").withMaxLength(8192));
 * conn.setFraming(Framing.lengthPrefixed(2).littleEndian());
 * }</pre>
 */
public abstract class Framing {
    /** The default maximum message length: 16 MiB. */
    public static final long DEFAULT_MAX_LENGTH = 16L * 1024 * 1024;

    Framing() {}

    /** Applies this framing to a connection or listener handle. */
    abstract void apply(long handle) throws IOException;

    /**
     * The flat parameters for the engine: {kind, width, bigEndian, offset, headerLength,
     * adjustment, maxLength, lengthBits, flag, keep}.
     */
    abstract long[] params();

    /** The delimiter of a delimited framing, else null. */
    byte[] delimiterBytes() {
        return null;
    }

    /**
     * No framing: a message is whatever one read returns.
     *
     * @return the raw framing
     */
    public static Framing raw() {
        return Simple.RAW;
    }

    /**
     * A 4-byte big-endian (network order) length prefix counting the body.
     *
     * @return the framing
     */
    public static LengthPrefixed lengthPrefixed() {
        return new LengthPrefixed(4);
    }

    /**
     * A big-endian length prefix of {@code width} bytes (1, 2, 4 or 8).
     *
     * @param width the length field's size in bytes
     * @return the framing
     */
    public static LengthPrefixed lengthPrefixed(int width) {
        return new LengthPrefixed(width);
    }

    /**
     * Messages ending with {@code delimiter}, delimiter stripped on receive and added on send.
     *
     * @param delimiter the delimiter bytes (not empty)
     * @return the framing
     */
    public static Delimited delimited(byte[] delimiter) {
        return new Delimited(delimiter);
    }

    /**
     * Messages ending with {@code delimiter} (UTF-8 encoded), e.g. {@code "\r\n"}.
     *
     * @param delimiter the delimiter text (not empty)
     * @return the framing
     */
    public static Delimited delimited(String delimiter) {
        return new Delimited(delimiter.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Lines ending in {@code "\n"}.
     *
     * @return the framing
     */
    public static Delimited lines() {
        return delimited(new byte[] {'\n'});
    }

    /**
     * Every message is exactly {@code size} bytes.
     *
     * @param size the message size (positive)
     * @return the framing
     */
    public static Framing fixed(int size) {
        return new Simple(3, size, 0);
    }

    /**
     * HP-Socket's PACK header: 4 bytes little endian, low 22 bits the body length, high 10 bits
     * {@code flag} (checked on receive).
     *
     * @param flag the 10-bit flag
     * @param maxLength the largest body, 1 to 0x3FFFFF (a larger one is refused with
     *     {@link InvalidArgumentException} where the framing is set, as in every door)
     * @return the framing
     */
    public static Framing hpPack(int flag, long maxLength) {
        return new Simple(4, maxLength, flag);
    }

    /** Raw, fixed and HP-Socket PACK framings. */
    static final class Simple extends Framing {
        static final Simple RAW = new Simple(0, 0, 0);
        private final int kind;
        private final long size;
        private final long flag;

        Simple(int kind, long size, long flag) {
            this.kind = kind;
            this.size = size;
            this.flag = flag;
        }

        @Override
        void apply(long handle) throws IOException {
            Native.setFraming(handle, kind, 0, true, 0, -1, 0, size, 0, flag, false, null);
        }

        @Override
        long[] params() {
            return new long[] {kind, 0, 1, 0, -1, 0, size, 0, flag, 0};
        }

        @Override
        public String toString() {
            switch (kind) {
                case 0:
                    return "Framing.raw()";
                case 3:
                    return "Framing.fixed(" + size + ")";
                default:
                    return "Framing.hpPack(" + flag + ", " + size + ")";
            }
        }
    }

    /**
     * A length-prefixed framing: a header of {@code headerLength} bytes holding, at
     * {@code offset}, a length field of {@code width} bytes; the body length is the field's value
     * plus {@code adjustment}. Built with the {@code with...} methods, each returning a copy.
     */
    public static final class LengthPrefixed extends Framing {
        private int width = 4;
        private boolean bigEndian = true;
        private int offset = 0;
        private int headerLength = -1;
        private long adjustment = 0;
        private long maxLength = DEFAULT_MAX_LENGTH;
        /** Set by withFlagBits; otherwise every bit of the field is length. */
        private boolean flagBits = false;
        private int lengthBits = 0;
        private long flag = 0;
        private boolean keepHeader = false;

        LengthPrefixed(int width) {
            this.width = width;
        }

        private LengthPrefixed copy() {
            LengthPrefixed c = new LengthPrefixed(width);
            c.bigEndian = bigEndian;
            c.offset = offset;
            c.headerLength = headerLength;
            c.adjustment = adjustment;
            c.maxLength = maxLength;
            c.flagBits = flagBits;
            c.lengthBits = lengthBits;
            c.flag = flag;
            c.keepHeader = keepHeader;
            return c;
        }

        /**
         * Little-endian length field.
         *
         * @return a copy with the byte order changed
         */
        public LengthPrefixed littleEndian() {
            LengthPrefixed c = copy();
            c.bigEndian = false;
            return c;
        }

        /**
         * Big-endian (network order) length field, the default.
         *
         * @return a copy with the byte order changed
         */
        public LengthPrefixed bigEndian() {
            LengthPrefixed c = copy();
            c.bigEndian = true;
            return c;
        }

        /**
         * Put the field at {@code offset} inside the header (the header grows to fit it).
         *
         * @param offset bytes before the field
         * @return a copy
         */
        public LengthPrefixed withOffset(int offset) {
            LengthPrefixed c = copy();
            c.offset = offset;
            return c;
        }

        /**
         * Set the total header length.
         *
         * @param headerLength bytes of header (at least offset + width, at most 64)
         * @return a copy
         */
        public LengthPrefixed withHeaderLength(int headerLength) {
            LengthPrefixed c = copy();
            c.headerLength = headerLength;
            return c;
        }

        /**
         * Body length = field value + {@code adjustment} (negative when the field counts the
         * header).
         *
         * @param adjustment the adjustment
         * @return a copy
         */
        public LengthPrefixed withAdjustment(long adjustment) {
            LengthPrefixed c = copy();
            c.adjustment = adjustment;
            return c;
        }

        /**
         * The largest body accepted or sent; larger is a {@link FrameTooLargeException}.
         *
         * @param maxLength bytes
         * @return a copy
         */
        public LengthPrefixed withMaxLength(long maxLength) {
            LengthPrefixed c = copy();
            c.maxLength = maxLength;
            return c;
        }

        /**
         * Use only the low {@code lengthBits} of the field for the length; the high bits carry
         * {@code flag} (written on send, checked on receive).
         *
         * @param lengthBits bits of length: 1 up to the field's bits (checked by core when the
         *     framing is used, as in every door: 0 or a negative number is an
         *     {@link InvalidArgumentException})
         * @param flag the value of the high bits
         * @return a copy
         */
        public LengthPrefixed withFlagBits(int lengthBits, long flag) {
            LengthPrefixed c = copy();
            c.flagBits = true;
            c.lengthBits = lengthBits;
            c.flag = flag;
            return c;
        }

        /**
         * Deliver the header in front of each message (and expect it on send).
         *
         * @param keep true to keep the header
         * @return a copy
         */
        public LengthPrefixed withKeepHeader(boolean keep) {
            LengthPrefixed c = copy();
            c.keepHeader = keep;
            return c;
        }

        @Override
        void apply(long handle) throws IOException {
            Native.setFraming(handle, 1, width, bigEndian, offset, headerLength, adjustment,
                    maxLength, lengthBits(), flag, keepHeader, null);
        }

        /** The length bits passed on: as set by withFlagBits, else the whole field. */
        private int lengthBits() {
            return flagBits ? lengthBits : width * 8;
        }

        @Override
        long[] params() {
            return new long[] {1, width, bigEndian ? 1 : 0, offset, headerLength, adjustment,
                maxLength, lengthBits(), flag, keepHeader ? 1 : 0};
        }

        @Override
        public String toString() {
            return "Framing.lengthPrefixed(" + width + (bigEndian ? ", big endian" : ", little endian")
                    + ", max " + maxLength + ")";
        }
    }

    /** A delimiter framing: each message ends with the delimiter. */
    public static final class Delimited extends Framing {
        private final byte[] delimiter;
        private long maxLength = DEFAULT_MAX_LENGTH;
        private boolean keepDelimiter = false;

        Delimited(byte[] delimiter) {
            if (delimiter == null) {
                throw new NullPointerException("delimiter is null");
            }
            this.delimiter = delimiter.clone();
        }

        /**
         * The longest message (without the delimiter); a longer one is a
         * {@link FrameTooLargeException} and is skipped up to its delimiter.
         *
         * @param maxLength bytes
         * @return a copy
         */
        public Delimited withMaxLength(long maxLength) {
            Delimited c = new Delimited(delimiter);
            c.maxLength = maxLength;
            c.keepDelimiter = keepDelimiter;
            return c;
        }

        /**
         * Keep the delimiter on received messages.
         *
         * @param keep true to keep it
         * @return a copy
         */
        public Delimited withKeepDelimiter(boolean keep) {
            Delimited c = new Delimited(delimiter);
            c.maxLength = maxLength;
            c.keepDelimiter = keep;
            return c;
        }

        @Override
        void apply(long handle) throws IOException {
            Native.setFraming(handle, 2, 0, true, 0, -1, 0, maxLength, 0, 0, keepDelimiter,
                    delimiter);
        }

        @Override
        long[] params() {
            return new long[] {2, 0, 1, 0, -1, 0, maxLength, 0, 0, keepDelimiter ? 1 : 0};
        }

        @Override
        byte[] delimiterBytes() {
            return delimiter;
        }

        @Override
        public String toString() {
            return "Framing.delimited(" + Arrays.toString(delimiter) + ", max " + maxLength + ")";
        }
    }
}
