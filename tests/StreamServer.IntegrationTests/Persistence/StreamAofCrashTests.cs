using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>
/// kill -9 under a stream workload with appendfsync always and everysec: producers XADD, consumer-group readers XREADGROUP … &gt;,
/// an acker XACKs; the server is killed at a random moment and restarted, and what clients were told is checked.
/// Cycles: AOF_STREAM_CRASH_CYCLES (default 50), bounded by AOF_STREAM_CRASH_SECONDS (default 100) of wall time.
/// <para>What a reply promises (always: a reply leaves only after the fsync covering the write; everysec: after the
/// write to the file, which a kill -9 of the process does not undo):</para>
/// <list type="bullet">
/// <item>XADD answered with an id: that entry is in the stream after restart, once, with its fields.</item>
/// <item>XADD sent but not answered (in flight at the kill): the entry is there once or not at all.</item>
/// <item>XREADGROUP answered: each entry it returned is in that consumer's PEL with delivery count 1 until acked, is
/// never delivered again by '&gt;', and the group's last-delivered-id is at least its id.</item>
/// <item>XREADGROUP not answered: its entries may be in that consumer's PEL (then they count as delivered) or not.</item>
/// <item>XACK answered (with the number of ids sent: each was pending): those ids are in no PEL after restart.</item>
/// <item>XACK not answered: each of its ids is either still in the same consumer's PEL or in no PEL.</item>
/// </list>
/// Besides: the PEL holds nothing else, XPENDING's summary and XINFO CONSUMERS agree with it, and the group's
/// entries-read is the number of entries up to its last-delivered-id (nothing is deleted here).
/// </summary>
[Collection(CrashTestCollection.Name)]
public class StreamAofCrashTests(ITestOutputHelper output)
{
    private const string Key = "orders";
    private const string Group = "g";
    private const int Producers = 2;
    private static readonly string[] Consumers = ["c0", "c1"];

    private sealed record Id(long Ms, long Seq) : IComparable<Id>
    {
        public static readonly Id Zero = new(0, 0);

        public static Id Parse(string s)
        {
            var dash = s.IndexOf('-', StringComparison.Ordinal);
            return new Id(long.Parse(s[..dash], CultureInfo.InvariantCulture), long.Parse(s[(dash + 1)..], CultureInfo.InvariantCulture));
        }

        public int CompareTo(Id? other) => other is null ? 1 : Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);

