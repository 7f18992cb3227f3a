using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>
/// kill -9 under load with appendfsync always and everysec: every acknowledged write must survive, nothing may be
/// applied twice.
/// Cycles: AOF_CRASH_CYCLES (default 50), bounded by AOF_CRASH_SECONDS (default 60) of wall time.
/// </summary>
[Collection(CrashTestCollection.Name)]
public class AofCrashTests(ITestOutputHelper output)
{
    private const int Writers = 4;

    /// <summary>What one writer had acknowledged, and what it may have sent without an answer.</summary>
    private sealed class WriterModel
    {
        public long CounterAcked;
        public long CounterSent;
        public readonly StringBuilder LogAcked = new();
        public string? LogInFlight;
        public readonly List<string> KeysAcked = [];
        public int MembersAcked;
        public int NextSeq;
    }

    [Fact]
    public Task KillNine_UnderLoad_AppendFsyncAlways_LosesNoAcknowledgedWrite_DuplicatesNothing() => KillNineUnderLoad("always");

    /// <summary>
    /// everysec: a batch is answered only after its commands were written to the file, so the page cache holds every
    /// acknowledged write when the process (not the machine) dies.
    /// </summary>
    [Fact]
    public Task KillNine_UnderLoad_AppendFsyncEverysec_LosesNoAcknowledgedWrite_DuplicatesNothing() => KillNineUnderLoad("everysec");

