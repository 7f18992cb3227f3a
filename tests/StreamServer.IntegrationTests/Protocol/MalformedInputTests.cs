using System.Text;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.IntegrationTests.Protocol;

/// <summary>
/// Bad input never takes the server down: 100,000 random and malformed frames, each connection's valid requests
/// answered in order, each protocol error answered with Redis's text and the connection closed, and a bystander
/// client served throughout.
/// </summary>
public class MalformedInputTests
{
    private static readonly string[] ProtocolErrors =
    [
        "-ERR Protocol error: invalid multibulk length\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
        "-ERR Protocol error: too big inline request\r\n",
        "-ERR Protocol error: too big mbulk count string\r\n",
        "-ERR Protocol error: too big bulk count string\r\n",
        "-ERR Protocol error: unbalanced quotes in request\r\n",
    ];

    private enum Kind { Valid, ProtocolError, Garbage }

    private sealed record Frame(byte[] Bytes, Kind Kind, string? ExpectedError = null);

    [Fact]
    public async Task HundredThousandRandomAndMalformedFrames_ServerSurvivesAndAnswersLikeRedis()
    {
        await using var target = await TargetServer.StartAsync();
        var server = (Port: target.Port, Host: target.Host);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var ct = cts.Token;
        var random = new Random(20261128);
        var framesSent = 0;
        var protocolErrorsSeen = 0;

        await using var bystander = await RespConnection.ConnectAsync(server.Host, server.Port, ct);

        // Each connection gets up to 200 frames; a protocol error (which closes the connection) only comes last.
        while (framesSent < 100_000)
        {
            var frames = new List<Frame>();
            var count = random.Next(1, 200);
            for (var i = 0; i < count - 1; i++) frames.Add(ValidFrame(random));
            var last = random.Next(10) switch
            {
                < 5 => MalformedFrame(random),
                < 7 => GarbageFrame(random),
                _ => ValidFrame(random),
            };
            frames.Add(last);
            framesSent += frames.Count;

            await using var conn = await RespConnection.ConnectAsync(server.Host, server.Port, ct);
            var payload = frames.SelectMany(f => f.Bytes).ToArray();
            try
            {
                // Half-frames: sometimes deliver the payload in random pieces.
                if (random.Next(4) == 0)
                {
                    var offset = 0;
                    while (offset < payload.Length)
                    {
                        var n = Math.Min(payload.Length - offset, random.Next(1, 64 * 1024));
                        await conn.SendRawAsync(payload.AsMemory(offset, n), ct);
                        offset += n;
                    }
                }
                else
                {
                    await conn.SendRawAsync(payload, ct);
                }
            }
            catch (IOException) when (last.Kind == Kind.ProtocolError)
            {
                // The server answered the bad frame and closed while the rest of it was still being sent.
            }

            try
            {
                await CheckRepliesAsync(conn, frames, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var preview = Encoding.Latin1.GetString(last.Bytes.AsSpan(0, Math.Min(80, last.Bytes.Length)));
                throw new InvalidOperationException($"Connection with {frames.Count} frames, last {last.Kind} '{preview}' ({last.Bytes.Length} bytes): {e.Message}", e);
            }
            protocolErrorsSeen += last.Kind == Kind.ProtocolError ? 1 : 0;

            if (framesSent % 10_000 < 200)
            {
                var pong = await bystander.RoundTripAsync([Encoding.ASCII.GetBytes("PING")], ct);
                Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(pong));
            }
        }

        Assert.True(protocolErrorsSeen > 100, $"only {protocolErrorsSeen} protocol errors exercised");
        var final = await bystander.RoundTripAsync([Encoding.ASCII.GetBytes("ECHO"), Encoding.ASCII.GetBytes("still here")], ct);
        Assert.Equal("$10\r\nstill here\r\n", Encoding.ASCII.GetString(final));
    }

    private static async Task CheckRepliesAsync(RespConnection conn, List<Frame> frames, CancellationToken ct)
    {
        for (var i = 0; i < frames.Count; i++)
        {
            var f = frames[i];
            if (f.Kind == Kind.Garbage)
            {
                // Garbage may be answered (unknown command, protocol error) or wait for more bytes: ask no more of it.
                break;
            }
            var reply = Encoding.Latin1.GetString(await conn.ReadReplyAsync(ct));
            if (f.Kind == Kind.ProtocolError)
            {
                Assert.Equal(f.ExpectedError, reply);
                Assert.True(await conn.IsClosedByServerAsync(ct), "the server closes the connection after a protocol error");
                break;
            }
            Assert.True(reply.Length > 0 && "+-:$*_%~,#".Contains(reply[0], StringComparison.Ordinal), $"well-formed reply expected, got {reply}");
        }
    }

    private static Frame ValidFrame(Random random)
    {
        string[][] commands =
        [
            ["PING"],
            ["ECHO", RandomText(random, random.Next(0, 50))],
            ["SET", "fuzz:" + random.Next(100), RandomText(random, random.Next(0, 100))],
            ["GET", "fuzz:" + random.Next(100)],
            ["NOSUCHCOMMAND", "x"],
            ["GET"],
            ["INCR", "fuzz:counter"],
        ];
        var cmd = commands[random.Next(commands.Length)];
        if (random.Next(5) == 0 && cmd.All(a => a.Length > 0 && a.All(c => c > ' ' && c < 127 && c != '"' && c != '\'')))
        {
            return new Frame(Encoding.Latin1.GetBytes(string.Join(' ', cmd) + "\r\n"), Kind.Valid);
        }
        return new Frame(RespConnection.Encode(cmd.Select(Encoding.Latin1.GetBytes).ToArray()), Kind.Valid);
    }

    private static Frame MalformedFrame(Random random)
    {
        switch (random.Next(8))
        {
            case 0:
                return new Frame(Encoding.ASCII.GetBytes($"*{(long)int.MaxValue + random.Next(1, 1000)}\r\n"), Kind.ProtocolError, ProtocolErrors[0]);
            case 1:
                return new Frame(Encoding.ASCII.GetBytes($"*2\r\n$3\r\nGET\r\n${-random.Next(2, 1000)}\r\n"), Kind.ProtocolError, ProtocolErrors[1]);
            case 2:
                return new Frame(Encoding.ASCII.GetBytes($"*1\r\n${536870913L + random.Next(1000)}\r\n"), Kind.ProtocolError, ProtocolErrors[1]);
            case 3:
                return new Frame(Encoding.ASCII.GetBytes($"*{RandomText(random, 3)}x\r\n"), Kind.ProtocolError, ProtocolErrors[0]);
            case 4:
                // A 1 MB inline line without a newline.
                return new Frame(Encoding.ASCII.GetBytes(new string('a', 1024 * 1024)), Kind.ProtocolError, ProtocolErrors[2]);
            case 5:
                return new Frame(Encoding.ASCII.GetBytes("*" + new string('9', 70_000)), Kind.ProtocolError, ProtocolErrors[3]);
            case 6:
                return new Frame(Encoding.ASCII.GetBytes("*1\r\n$" + new string('9', 70_000)), Kind.ProtocolError, ProtocolErrors[4]);
            default:
                return new Frame(Encoding.ASCII.GetBytes("SET k \"unterminated\r\n"), Kind.ProtocolError, ProtocolErrors[5]);
        }
    }

    private static Frame GarbageFrame(Random random)
    {
        var bytes = new byte[random.Next(1, 300)];
        random.NextBytes(bytes);
        return new Frame(bytes, Kind.Garbage);
    }

    private static string RandomText(Random random, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++) chars[i] = (char)random.Next('a', 'z' + 1);
        return new string(chars);
    }
}
