using System.Text;
using StreamServer.Protocol;

namespace StreamServer.Tests.Protocol;

/// <summary>Redis's string2ll: strict digits, no '+', no leading zeros, the whole 64-bit range and nothing beyond.</summary>
public sealed class TryParseInt64Tests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("7", 7L)]
    [InlineData("-7", -7L)]
    [InlineData("999999999999999999", 999999999999999999L)]
    [InlineData("1000000000000000000", 1000000000000000000L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("-999999999999999999", -999999999999999999L)]
    public void Parses(string text, long expected)
    {
        Assert.True(RespRequestReader.TryParseInt64(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("-0")]
    [InlineData("01")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1a")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("18446744073709551615")]
    [InlineData("18446744073709551616")]
    [InlineData("99999999999999999999")]
    [InlineData("123456789012345678901")]
    public void Refuses(string text)
        => Assert.False(RespRequestReader.TryParseInt64(Encoding.ASCII.GetBytes(text), out _));
}
