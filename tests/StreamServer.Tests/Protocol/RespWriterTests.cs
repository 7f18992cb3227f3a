using System.Text;
using StreamServer.Protocol;

namespace StreamServer.Tests.Protocol;

public class RespWriterTests
{
    private static string Text(RespWriter w) => Encoding.Latin1.GetString(w.WrittenSpan);

    [Fact]
    public void Resp2_Shapes()
    {
        var w = new RespWriter { Protocol = 2 };
        w.Ok();
        w.Integer(-42);
        w.Bulk("abc"u8);
        w.Null();
        w.NullArray();
        w.Map(1);
        w.Set(2);
        w.Double(1.5);
        w.Boolean(true);
        w.Push(3);
        Assert.Equal("+OK\r\n:-42\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n*2\r\n*2\r\n$3\r\n1.5\r\n:1\r\n*3\r\n", Text(w));
    }

    [Fact]
    public void Resp3_Shapes()
    {
        var w = new RespWriter { Protocol = 3 };
        w.Null();
        w.NullArray();
        w.Map(1);
        w.Set(2);
        w.Double(1.5);
        w.Boolean(false);
        w.Push(3);
        w.Verbatim("hi"u8);
        Assert.Equal("_\r\n_\r\n%1\r\n~2\r\n,1.5\r\n#f\r\n>3\r\n=6\r\ntxt:hi\r\n", Text(w));
    }

    [Theory]
    [InlineData(0.1, "0.10000000000000001")]
    [InlineData(3.0, "3")]
    [InlineData(1e20, "1e+20")]
    [InlineData(1e-5, "1.0000000000000001e-05")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Double_FormatsAsPrintfPercent17g(double value, string expected)
    {
        Span<byte> buffer = stackalloc byte[64];
        var n = RespWriter.FormatDouble(value, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..n]));
    }

    [Fact]
    public void Error_NewlinesBecomeSpaces()
    {
        var w = new RespWriter();
        w.Error("ERR a\r\nb");
        Assert.Equal("-ERR a  b\r\n", Text(w));
        Assert.Equal(1, w.ErrorCount);
    }

    [Fact]
    public void DeferredArray_InsertsHeaderBeforeItems()
    {
        var w = new RespWriter();
        w.Ok();
        var pos = w.BeginDeferred();
        for (var i = 0; i < 12; i++) w.Integer(i);
        w.EndDeferredArray(pos, 12);
        Assert.StartsWith("+OK\r\n*12\r\n:0\r\n:1\r\n", Text(w));
        Assert.EndsWith(":11\r\n", Text(w));
    }

    [Fact]
    public void DeferredMap_Resp2_CountsPairsTwice()
    {
        var w = new RespWriter { Protocol = 2 };
        var pos = w.BeginDeferred();
        w.Bulk("a"u8);
        w.Integer(1);
        w.EndDeferredMap(pos, 1);
        Assert.Equal("*2\r\n$1\r\na\r\n:1\r\n", Text(w));
    }

    [Fact]
    public void LargeBulk_GrowsTheBuffer()
    {
        var w = new RespWriter(16);
        var big = new byte[100_000];
        w.Bulk(big);
        Assert.Equal(100_000 + "$100000\r\n".Length + 2, w.Length);
    }
}
