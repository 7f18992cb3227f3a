using System.Text;
using StreamServer.Storage;

namespace StreamServer.Tests;

/// <summary>
/// The long double emulation behind INCRBYFLOAT: expected texts are what redis-server 7.0.15 on x86-64 answers
/// (INCRBYFLOAT of the second operand on a key holding the first).
/// </summary>
public sealed class StringLongDoubleTests
{
    private static LongDouble Parse(string text)
    {
        Assert.True(LongDouble.TryParse(Encoding.ASCII.GetBytes(text), out var value), text);
        return value;
    }

    [Theory]
    [InlineData("10.6", "-5", "5.6")]
    [InlineData("5.6", "5.0e3", "5005.60000000000000009")]
    [InlineData("1", "1.23456789012345678", "2.23456789012345678")]
    [InlineData("2.23456789012345678", "1e-20", "2.23456789012345678")]
    [InlineData("0", "0.1", "0.1")]
    [InlineData("0.1", "0.2", "0.3")]
    [InlineData("1.5", "0x10", "17.5")]
    [InlineData("1.5", "0x.8P1", "2.5")]
    [InlineData("0", "-0.0", "0")]
    [InlineData("0", "-0.0000000000000000001", "0")]
    [InlineData("0", "0.000000000000000005", "0")] // 5e-18 is a hair below the tie
    [InlineData("0", "0.000000000000000015", "0.00000000000000002")]
    [InlineData("0", "1e308", "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048")]
    public void Add_RoundsAndFormatsAsRedis70(string current, string increment, string expected)
        => Assert.Equal(expected, (Parse(current) + Parse(increment)).ToHumanString());

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("abc")]
    [InlineData(".")]
    [InlineData("1e")]
    [InlineData("0x")]
    [InlineData("1e5000")]   // overflows to infinity
    [InlineData("1e-5000")]  // underflows to zero
    public void TryParse_RefusesWhatRedisString2ldRefuses(string text)
        => Assert.False(LongDouble.TryParse(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("inf")]
    [InlineData("-Infinity")]
    public void Infinity_ParsesButNeverMakesAFiniteSum(string text)
        => Assert.False((Parse("1") + Parse(text)).IsFinite);

    [Fact]
    public void Add_BeyondTheLargestLongDouble_IsInfinite()
        => Assert.False((Parse("1e4932") + Parse("1e4932")).IsFinite);

    [Fact]
    public void FromInt64_IsExact()
        => Assert.Equal("-9223372036854775808", LongDouble.FromInt64(long.MinValue).ToHumanString());
}
