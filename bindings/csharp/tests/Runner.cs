// The C# door's test runner: no framework (Debian's Mono has no NUnit 3 runner for this), each
// test on its own thread with a deadline (LS_TEST_TIMEOUT seconds, default 120), so a hang fails
// that test and the run goes on; the last line is "csharp: N passed, M failed". An argument
// runs only the tests whose names contain it.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading;

namespace Libsock.Tests
{
    /// <summary>A failed check.</summary>
    public sealed class TestFailure : Exception
    {
        /// <summary>A failure with its reason.</summary>
        public TestFailure(string message) : base(message) { }
    }

    /// <summary>Thrown by a test that cannot run here (e.g. S23 without root for a network
    /// namespace): reported as "skip", counted neither passed nor failed.</summary>
    public sealed class TestSkipped : Exception
    {
        /// <summary>A skip with its reason.</summary>
        public TestSkipped(string message) : base(message) { }
    }

    /// <summary>Checks shared by the tests.</summary>
    public static class T
    {
        /// <summary>Fails unless <paramref name="cond"/>.</summary>
        public static void Check(bool cond, string what)
        {
            if (!cond) throw new TestFailure(what);
        }

        /// <summary>Fails unless the two values are equal.</summary>
        public static void Equal<TV>(TV want, TV got, string what)
        {
            if (!EqualityComparer<TV>.Default.Equals(want, got))
                throw new TestFailure($"{what}: expected {want}, got {got}");
        }

        /// <summary>Fails unless the byte arrays are equal.</summary>
        public static void Bytes(byte[] want, byte[] got, string what)
        {
            if (want == null || got == null || want.Length != got.Length)
                throw new TestFailure($"{what}: lengths {want?.Length} and {got?.Length}");
            for (int i = 0; i < want.Length; i++)
                if (want[i] != got[i]) throw new TestFailure($"{what}: differ at byte {i}");
        }

        /// <summary>Runs <paramref name="a"/> and returns the exception of type <typeparamref name="TE"/> it throws.</summary>
        public static TE Throws<TE>(Action a, string what) where TE : Exception
        {
            try
            {
                a();
            }
            catch (TE e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new TestFailure($"{what}: expected {typeof(TE).Name}, got {e.GetType().Name}: {e.Message}");
            }
            throw new TestFailure($"{what}: expected {typeof(TE).Name}, nothing was thrown");
        }

        /// <summary>UTF-8 bytes of a string.</summary>
        public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

        /// <summary>Text of UTF-8 bytes.</summary>
        public static string S(byte[] b) => Encoding.UTF8.GetString(b);

        /// <summary>Starts a background thread (joined by <see cref="Join"/> with a deadline).</summary>
        public static Thread Start(Action a, string name)
        {
            var t = new Thread(() =>
            {
                try { a(); }
                catch (Exception e) { lock (Errors) Errors.Add($"{name}: {e.GetType().Name}: {e.Message}"); }
            }) { IsBackground = true, Name = name };
            t.Start();
            return t;
        }

        /// <summary>Errors of helper threads; <see cref="Join"/> reports them.</summary>
        public static readonly List<string> Errors = new List<string>();

        /// <summary>Joins <paramref name="t"/> within <paramref name="ms"/> and fails if it did not end
        /// or if a helper thread failed.</summary>
        public static void Join(Thread t, int ms = 60000)
        {
            if (!t.Join(ms)) throw new TestFailure($"thread {t.Name} did not end within {ms} ms");
            lock (Errors)
            {
                if (Errors.Count > 0)
                {
                    string e = string.Join("; ", Errors);
                    Errors.Clear();
                    throw new TestFailure(e);
                }
            }
        }

        /// <summary>Milliseconds since an arbitrary start (for the scenarios' time windows).</summary>
        public static double Now => Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency;

        /// <summary>Pulls events until one of <paramref name="kind"/> (null after <paramref name="ms"/>).</summary>
        public static Event WaitKind(EngineObject o, EventKind kind, int ms = 10000)
        {
            double end = Now + ms;
            while (Now < end)
            {
                Event e = o.NextEvent(100);
                if (e != null && e.Kind == kind) return e;
            }
            return null;
        }
    }

    /// <summary>The entry point: runs every test with a deadline and prints the summary.</summary>
    public static class Runner
    {
        /// <summary>Runs the tests; exit code 0 only if all passed and at least one ran.</summary>
        public static int Main(string[] args)
        {
            CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
            if (args.Length == 2 && args[0] == "--kcp-child") return KcpTests.Child(int.Parse(args[1])); // S23, in a lossy namespace
            int deadline = 120;
            string env = Environment.GetEnvironmentVariable("LS_TEST_TIMEOUT");
            if (!string.IsNullOrEmpty(env)) deadline = int.Parse(env);
            var tests = new List<KeyValuePair<string, Action>>();
            Scenarios.Register(tests);
            Door.Register(tests);
            Issue16.Register(tests);
            KcpTests.Register(tests);
            TlsScenarios.Register(tests);
            tests.Add(new KeyValuePair<string, Action>("bad_input_table", BadInputs.Table));
            int passed = 0, failed = 0, skipped = 0;
            bool hung = false;
            Console.WriteLine($"libsock {Library.Version} from C# (Mono {Type.GetType("Mono.Runtime") != null})");
            foreach (var t in tests)
            {
                if (args.Length > 0 && !t.Key.Contains(args[0])) { skipped++; continue; }
                Exception error = null;
                var th = new Thread(() =>
                {
                    try { t.Value(); }
                    catch (Exception e) { error = e; }
                }) { IsBackground = true, Name = t.Key };
                double t0 = T.Now;
                th.Start();
                bool done = th.Join(deadline * 1000);
                double dt = T.Now - t0;
                lock (T.Errors)
                {
                    if (error == null && T.Errors.Count > 0) error = new TestFailure(string.Join("; ", T.Errors));
                    T.Errors.Clear();
                }
                if (!done)
                {
                    hung = true;
                    failed++;
                    Console.WriteLine($"FAIL {t.Key}: still running after {deadline} s (per-test deadline)");
                }
                else if (error is TestSkipped)
                {
                    skipped++;
                    Console.WriteLine($"skip {t.Key}: {error.Message}");
                }
                else if (error != null)
                {
                    failed++;
                    Console.WriteLine($"FAIL {t.Key}: {error.GetType().Name}: {error.Message}");
                    if (!(error is TestFailure)) Console.WriteLine(error.StackTrace);
                }
                else
                {
                    passed++;
                    Console.WriteLine($"ok   {t.Key} ({dt:F0} ms)");
                }
            }
            Library.ShutdownEngine();
            Pki.Cleanup();
            Console.WriteLine($"csharp: {passed} passed, {failed} failed");
            Console.Out.Flush();
            if (hung) Environment.Exit(1); // a hung test's thread must not keep the process alive
            return failed == 0 && passed > 0 ? 0 : 1;
        }
    }
}
