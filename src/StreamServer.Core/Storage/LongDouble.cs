using System.Globalization;
using System.Numerics;
using System.Text;

namespace StreamServer.Storage;

/// <summary>
/// C's <c>long double</c> as Redis 7.0 on x86-64 has it (x87 80-bit: 64-bit significand, exponent range of 2^±16383,
/// subnormals down to 2^-16445, round to nearest even), in software: what INCRBYFLOAT and HINCRBYFLOAT need —
/// glibc's strtold as Redis's string2ld accepts it, one addition, and printf("%.17Lf") with Redis's trimming
/// (ld2string's LD_STR_HUMAN). Plain doubles differ from Redis in the last digits and overflow at 1.8e308.
/// </summary>
public readonly struct LongDouble
{
    private const int SignificandBits = 64;
    private const int MinExponent = -16445;      // weight of the lowest bit of the smallest subnormal
    private const int OverflowBitLength = 16384; // a magnitude of 2^16384 or more is infinite
    private const int MaxInputLength = 5 * 1024; // Redis's MAX_LONG_DOUBLE_CHARS
    private const int HumanDecimals = 17;

    // The value is (-1)^negative × significand × 2^exponent; infinite ignores the other two.
    private readonly ulong _significand;
    private readonly int _exponent;
    private readonly bool _negative;
    private readonly bool _infinite;

    private LongDouble(bool negative, ulong significand, int exponent, bool infinite)
    {
        _negative = negative;
        _significand = significand;
        _exponent = exponent;
        _infinite = infinite;
    }

    public static LongDouble Zero => default;

    public bool IsFinite => !_infinite;

    public bool IsZero => !_infinite && _significand == 0;

    public static LongDouble FromInt64(long value)
        => Round(value < 0, value < 0 ? -(BigInteger)value : value, 0, sticky: false);

    /// <summary>
    /// Redis's string2ld: the whole text must be a number for strtold (no leading space; decimal or hexadecimal,
    /// "inf"/"infinity"); NaN, overflow to infinity and underflow to zero are refused.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = default;
        if (text.Length == 0 || text.Length >= MaxInputLength) return false;
        // strtold must consume every byte: Redis also checks eptr - buf == slen, so an embedded NUL fails.
        if (text.IndexOf((byte)0) >= 0 || IsCSpace(text[0])) return false;

        var i = 0;
        var negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == '-';
            i = 1;
        }
        var rest = text[i..];
        if (EqualsIgnoreCase(rest, "inf"u8) || EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new LongDouble(negative, 0, 0, infinite: true);
            return true;
        }
        if (rest.Length >= 2 && rest[0] == '0' && (rest[1] | 0x20) == 'x' && TryParseHex(negative, rest[2..], out value)) return true;
        return TryParseDecimal(negative, rest, out value);
    }

    private static bool TryParseDecimal(bool negative, ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        var digits = new StringBuilder(s.Length);
        var i = 0;
        var fractionDigits = 0;
        var sawDigit = false;
        var sawPoint = false;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (c is >= (byte)'0' and <= (byte)'9')
            {
                sawDigit = true;
                if (digits.Length > 0 || c != '0') digits.Append((char)c);
                if (sawPoint) fractionDigits++;
            }
            else if (c == '.' && !sawPoint)
            {
                sawPoint = true;
            }
            else
            {
                break;
            }
        }
        if (!sawDigit) return false;
        long exponent = 0;
        if (i < s.Length)
        {
            if ((s[i] | 0x20) != 'e' || !TryParseExponent(s[(i + 1)..], out exponent)) return false;
        }
        if (digits.Length == 0)
        {
            value = new LongDouble(negative, 0, 0, infinite: false);
            return true;
        }
        var scale = exponent - fractionDigits;               // value = digits × 10^scale
        var magnitude10 = scale + digits.Length;            // value < 10^magnitude10
        if (magnitude10 > 4934) return false;                // beyond 1.19e4932: overflow
        if (magnitude10 < -4952) return false;               // below the smallest subnormal (3.6e-4951): underflow to zero

        var mantissa = BigInteger.Parse(digits.ToString(), NumberStyles.None, CultureInfo.InvariantCulture);
        LongDouble result;
        if (scale >= 0)
        {
            result = Round(negative, mantissa * BigInteger.Pow(10, (int)scale), 0, sticky: false);
        }
        else
        {
            var denominator = BigInteger.Pow(10, (int)-scale);
            // Enough quotient bits that rounding sees the guard bit and everything below it.
            var shift = (int)Math.Max(0, SignificandBits + 4 + denominator.GetBitLength() - mantissa.GetBitLength());
            var quotient = BigInteger.DivRem(mantissa << shift, denominator, out var remainder);
            result = Round(negative, quotient, -shift, sticky: !remainder.IsZero);
        }
        if (!result.IsFinite || result.IsZero) return false;  // strtold's ERANGE cases that Redis refuses
        value = result;
        return true;
    }

    // hexadecimal: digits [. digits] [p [sign] digits]; s starts after "0x"
    private static bool TryParseHex(bool negative, ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        var mantissa = BigInteger.Zero;
        var i = 0;
        var sawDigit = false;
        var sawPoint = false;
        long binaryScale = 0;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            var digit = HexValue(c);
            if (digit >= 0)
            {
                sawDigit = true;
                mantissa = (mantissa << 4) + digit;
                if (sawPoint) binaryScale -= 4;
            }
            else if (c == '.' && !sawPoint)
            {
                sawPoint = true;
            }
            else
            {
                break;
            }
        }
        if (!sawDigit) return false;
        if (i < s.Length)
        {
            if ((s[i] | 0x20) != 'p' || !TryParseExponent(s[(i + 1)..], out var exponent)) return false;
            binaryScale += exponent;
        }
        if (mantissa.IsZero)
        {
            value = new LongDouble(negative, 0, 0, infinite: false);
            return true;
        }
        var top = binaryScale + (long)mantissa.GetBitLength();
        if (top > OverflowBitLength + 1 || top < MinExponent - 2) return false;
        var result = Round(negative, mantissa, (int)binaryScale, sticky: false);
        if (!result.IsFinite || result.IsZero) return false;
        value = result;
        return true;
    }

    // [sign] digits, clamped far beyond any exponent that can matter
    private static bool TryParseExponent(ReadOnlySpan<byte> s, out long exponent)
    {
        exponent = 0;
        var negative = false;
        if (s.Length > 0 && s[0] is (byte)'+' or (byte)'-')
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s.Length == 0) return false;
        foreach (var c in s)
        {
            if (c is < (byte)'0' or > (byte)'9') return false;
            if (exponent < 1_000_000) exponent = exponent * 10 + (c - '0');
        }
        if (negative) exponent = -exponent;
        return true;
    }

    /// <summary>a + b rounded to the nearest long double (ties to even), infinite when it overflows; inf − inf is reported as not finite too.</summary>
    public static LongDouble operator +(LongDouble a, LongDouble b)
    {
        if (a._infinite || b._infinite) return new LongDouble(a._infinite ? a._negative : b._negative, 0, 0, infinite: true);
        if (a._significand == 0 && b._significand == 0) return new LongDouble(a._negative && b._negative, 0, 0, infinite: false);
        if (a._significand == 0) return b;
        if (b._significand == 0) return a;
        var exponent = Math.Min(a._exponent, b._exponent);
        var sum = a.Signed() << (a._exponent - exponent);
        sum += b.Signed() << (b._exponent - exponent);
        if (sum.IsZero) return Zero;
        return Round(sum.Sign < 0, BigInteger.Abs(sum), exponent, sticky: false);
    }

    private BigInteger Signed() => _negative ? -(BigInteger)_significand : _significand;

    /// <summary>
    /// Rounds magnitude × 2^exponent (plus less than one unit of its last place when <paramref name="sticky"/>) to
    /// 64 significant bits, or to the subnormal grid, ties to even.
    /// </summary>
    private static LongDouble Round(bool negative, BigInteger magnitude, int exponent, bool sticky)
    {
        var bits = (int)magnitude.GetBitLength();
        var shift = Math.Max(bits - SignificandBits, MinExponent - exponent);
        if (shift > 0)
        {
            var kept = magnitude >> shift;
            var dropped = magnitude - (kept << shift);
            var half = BigInteger.One << (shift - 1);
            var order = dropped.CompareTo(half);
            if (order > 0 || (order == 0 && (sticky || !kept.IsEven))) kept += 1;
            magnitude = kept;
            exponent += shift;
            if (magnitude.GetBitLength() > SignificandBits)
            {
                magnitude >>= 1;
                exponent++;
            }
        }
        if (magnitude.IsZero) return new LongDouble(negative, 0, 0, infinite: false);
        if (magnitude.GetBitLength() + exponent > OverflowBitLength) return new LongDouble(negative, 0, 0, infinite: true);
        return new LongDouble(negative, (ulong)magnitude, exponent, infinite: false);
    }

    /// <summary>
    /// Redis's ld2string(LD_STR_HUMAN): printf("%.17Lf") (exact, ties to even), trailing zeros and a bare '.' removed,
    /// "-0" written as "0".
    /// </summary>
    public string ToHumanString()
    {
        if (_infinite) return _negative ? "-inf" : "inf";
        BigInteger integerPart, fraction;
        var unit = BigInteger.Pow(10, HumanDecimals);
        if (_exponent >= 0)
        {
            integerPart = (BigInteger)_significand << _exponent;
            fraction = BigInteger.Zero;
        }
        else
        {
            var shift = -_exponent;
            var scaled = _significand * unit;
            var q = scaled >> shift;
            var dropped = scaled - (q << shift);
            var order = dropped.CompareTo(BigInteger.One << (shift - 1));
            if (order > 0 || (order == 0 && !q.IsEven)) q += 1;
            integerPart = BigInteger.DivRem(q, unit, out fraction);
        }
        var sb = new StringBuilder();
        if (_negative) sb.Append('-');
        sb.Append(integerPart.ToString(CultureInfo.InvariantCulture));
        if (!fraction.IsZero)
        {
            var digits = fraction.ToString(CultureInfo.InvariantCulture).PadLeft(HumanDecimals, '0').TrimEnd('0');
            sb.Append('.').Append(digits);
        }
        var text = sb.ToString();
        return text == "-0" ? "0" : text;
    }

    public override string ToString() => ToHumanString();

    private static bool IsCSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static bool EqualsIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> lower)
    {
        if (value.Length != lower.Length) return false;
        for (var i = 0; i < value.Length; i++)
        {
            if ((value[i] | 0x20) != lower[i]) return false;
        }
        return true;
    }
}
