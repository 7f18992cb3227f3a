using System.Buffers;
using System.Buffers.Text;

namespace StreamServer.Persistence;

/// <summary>Writes commands as RESP arrays of bulk strings, the AOF's format.</summary>
public static class RespEncoder
{
    public static void WriteArrayHeader(IBufferWriter<byte> output, int count) => WritePrefixed(output, (byte)'*', count);

    public static void WriteBulk(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        WritePrefixed(output, (byte)'$', value.Length);
        var span = output.GetSpan(value.Length + 2);
        value.CopyTo(span);
        span[value.Length] = (byte)'\r';
        span[value.Length + 1] = (byte)'\n';
        output.Advance(value.Length + 2);
    }

    public static void WriteBulk(IBufferWriter<byte> output, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var n);
        WriteBulk(output, digits[..n]);
    }

    public static void WriteCommand(IBufferWriter<byte> output, ReadOnlySpan<ReadOnlyMemory<byte>> args)
    {
        WriteArrayHeader(output, args.Length);
        foreach (var a in args) WriteBulk(output, a.Span);
    }

    public static void WriteCommand(IBufferWriter<byte> output, params ReadOnlySpan<byte[]> args)
    {
        WriteArrayHeader(output, args.Length);
        foreach (var a in args) WriteBulk(output, a);
    }

    public static void WriteSelect(IBufferWriter<byte> output, int db)
    {
        WriteArrayHeader(output, 2);
        WriteBulk(output, "SELECT"u8);
        WriteBulk(output, db);
    }

    private static void WritePrefixed(IBufferWriter<byte> output, byte prefix, long n)
    {
        var span = output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(n, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(written + 3);
    }
}
