// File transfer over a connection (core's libsock::transfer through ls_transfer_*): a sender and a
// receiver moved step by step or run to the end, with progress, cancel, resume and the SHA-256.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Libsock
{
    /// <summary>The state of a <see cref="FileTransfer"/> (<c>LS_TRANSFER_*</c>).</summary>
    public enum TransferState
    {
        /// <summary><c>LS_TRANSFER_STARTING</c>: nothing exchanged yet, or the header and the resume offer in progress.</summary>
        STARTING = 1,
        /// <summary><c>LS_TRANSFER_TRANSFERRING</c>: file bytes are moving.</summary>
        TRANSFERRING = 2,
        /// <summary><c>LS_TRANSFER_VERIFYING</c>: every byte moved; the SHA-256 and the verdict are being exchanged.</summary>
        VERIFYING = 3,
        /// <summary><c>LS_TRANSFER_DONE</c>: complete (the receiver verified the SHA-256 and renamed the file into place).</summary>
        DONE = 4,
        /// <summary><c>LS_TRANSFER_FAILED</c>: ended by an error (thrown by the step that failed).</summary>
        FAILED = 5,
    }

    /// <summary>Where a transfer stands (<see cref="FileTransfer.Progress"/>).</summary>
    public sealed class TransferProgress
    {
        /// <summary>Bytes of the file sent or written so far, counted from the start of the file (a
        /// resumed transfer starts at its offset).</summary>
        public long Done { get; }

        /// <summary>The file's size (0 on a receiver until the header arrived).</summary>
        public long Total { get; }

        /// <summary>The state.</summary>
        public TransferState State { get; }

        /// <summary>A progress report.</summary>
        public TransferProgress(long done, long total, TransferState state)
        {
            Done = done; Total = total; State = state;
        }

        /// <summary>"DONE/TOTAL STATE".</summary>
        public override string ToString() => $"{Done}/{Total} {State}";
    }

    /// <summary>What is known about a transfer once its header is through (<see cref="FileTransfer.Info"/>,
    /// <see cref="FileTransfer.Run"/>).</summary>
    public sealed class TransferInfo
    {
        /// <summary>The file's size.</summary>
        public long Size { get; }

        /// <summary>The protocol version spoken (1 or 2; 0 before the header).</summary>
        public int Version { get; }

        /// <summary>The bytes the receiver offered to resume from (0: none).</summary>
        public long Offered { get; }

        /// <summary>Where the bytes started: the offer when the sender accepted it, else 0.</summary>
        public long ResumedAt { get; }

        /// <summary>The file's name as announced (a receiver: its safe version of it; "" before the header).</summary>
        public string Name { get; }

        /// <summary>The sender's file, or the receiver's final path ("" before the header).</summary>
        public string Path { get; }

        /// <summary>The SHA-256 of the whole file, 64 lower-case hex digits ("" until verified).</summary>
        public string Sha256 { get; }

        /// <summary>The facts of a transfer.</summary>
        public TransferInfo(long size, int version, long offered, long resumedAt, string name, string path, string sha256)
        {
            Size = size; Version = version; Offered = offered; ResumedAt = resumedAt;
            Name = name; Path = path; Sha256 = sha256;
        }

        /// <summary>A one-line summary.</summary>
        public override string ToString() =>
            $"{Name} ({Size} bytes, version {Version}, resumed at {ResumedAt}, sha256 {(Sha256.Length == 0 ? "-" : Sha256)})";
    }

    /// <summary>One file sent or received over a <see cref="Connection"/> (libsock's transfer
    /// protocol: a header with the name and size, an optional resume offer, the bytes, then the
    /// SHA-256 both ends check). Made by <see cref="Sender"/> or <see cref="Receiver"/>; moved by
    /// <see cref="Step"/> (one piece: the handshake, at most 1 MiB, or the check) or <see cref="Run"/>
    /// (to the end); <see cref="Progress"/> and <see cref="Cancel"/> work from any thread meanwhile.
    /// The receiver writes <c>NAME.libsock-part</c> and renames it to the final name only once the
    /// SHA-256 matched, so a partial file never shows under the final name. Each wait is bounded
    /// by the connection's default timeout (<see cref="SocketBase.Timeout"/>). Disposing it
    /// cancels it.</summary>
    public sealed class FileTransfer : LibsockObject
    {
        private FileTransfer(long id) : base(id) { }

        /// <summary>A transfer that sends the file at <paramref name="path"/> (opened now: a missing or
        /// unreadable file, or a directory, fails here). <paramref name="name"/> is the name the
        /// receiver is told (null: the file's own name). <paramref name="resume"/> (the usual) speaks
        /// version 2 of the protocol, which lets a receiver resume; false speaks version 1, for old
        /// receivers.</summary>
        public static unsafe FileTransfer Sender(string path, string name = null, bool resume = true)
        {
            byte[] p = Utf8.Encode(path, "path");
            byte[] n = Utf8.Encode(name ?? "", "name");
            long h;
            fixed (byte* pp = p)
            fixed (byte* pn = n)
                Utf8.Check(Native.ls_transfer_sender(pp, pn, resume ? 1 : 0, &h));
            return new FileTransfer(h);
        }

        /// <summary>A transfer that receives one file into <paramref name="dest"/>: the file to write,
        /// or a directory to write into under the sender's name (made safe: no directory part).
        /// <paramref name="overwrite"/> replaces an existing file of the final name (otherwise an
        /// existing <paramref name="dest"/> fails here with <see cref="IoException"/>, an existing file
        /// of the sender's name in a directory after the header). <paramref name="resume"/> offers the
        /// partial file an interrupted transfer left, and the sender sends only the rest when its
        /// first bytes are the same.</summary>
        public static unsafe FileTransfer Receiver(string dest, bool overwrite = false, bool resume = false)
        {
            byte[] d = Utf8.Encode(dest, "dest");
            long h;
            fixed (byte* pd = d) Utf8.Check(Native.ls_transfer_receiver(pd, overwrite ? 1 : 0, resume ? 1 : 0, &h));
            return new FileTransfer(h);
        }

        /// <summary>Moves the transfer one piece forward over <paramref name="conn"/> and returns the
        /// state afterwards. After <see cref="TransferState.DONE"/> it does nothing; after a failure it
        /// is <see cref="InvalidArgumentException"/> naming the first one. Errors: a checksum that
        /// differs or a peer that does not speak the protocol <see cref="BadFrameException"/>; a file
        /// that exists <see cref="IoException"/>; a peer that closes in the middle
        /// <see cref="ClosedException"/> (a receiver keeps the partial file, for a resume);
        /// <see cref="Cancel"/> <see cref="InterruptedException"/>.</summary>
        public unsafe TransferState Step(Connection conn)
        {
            long h = Acquire();
            try
            {
                if (conn == null) throw new InvalidArgumentException("invalid argument: conn is null");
                long c = conn.Acquire();
                try
                {
                    int state;
                    Fail(Native.ls_transfer_step(h, c, &state));
                    return (TransferState)state;
                }
                finally { conn.Release(); }
            }
            finally { Release(); }
        }

        /// <summary>Runs the transfer to its end over <paramref name="conn"/> (the same errors as
        /// <see cref="Step"/>) and returns what it did.</summary>
        public TransferInfo Run(Connection conn)
        {
            long h = Acquire();
            try
            {
                if (conn == null) throw new InvalidArgumentException("invalid argument: conn is null");
                long c = conn.Acquire();
                try
                {
                    Fail(Native.ls_transfer_run(h, c));
                }
                finally { conn.Release(); }
            }
            finally { Release(); }
            return Info;
        }

        /// <summary><see cref="Run"/> on a thread of its own. <paramref name="cancellationToken"/>
        /// calls <see cref="Cancel"/>: the task then faults with <see cref="InterruptedException"/>
        /// at the start of the next piece (a piece blocked in a wait finishes first, within the
        /// connection's timeout; closing the connection ends that wait at once).</summary>
        public Task<TransferInfo> RunAsync(Connection conn, CancellationToken cancellationToken = default(CancellationToken)) =>
            Task.Factory.StartNew(() =>
            {
                using (cancellationToken.Register(() => { try { Cancel(); } catch (ObjectDisposedException) { } }))
                    return Run(conn);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        /// <summary>Where the transfer stands, from any thread, without waiting for a step.</summary>
        public unsafe TransferProgress Progress()
        {
            long h = Acquire();
            try
            {
                ulong done, total;
                int state;
                Fail(Native.ls_transfer_progress(h, &done, &total, &state));
                return new TransferProgress((long)done, (long)total, (TransferState)state);
            }
            finally { Release(); }
        }

        /// <summary>Stops the transfer at the start of its next step, from any thread: that step (or the
        /// running <see cref="Run"/>) throws <see cref="InterruptedException"/>. A receiver keeps the
        /// partial file, for a later resume.</summary>
        public void Cancel() => Call(h => Native.ls_transfer_cancel(h));

        /// <summary>The state now (<see cref="Progress"/>'s).</summary>
        public TransferState State => Progress().State;

        /// <summary>What is known about the transfer (complete once the header is through).</summary>
        public unsafe TransferInfo Info
        {
            get
            {
                long h = Acquire();
                try
                {
                    ulong size, offered, resumed;
                    int version;
                    Fail(Native.ls_transfer_info(h, &size, &version, &offered, &resumed));
                    return new TransferInfo((long)size, version, (long)offered, (long)resumed,
                                            Text(h, 0), Text(h, 1), Text(h, 2));
                }
                finally { Release(); }
            }
        }

        /// <summary>The file's name as announced ("" on a receiver before the header).</summary>
        public string Name => TextOf(0);

        /// <summary>The sender's file, or the receiver's final path ("" before the header).</summary>
        public string Path => TextOf(1);

        /// <summary>The SHA-256 of the whole file in lower-case hex ("" until verified).</summary>
        public string Sha256 => TextOf(2);

        private string TextOf(int which)
        {
            long h = Acquire();
            try { return Text(h, which); }
            finally { Release(); }
        }

        private unsafe string Text(long h, int which)
        {
            var buf = new byte[512];
            while (true)
            {
                UIntPtr len;
                int rc;
                fixed (byte* p = buf)
                {
                    UIntPtr cap = Utf8.Size(buf.Length);
                    rc = which == 0 ? Native.ls_transfer_name(h, p, cap, &len)
                       : which == 1 ? Native.ls_transfer_path(h, p, cap, &len)
                       : Native.ls_transfer_sha256(h, p, cap, &len);
                    if (rc == 0) return Utf8.Decode(p, Utf8.Long(len));
                }
                if (rc == ErrorCodes.BUFFER_TOO_SMALL && Utf8.Long(len) > buf.Length) { buf = new byte[Utf8.Long(len)]; continue; }
                Fail(rc);
            }
        }
    }
}
