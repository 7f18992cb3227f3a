using System.Net.Sockets;
using System.Text;

namespace StreamServer.IntegrationTests.Conformance;

/// <summary>Starts the conformance target once for all transcripts, on first use.</summary>
public sealed class TranscriptTargetFixture : IAsyncLifetime
{
    private readonly Lazy<Task<TargetServer>> _target = new(() => TargetServer.StartAsync());

    internal Task<TargetServer> GetAsync() => _target.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_target.IsValueCreated && _target.Value.IsCompletedSuccessfully)
            await _target.Value.Result.DisposeAsync();
    }
}

/// <summary>
/// Replays every transcript recorded from redis-server (Transcripts/*.txt, see tests/conformance/record.py)
/// against the target server on one fresh connection after FLUSHALL, comparing each reply byte for byte.
/// </summary>
public sealed class TranscriptTests(TranscriptTargetFixture fixture) : IClassFixture<TranscriptTargetFixture>
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);
    private const int MaxReportedMismatches = 20;

    private static string TranscriptDirectory => Path.Combine(AppContext.BaseDirectory, "Transcripts");

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(TranscriptDirectory, "*.txt").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Transcript_RepliesMatchRedisByteForByte(string file)
    {
        var steps = Transcript.Load(Path.Combine(TranscriptDirectory, file));
        var target = await fixture.GetAsync();

        await using var connection = await ConnectAsync(target);
        var (flush, flushError) = await RoundTripAsync(connection, [Encoding.ASCII.GetBytes("FLUSHALL")]);
        if (flushError is not null || !flush.AsSpan().SequenceEqual("+OK\r\n"u8))
            Assert.Fail($"{file}: FLUSHALL before the transcript answered {flushError ?? Transcript.Escape(flush)} (target: {target})");

        var mismatches = new List<string>();
        foreach (var step in steps)
        {
            var (actual, error) = await RoundTripAsync(connection, step.Command);
            if (error is not null)
            {
                // The connection is out of step with the transcript: nothing after this can be compared.
                mismatches.Add(Describe(file, step, error));
                Assert.Fail(Report(file, target, steps.Count, mismatches, aborted: true));
            }
            if (!step.Matches(actual))
                mismatches.Add(Describe(file, step, Transcript.Escape(actual)));
        }

        if (mismatches.Count > 0)
            Assert.Fail(Report(file, target, steps.Count, mismatches, aborted: false));
    }

    private static async Task<RespConnection> ConnectAsync(TargetServer target)
    {
        using var timeout = new CancellationTokenSource(ReplyTimeout);
        try
        {
            return await RespConnection.ConnectAsync(target.Host, target.Port, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            throw new InvalidOperationException($"Cannot connect to the conformance target ({target}): {e.Message}", e);
        }
    }

    /// <summary>The reply's bytes, or a description of why there is no complete reply.</summary>
    private static async Task<(byte[] Reply, string? Error)> RoundTripAsync(RespConnection connection, IReadOnlyList<byte[]> command)
    {
        using var timeout = new CancellationTokenSource(ReplyTimeout);
        try
        {
            return (await connection.RoundTripAsync(command, timeout.Token), null);
        }
        catch (OperationCanceledException)
        {
            return ([], $"<no complete reply within {ReplyTimeout.TotalSeconds}s>");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or SocketException)
        {
            return ([], $"<{e.Message}>");
        }
    }

    private static string Describe(string file, TranscriptStep step, string actual) =>
        $"{file}:{step.Line}: > {step.CommandText}\n  expected: {step.ExpectedText}\n  actual:   {actual}";

    private static string Report(string file, TargetServer target, int total, List<string> mismatches, bool aborted)
    {
        var sb = new StringBuilder();
        sb.Append($"{file}: {mismatches.Count} of {total} replies differ from redis-server (target: {target})");
        sb.AppendLine(aborted ? "; replay stopped at the last one." : ".");
        foreach (var m in mismatches.Take(MaxReportedMismatches)) sb.AppendLine(m);
        if (mismatches.Count > MaxReportedMismatches) sb.AppendLine($"... and {mismatches.Count - MaxReportedMismatches} more.");
        return sb.ToString();
    }
}
