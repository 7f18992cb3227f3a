namespace StreamServer.Execution;

/// <summary>
/// Command names compared as Redis compares them (dictSdsKeyCaseCompare: ASCII letters without case, every other
/// byte exactly), and looked up straight from the request's bytes: no conversion to chars per command.
/// </summary>
public sealed class CommandNameComparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<byte>, string>
{
    public static readonly CommandNameComparer Instance = new();

    public bool Equals(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null || x.Length != y.Length) return false;
        for (var i = 0; i < x.Length; i++)
        {
            if (Fold(x[i]) != Fold(y[i])) return false;
        }
        return true;
    }

    public int GetHashCode(string obj)
    {
        var hash = 2166136261;
        foreach (var c in obj) hash = (hash ^ Fold(c)) * 16777619;
        return (int)hash;
    }

    /// <summary>A byte stands for the char of the same value, so a name with any byte above 0x7F matches no command.</summary>
    public bool Equals(ReadOnlySpan<byte> alternate, string other)
    {
        if (alternate.Length != other.Length) return false;
        for (var i = 0; i < alternate.Length; i++)
        {
            if (Fold(alternate[i]) != Fold(other[i])) return false;
        }
        return true;
    }

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var hash = 2166136261;
        foreach (var b in alternate) hash = (hash ^ Fold(b)) * 16777619;
        return (int)hash;
    }

    public string Create(ReadOnlySpan<byte> alternate) => System.Text.Encoding.Latin1.GetString(alternate);

    private static uint Fold(uint c) => c - 'A' <= 'Z' - 'A' ? c | 0x20 : c;
}