    private async Task KillNineUnderLoad(string fsync)
    {
        var cycles = EnvInt("AOF_CRASH_CYCLES", 50);
        var budget = TimeSpan.FromSeconds(EnvInt("AOF_CRASH_SECONDS", 60));
        Assert.True(File.Exists(ServerDll()), "executable not built: " + ServerDll());
        var dir = NewTempDir();
        var models = Enumerable.Range(0, Writers).Select(_ => new WriterModel()).ToArray();
        var random = new Random(12345);
        var clock = Stopwatch.StartNew();
        var ran = 0;
        long acknowledged = 0;
        try
        {
            for (var cycle = 0; cycle < cycles && clock.Elapsed < budget; cycle++)
            {
                using var server = await StartServerAsync(dir, fsync);
                var port = server.Port;
                await Verify(port, models);

                using var stop = new CancellationTokenSource();
                var tasks = Enumerable.Range(0, Writers).Select(w => Write(port, w, cycle, models[w], stop.Token)).ToArray();
                // Every third cycle a rewrite runs too, so kills also land during file switches.
                var rewrite = cycle % 3 == 1 ? Rewrite(port, random.Next(0, 100)) : Task.CompletedTask;
                await Task.Delay(random.Next(30, 250));
                server.Kill(); // SIGKILL
                await server.WaitForExitAsync();
                stop.Cancel();
                acknowledged += (await Task.WhenAll(tasks)).Sum();
                await rewrite;
                ran++;
            }
            // Final check after the last kill.
            using (var server = await StartServerAsync(dir, fsync))
            {
                await Verify(server.Port, models);
                server.Kill();
                await server.WaitForExitAsync();
            }
            output.WriteLine($"appendfsync {fsync}: kill -9 cycles: {ran}, acknowledged writes: {acknowledged}, lost: 0, duplicated: 0, elapsed {clock.Elapsed.TotalSeconds:F1}s");
            Assert.True(ran >= Math.Min(cycles, 5), $"only {ran} cycles ran");
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// SIGTERM while clients write, with appendfsync everysec (no fsync per write): the server stops accepting,
    /// finishes in-flight batches, fsyncs and exits 0, and every acknowledged write is on disk after restart.
    /// </summary>
    [Fact]
    public async Task SigTerm_DuringWrites_AppendFsyncEverysec_ExitsZeroWithEveryAcknowledgedWriteOnDisk()
    {
        Assert.True(File.Exists(ServerDll()), "executable not built: " + ServerDll());
        var dir = NewTempDir();
        var models = Enumerable.Range(0, Writers).Select(_ => new WriterModel()).ToArray();
        long acknowledged = 0;
        try
        {
            for (var cycle = 0; cycle < 5; cycle++)
            {
                using var server = await StartServerAsync(dir, "everysec");
                var port = server.Port;
                await Verify(port, models);
                using var stop = new CancellationTokenSource();
                var tasks = Enumerable.Range(0, Writers).Select(w => Write(port, w, cycle, models[w], stop.Token)).ToArray();
                await Task.Delay(300 + 100 * cycle);
                using (var term = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
                await server.WaitForExitAsync();
                Assert.Equal(0, server.ExitCode);
                stop.Cancel();
                acknowledged += (await Task.WhenAll(tasks)).Sum();
            }
            using (var server = await StartServerAsync(dir, "everysec"))
            {
                await Verify(server.Port, models);
                server.Kill();
                await server.WaitForExitAsync();
            }
            output.WriteLine($"SIGTERM cycles: 5, acknowledged writes: {acknowledged}, lost: 0");
            Assert.True(acknowledged > 0, "no write was acknowledged before SIGTERM");
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static async Task Rewrite(int port, int delayMs)
    {
        try
        {
            await Task.Delay(delayMs);
            await using var conn = await Connect(port);
            await conn.Cmd("BGREWRITEAOF");
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            // killed first
        }
    }

    /// <summary>One writer: SET a fresh key, INCR its counter, APPEND to its log, SADD to its set; each awaited.</summary>
    private static async Task<long> Write(int port, int w, int cycle, WriterModel m, CancellationToken stop)
    {
        long acked = 0;
        try
        {
            await using var conn = await Connect(port);
            while (!stop.IsCancellationRequested)
            {
                var seq = m.NextSeq++;
                var key = $"k:{w}:{cycle}:{seq}";
                Assert.Equal("+OK\r\n", await conn.Cmd("SET", key, seq.ToString(CultureInfo.InvariantCulture)));
                m.KeysAcked.Add(key);
                acked++;

                m.CounterSent++;
                await conn.Cmd("INCR", $"counter:{w}");
                m.CounterAcked++;
                acked++;

                var entry = $"{seq},";
                m.LogInFlight = entry;
                await conn.Cmd("APPEND", $"log:{w}", entry);
                m.LogAcked.Append(entry);
                m.LogInFlight = null;
                acked++;

                await conn.Cmd("SADD", $"set:{w}", $"m{seq}");
                m.MembersAcked++;
                acked++;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            // The server was killed: what was in flight may or may not be in the AOF.
        }
        return acked;
    }

    private static async Task Verify(int port, WriterModel[] models)
    {
        await using var conn = await Connect(port);
        for (var w = 0; w < models.Length; w++)
        {
            var m = models[w];
            // Every acknowledged SET is there.
            foreach (var chunk in m.KeysAcked.Chunk(500))
            {
                var reply = await conn.Cmd(["MGET", .. chunk]);
                Assert.DoesNotContain("$-1\r\n", reply, StringComparison.Ordinal);
            }
            m.KeysAcked.Clear(); // checked once; later cycles re-check only their own

            // The counter holds every acknowledged INCR and nothing twice.
            var counterReply = await conn.Cmd("GET", $"counter:{w}");
            var counter = counterReply == "$-1\r\n" ? 0 : long.Parse(counterReply.Split("\r\n")[1], CultureInfo.InvariantCulture);
            Assert.InRange(counter, m.CounterAcked, m.CounterSent);
            m.CounterAcked = m.CounterSent = counter;

            // The log is exactly the acknowledged appends, plus at most the one in flight, each once.
            var logReply = await conn.Cmd("GET", $"log:{w}");
            var log = logReply == "$-1\r\n" ? "" : logReply.Split("\r\n")[1];
            var acked = m.LogAcked.ToString();
            Assert.True(log == acked || (m.LogInFlight is not null && log == acked + m.LogInFlight), $"log:{w} is '{log}', acknowledged '{acked}' (+'{m.LogInFlight}')");
            m.LogAcked.Clear().Append(log);
            m.LogInFlight = null;

            var card = int.Parse((await conn.Cmd("SCARD", $"set:{w}"))[1..^2], CultureInfo.InvariantCulture);
            Assert.True(card >= m.MembersAcked, $"set:{w} has {card} members, {m.MembersAcked} acknowledged");
            m.MembersAcked = card;
        }
    }
}