        public override string ToString() => $"{Ms}-{Seq}";
    }

    /// <summary>What clients were told, shared by the workload's tasks (under <see cref="Gate"/>).</summary>
    private sealed class Model
    {
        public readonly object Gate = new();
        public readonly Dictionary<string, string> Entries = [];          // id → "producer:seq", answered or found
        public readonly HashSet<string> AddsInFlight = [];                 // "producer:seq" sent, not answered
        public readonly int[] NextSeq = new int[Producers];
        public readonly Dictionary<string, string> Pending = [];           // id → consumer: delivered, not acked
        public readonly HashSet<string> Delivered = [];                    // every id known delivered
        public readonly HashSet<string> Acked = [];
        public readonly Dictionary<string, string> AcksInFlight = [];      // id → consumer it was pending for
        public readonly HashSet<string> ReadsInFlight = [];                // consumers with an unanswered XREADGROUP
        public readonly List<string> Problems = [];
        public long XaddsAcknowledged;
        public long AckedIdsAcknowledged;
        public long DeliveriesSeen;
        public long InFlightFound;
        public long InFlightGone;
    }

    [Fact]
    public Task KillNine_StreamProducersReadersAckers_AppendFsyncAlways_KeepsEveryAnsweredXaddXackAndDelivery()
        => KillNineUnderStreamLoad("always", EnvInt("AOF_STREAM_CRASH_CYCLES", 50), EnvInt("AOF_STREAM_CRASH_SECONDS", 100));

    /// <summary>
    /// everysec makes the same promises against a kill -9 of the process: a reply leaves only after the run that
    /// executed the command wrote it to the file, and the page cache outlives the process. Fewer cycles than always.
    /// </summary>
    [Fact]
    public Task KillNine_StreamProducersReadersAckers_AppendFsyncEverysec_KeepsEveryAnsweredXaddXackAndDelivery()
        => KillNineUnderStreamLoad("everysec", EnvInt("AOF_STREAM_CRASH_CYCLES", 20), EnvInt("AOF_STREAM_CRASH_SECONDS", 40));

    private async Task KillNineUnderStreamLoad(string fsync, int cycles, int seconds)
    {
        var budget = TimeSpan.FromSeconds(seconds);
        Assert.True(File.Exists(ServerDll()), "executable not built: " + ServerDll());
        var dir = NewTempDir();
        var model = new Model();
        var random = new Random(20261128);
        var clock = Stopwatch.StartNew();
        var ran = 0;
        try
        {
            for (var cycle = 0; cycle < cycles && clock.Elapsed < budget && model.Problems.Count == 0; cycle++)
            {
                using var server = await StartServerAsync(dir, fsync);
                var port = server.Port;
                if (cycle == 0)
                {
                    await using var setup = await Connect(port);
                    Assert.Equal("OK", await setup.Call("XGROUP", "CREATE", Key, Group, "0", "MKSTREAM"));
                }
                else
                {
                    await Verify(port, model);
                    if (model.Problems.Count > 0) break;
                }

                using var stop = new CancellationTokenSource();
                var ackQueue = new Queue<string>(model.Pending.Keys.OrderBy(_ => random.Next()));
                var tasks = new List<Task>();
                for (var p = 0; p < Producers; p++) tasks.Add(Produce(port, p, model, stop.Token));
                foreach (var consumer in Consumers) tasks.Add(Read(port, consumer, model, ackQueue, new Random(random.Next()), stop.Token));
                tasks.Add(Ack(port, model, ackQueue, new Random(random.Next()), stop.Token));
                // Every third cycle a rewrite runs too, so kills also land while the base is written and files switch.
                if (cycle % 3 == 1) tasks.Add(Rewrite(port, random.Next(0, 100)));
                await Task.Delay(random.Next(30, 250));
                server.Kill(); // SIGKILL
                await server.WaitForExitAsync();
                stop.Cancel();
                await Task.WhenAll(tasks);
                ran++;
            }
            if (model.Problems.Count == 0)
            {
                using var server = await StartServerAsync(dir, fsync);
                await Verify(server.Port, model);
            }
            output.WriteLine($"appendfsync {fsync}: kill -9 cycles: {ran}; acknowledged: {model.XaddsAcknowledged} XADD, {model.AckedIdsAcknowledged} XACKed ids, "
                + $"{model.DeliveriesSeen} deliveries; unanswered in flight at the kill: {model.InFlightFound} found, {model.InFlightGone} gone; "
                + $"stream length {model.Entries.Count}, PEL {model.Pending.Count}; losses and duplicates: {model.Problems.Count}; elapsed {clock.Elapsed.TotalSeconds:F1}s");
            foreach (var problem in model.Problems.Take(20)) output.WriteLine(problem);
            Assert.Empty(model.Problems);
            Assert.True(ran >= Math.Min(cycles, 50), $"only {ran} cycles ran in {budget}");
            Assert.True(model.XaddsAcknowledged > 0 && model.AckedIdsAcknowledged > 0, "the workload did not get going");
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    // XADD orders * p <producer> n <seq>
    private static async Task Produce(int port, int producer, Model m, CancellationToken stop)
    {
        await Survive(async () =>
        {
            await using var conn = await Connect(port);
            while (!stop.IsCancellationRequested)
            {
                string tag;
                lock (m.Gate)
                {
                    tag = $"{producer}:{m.NextSeq[producer]++}";
                    m.AddsInFlight.Add(tag);
                }
                var seq = tag[(tag.IndexOf(':', StringComparison.Ordinal) + 1)..];
                var reply = await conn.Call("XADD", Key, "*", "p", producer.ToString(CultureInfo.InvariantCulture), "n", seq);
                lock (m.Gate)
                {
                    m.AddsInFlight.Remove(tag);
                    if (reply is not string id) m.Problems.Add($"XADD {tag} answered {reply}");
                    else if (!m.Entries.TryAdd(id, tag)) m.Problems.Add($"XADD {tag} answered {id}, already the id of {m.Entries[id]}");
                    else m.XaddsAcknowledged++;
                }
            }
        });
    }

    // XREADGROUP GROUP g <consumer> COUNT n [BLOCK ms] STREAMS orders >
    private static async Task Read(int port, string consumer, Model m, Queue<string> ackQueue, Random random, CancellationToken stop)
    {
        await Survive(async () =>
        {
            await using var conn = await Connect(port);
            while (!stop.IsCancellationRequested)
            {
                lock (m.Gate) m.ReadsInFlight.Add(consumer);
                var count = random.Next(1, 20).ToString(CultureInfo.InvariantCulture);
                var reply = random.Next(2) == 0
                    ? await conn.Call("XREADGROUP", "GROUP", Group, consumer, "COUNT", count, "STREAMS", Key, ">")
                    : await conn.Call("XREADGROUP", "GROUP", Group, consumer, "COUNT", count, "BLOCK", "50", "STREAMS", Key, ">");
                // Nil when nothing new (or BLOCK timed out), else [[key, [[id, fields], ...]]].
                var entries = reply is null ? [] : reply is object?[] { Length: 1 } streams && streams[0] is object?[] { Length: 2 } stream ? stream[1] as object?[] : null;
                lock (m.Gate)
                {
                    m.ReadsInFlight.Remove(consumer);
                    if (entries is null)
                    {
                        m.Problems.Add($"XREADGROUP {consumer} answered {reply}");
                        return;
                    }
                    foreach (var entry in entries.Cast<object?[]>())
                    {
                        var id = (string)entry[0]!;
                        m.DeliveriesSeen++;
                        if (!m.Delivered.Add(id)) m.Problems.Add($"{id} delivered again by '>' to {consumer}");
                        m.Pending[id] = consumer;
                        ackQueue.Enqueue(id);
                    }
                }
                if (entries.Length == 0) await Task.Delay(5, CancellationToken.None);
            }
        });
    }

    // XACK orders g id [id ...]: about two thirds of what was delivered, in batches of up to five.
    private static async Task Ack(int port, Model m, Queue<string> queue, Random random, CancellationToken stop)
    {
        await Survive(async () =>
        {
            await using var conn = await Connect(port);
            while (!stop.IsCancellationRequested)
            {
                var batch = new List<string>();
                lock (m.Gate)
                {
                    while (batch.Count < 5 && queue.TryDequeue(out var id))
                    {
                        if (random.Next(3) == 0 || !m.Pending.Remove(id, out var consumer)) continue;
                        m.AcksInFlight[id] = consumer;
                        batch.Add(id);
                    }
                }
                if (batch.Count == 0)
                {
                    await Task.Delay(5, CancellationToken.None);
                    continue;
                }
                var reply = await conn.Call(["XACK", Key, Group, .. batch]);
                lock (m.Gate)
                {
                    foreach (var id in batch)
                    {
                        m.AcksInFlight.Remove(id);
                        m.Acked.Add(id);
                    }
                    if (reply is long n && n == batch.Count) m.AckedIdsAcknowledged += n;
                    else m.Problems.Add($"XACK {string.Join(' ', batch)} answered {reply}, every id was pending");
                }
            }
        });
    }

    private static async Task Rewrite(int port, int delayMs)
    {
        await Task.Delay(delayMs);
        await Survive(async () =>
        {
            await using var conn = await Connect(port);
            await conn.Call("BGREWRITEAOF");
        });
    }

    /// <summary>Runs a client until the kill cuts its connection (what it had in flight stays unanswered).</summary>
    private static async Task Survive(Func<Task> client)
    {
        try
        {
            await client();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
        }
    }

    /// <summary>After a restart: compares the server with what clients were told, then settles what was in flight.</summary>
    private static async Task Verify(int port, Model m)
    {
        await using var conn = await Connect(port);
        var problems = m.Problems;

        // The stream: every answered XADD once with its fields; anything else was in flight, at most once.
        var range = (object?[])(await conn.Call("XRANGE", Key, "-", "+"))!;
        var inStream = new Dictionary<string, string>();
        var tags = new HashSet<string>();
        var order = new List<Id>();
        foreach (var entry in range.Cast<object?[]>())
        {
            var id = (string)entry[0]!;
            var fields = (object?[])entry[1]!;
            var tag = $"{fields[1]}:{fields[3]}";
            inStream[id] = tag;
            order.Add(Id.Parse(id));
            if (!tags.Add(tag)) problems.Add($"XADD {tag} is in the stream twice");
        }
        foreach (var (id, tag) in m.Entries)
        {
            if (!inStream.TryGetValue(id, out var found)) problems.Add($"lost: answered XADD {tag} with id {id}");
            else if (found != tag) problems.Add($"entry {id} is {found}, was answered for {tag}");
        }
        foreach (var (id, tag) in inStream)
        {
            if (m.Entries.ContainsKey(id)) continue;
            if (m.AddsInFlight.Remove(tag))
            {
                m.Entries[id] = tag;
                m.InFlightFound++;
            }
            else problems.Add($"entry {id} ({tag}) was never sent or is a duplicate");
        }
        m.InFlightGone += m.AddsInFlight.Count;
        m.AddsInFlight.Clear();

        // The PEL: what was delivered and not acked, under its consumer, delivered once.
        var pel = new Dictionary<string, string>();
        var pendingReply = await conn.Call("XPENDING", Key, Group, "-", "+", "1000000");
        if (pendingReply is RespError pendingError)
        {
            problems.Add($"XPENDING after restart: {pendingError.Message} (stream has {inStream.Count} entries, {m.Entries.Count} XADDs answered)");
            return;
        }
        foreach (var p in ((object?[])pendingReply!).Cast<object?[]>())
        {
            var id = (string)p[0]!;
            pel[id] = (string)p[1]!;
            if ((long)p[3]! != 1) problems.Add($"{id} has delivery count {p[3]}, it was delivered once");
            if (!inStream.ContainsKey(id)) problems.Add($"{id} is pending but not in the stream");
        }
        foreach (var (id, consumer) in m.Pending)
        {
            if (!pel.TryGetValue(id, out var owner)) problems.Add($"lost: {id} delivered to {consumer}, not acked, is in no PEL");
            else if (owner != consumer) problems.Add($"{id} delivered to {consumer} is pending for {owner}");
        }
        foreach (var id in m.Acked)
        {
            if (pel.TryGetValue(id, out var owner)) problems.Add($"lost: answered XACK of {id}, still pending for {owner}");
        }
        foreach (var (id, owner) in pel)
        {
            if (m.Pending.ContainsKey(id)) continue;
            if (m.AcksInFlight.Remove(id, out var consumer))
            {
                if (consumer != owner) problems.Add($"{id} was pending for {consumer}, now for {owner}");
                m.Pending[id] = owner; // the unanswered XACK did not make it
                m.InFlightGone++;
            }
            else if (m.ReadsInFlight.Contains(owner) && !m.Delivered.Contains(id) && !m.Acked.Contains(id))
            {
                m.Pending[id] = owner; // delivered by the unanswered XREADGROUP
                m.Delivered.Add(id);
                m.InFlightFound++;
            }
            else problems.Add($"{id} is pending for {owner}, which no client was told or could have been");
        }
        foreach (var id in m.AcksInFlight.Keys) m.Acked.Add(id); // the unanswered XACK made it
        m.InFlightFound += m.AcksInFlight.Count;
        m.AcksInFlight.Clear();
        m.ReadsInFlight.Clear();

        var summary = (object?[])(await conn.Call("XPENDING", Key, Group))!;
        if ((long)summary[0]! != pel.Count) problems.Add($"XPENDING counts {summary[0]}, the PEL holds {pel.Count}");
        var consumers = ((object?[])(await conn.Call("XINFO", "CONSUMERS", Key, Group))!).Cast<object?[]>().ToDictionary(x => (string)x[1]!, x => (long)x[3]!);
        foreach (var (consumer, pending) in consumers)
        {
            var expected = pel.Values.Count(o => o == consumer);
            if (pending != expected) problems.Add($"XINFO CONSUMERS: {consumer} has pending {pending}, the PEL holds {expected} of its entries");
        }
        foreach (var owner in pel.Values.Distinct())
        {
            if (!consumers.ContainsKey(owner)) problems.Add($"consumer {owner} owns pending entries but is not listed");
        }

        // The group: last-delivered-id covers every delivery; entries-read counts the entries up to it.
        var group = (object?[])((object?[])(await conn.Call("XINFO", "GROUPS", Key))!)[0]!;
        var fieldsOf = new Dictionary<string, object?>();
        for (var i = 0; i + 1 < group.Length; i += 2) fieldsOf[(string)group[i]!] = group[i + 1];
        var lastDelivered = Id.Parse((string)fieldsOf["last-delivered-id"]!);
        foreach (var id in m.Delivered)
        {
            if (Id.Parse(id).CompareTo(lastDelivered) > 0) problems.Add($"{id} was delivered, last-delivered-id is {lastDelivered}");
        }
        if (lastDelivered.CompareTo(Id.Zero) != 0 && !inStream.ContainsKey(lastDelivered.ToString())) problems.Add($"last-delivered-id {lastDelivered} is not an entry");
        var readUpTo = order.Count(id => id.CompareTo(lastDelivered) <= 0);
        // Nil until the first delivery: the group was created with id 0 and no ENTRIESREAD.
        var entriesRead = fieldsOf["entries-read"] is long n ? n : lastDelivered.CompareTo(Id.Zero) == 0 ? 0 : -1;
        if (entriesRead != readUpTo)
        {
            problems.Add($"entries-read is {fieldsOf["entries-read"]}, {readUpTo} entries are up to last-delivered-id {lastDelivered}");
        }
        // '>' hands out entries in order and nothing here moves the group back or forth: all up to it were delivered.
        foreach (var id in order.Where(id => id.CompareTo(lastDelivered) <= 0))
        {
            if (!m.Delivered.Contains(id.ToString())) problems.Add($"{id} is before last-delivered-id {lastDelivered} but was never delivered");
        }
    }
}
