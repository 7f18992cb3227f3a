using System.Buffers;
using System.Text;
using StreamServer.Protocol;

namespace StreamServer.Tests.Protocol;

public class RespRequestReaderTests
{
    private static (List<string[]> Requests, long Consumed, ProtocolError Error, string ErrorText) Parse(ReadOnlySequence<byte> buffer, ParserLimits? limits = null)
    {
        var requests = new RequestBuffer();
        RespRequestReader.Parse(buffer, requests, limits ?? ParserLimits.Default, out var consumed, out _, out var error, out var offending);
        var list = new List<string[]>();
        for (var i = 0; i < requests.Count; i++)
        {
            var (start, count) = requests[i];
            list.Add(Enumerable.Range(start, count).Select(a => Encoding.Latin1.GetString(requests.Arguments[a].Span)).ToArray());
        }
        return (list, buffer.Slice(0, consumed).Length, error, error == ProtocolError.None ? "" : RespRequestReader.Describe(error, offending));
    }

    private static (List<string[]> Requests, long Consumed, ProtocolError Error, string ErrorText) Parse(string text, ParserLimits? limits = null)
        => Parse(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), limits);

    [Fact]
    public void Multibulk_ParsesEveryCompleteRequest()
    {
        var r = Parse("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        Assert.Equal(2, r.Requests.Count);
        Assert.Equal(["PING"], r.Requests[0]);
        Assert.Equal(["SET", "k", ""], r.Requests[1]);
        Assert.Equal(ProtocolError.None, r.Error);
    }

    [Fact]
    public void Multibulk_IncompleteTail_IsLeftForTheNextRead()
    {
        const string complete = "*1\r\n$4\r\nPING\r\n";
        var r = Parse(complete + "*2\r\n$3\r\nGET\r\n$5\r\nab");
        Assert.Single(r.Requests);
        Assert.Equal(complete.Length, r.Consumed);
    }

    [Fact]
    public void ABatch_EndsWithTheRequestThatCrossesBatchBytes_TheRestIsTheNextBatch()
    {
        const string request = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\n" + "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv" + "\r\n";
        var perBatch = (ParserLimits.BatchBytes + request.Length - 1) / request.Length; // the last one ends at or past the limit
        var text = string.Concat(Enumerable.Repeat(request, perBatch + 5));
        var buffer = new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text));
        var first = Parse(buffer);
        Assert.Equal(perBatch, first.Requests.Count);
        Assert.Equal((long)perBatch * request.Length, first.Consumed);
        var second = Parse(buffer.Slice(first.Consumed));
        Assert.Equal(5, second.Requests.Count);
        Assert.All(second.Requests, r => Assert.Equal(["SET", "k", new string('v', 100)], r));
    }

    [Fact]
    public void ALargeArgument_IsOneBatch_WhateverBatchBytes()
    {
        var big = new string('x', 3 * ParserLimits.BatchBytes);
        var r = Parse($"*2\r\n$4\r\nECHO\r\n${big.Length}\r\n{big}\r\n*1\r\n$4\r\nPING\r\n");
        Assert.Single(r.Requests);
        Assert.Equal(["ECHO", big], r.Requests[0]);
    }

    [Fact]
    public void Multibulk_SplitAtEveryByteAcrossSegments_ParsesTheSame()
    {
        var data = Encoding.Latin1.GetBytes("*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$11\r\nhello world\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\n\r\n\r\n");
        for (var a = 1; a < data.Length; a++)
        {
            for (var b = a; b < data.Length; b += 7)
            {
                var r = Parse(Segment.Split(data, a, b));
                Assert.Equal(3, r.Requests.Count);
                Assert.Equal(["SET", "hello", "hello world"], r.Requests[0]);
                Assert.Equal(["PING"], r.Requests[1]);
                Assert.Equal(["ECHO", "\r\n"], r.Requests[2]);
                Assert.Equal(data.Length, r.Consumed);
            }
        }
    }

    [Fact]
    public void Multibulk_EveryPrefix_IsIncompleteWithoutError()
    {
        var data = Encoding.Latin1.GetBytes("*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n");
        for (var n = 0; n < data.Length - 1; n++)
        {
            var r = Parse(new ReadOnlySequence<byte>(data, 0, n));
            Assert.Empty(r.Requests);
            Assert.Equal(0, r.Consumed);
            Assert.Equal(ProtocolError.None, r.Error);
        }
    }

    [Fact]
    public void DeepPipeline_TenThousandRequestsInOneBuffer_ParseInBatchesOfBatchBytes()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 10_000; i++) sb.Append("*2\r\n$3\r\nGET\r\n$").Append(i.ToString().Length).Append("\r\n").Append(i).Append("\r\n");
        var buffer = new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(sb.ToString()));
        var all = new List<string[]>();
        var batches = 0;
        while (!buffer.IsEmpty)
        {
            var r = Parse(buffer);
            Assert.InRange(r.Consumed, 1, ParserLimits.BatchBytes + 32); // a request here is at most 26 bytes
            all.AddRange(r.Requests);
            buffer = buffer.Slice(r.Consumed);
            batches++;
        }
        Assert.Equal(10_000, all.Count);
        Assert.Equal(["GET", "0"], all[0]);
        Assert.Equal(["GET", "9999"], all[^1]);
        Assert.Equal(4, batches); // 228,890 bytes
    }

    [Theory]
    [InlineData("*-9\r\n")]
    [InlineData("*0\r\n")]
    public void Multibulk_EmptyOrNegativeCount_IsNoCommand(string text)
    {
        var r = Parse(text + "PING\r\n");
        Assert.Single(r.Requests);
        Assert.Equal(["PING"], r.Requests[0]);
    }

    [Theory]
    [InlineData("*2147483648\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*x\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*01\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\nPING\r\n", "ERR Protocol error: expected '$', got 'P'")]
    [InlineData("GET \"abc\r\n", "ERR Protocol error: unbalanced quotes in request")]
    [InlineData("SET c \"a\"b\r\n", "ERR Protocol error: unbalanced quotes in request")]
    public void ProtocolErrors_HaveRedisTexts(string text, string expected)
    {
        var r = Parse(text);
        Assert.Equal(expected, r.ErrorText);
    }

    [Fact]
    public void ProtocolError_AfterCompleteRequests_KeepsThem()
    {
        var r = Parse("*1\r\n$4\r\nPING\r\n*x\r\n");
        Assert.Single(r.Requests);
        Assert.Equal(ProtocolError.InvalidMultibulkLength, r.Error);
    }

    [Fact]
    public void TooBigInlineRequest_WithoutNewline()
    {
        var r = Parse(new string('a', 65 * 1024));
        Assert.Equal("ERR Protocol error: too big inline request", r.ErrorText);
    }

    [Fact]
    public void TooBigMultibulkCount_WithoutNewline()
    {
        var r = Parse("*" + new string('1', 65 * 1024));
        Assert.Equal("ERR Protocol error: too big mbulk count string", r.ErrorText);
    }

    [Fact]
    public void TooBigBulkCount_WithoutNewline()
    {
        var r = Parse("*1\r\n$" + new string('1', 65 * 1024));
        Assert.Equal("ERR Protocol error: too big bulk count string", r.ErrorText);
    }

    [Fact]
    public void Unauthenticated_LimitsAsRedis()
    {
        var limits = new ParserLimits(512L * 1024 * 1024, AuthRequired: true);
        Assert.Equal("ERR Protocol error: unauthenticated multibulk length", Parse("*11\r\n", limits).ErrorText);
        Assert.Equal("ERR Protocol error: unauthenticated bulk length", Parse("*1\r\n$16385\r\n", limits).ErrorText);
        Assert.Equal(ProtocolError.None, Parse("*10\r\n$16384\r\n", limits).Error);
    }

    [Fact]
    public void Bulk_TrailingBytesAreSkippedUnchecked_AsRedisDoes()
    {
        var r = Parse("*1\r\n$4\r\nPINGxx");
        Assert.Equal(["PING"], r.Requests[0]);
    }

    [Theory]
    [InlineData("PING\r\n", new[] { "PING" })]
    [InlineData("PING\n", new[] { "PING" })]
    [InlineData("  SET  a   b  \r\n", new[] { "SET", "a", "b" })]
    [InlineData("SET a \"x\\x41y\"\r\n", new[] { "SET", "a", "xAy" })]
    [InlineData("SET b 'it\\'s'\r\n", new[] { "SET", "b", "it's" })]
    [InlineData("ECHO \"a\\nb\"\r\n", new[] { "ECHO", "a\nb" })]
    [InlineData("ECHO \"\"\r\n", new[] { "ECHO", "" })]
    [InlineData("ECHO a\0b c\r\n", new[] { "ECHO", "a" })]
    public void Inline_SplitsAsSdssplitargs(string text, string[] expected)
    {
        var r = Parse(text);
        Assert.Single(r.Requests);
        Assert.Equal(expected, r.Requests[0]);
    }

    [Fact]
    public void Inline_EmptyLines_AreSkipped()
    {
        var r = Parse("\r\n\r\nPING\r\n");
        Assert.Single(r.Requests);
        Assert.Equal(["PING"], r.Requests[0]);
    }

    [Fact]
    public void RequestBuffer_IsReusedWithoutAllocating()
    {
        var data = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", 100))));
        var requests = new RequestBuffer();
        for (var i = 0; i < 10; i++)
        {
            requests.Clear();
            RespRequestReader.Parse(data, requests, ParserLimits.Default, out _, out _, out _, out _);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            requests.Clear();
            RespRequestReader.Parse(data, requests, ParserLimits.Default, out _, out _, out _, out _);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(100, requests.Count);
    }
}
