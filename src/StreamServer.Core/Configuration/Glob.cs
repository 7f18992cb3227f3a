namespace StreamServer.Configuration;

/// <summary>Redis's stringmatchlen: glob patterns with *, ?, [abc], [^a-z] and \ escapes.</summary>
public static class Glob
{
    public static bool Match(string pattern, string text, bool ignoreCase = false)
    {
        var pb = System.Text.Encoding.UTF8.GetBytes(pattern);
        var tb = System.Text.Encoding.UTF8.GetBytes(text);
        return Match(pb, tb, ignoreCase);
    }

    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
        => MatchImpl(pattern, text, ignoreCase, 0);

    private static bool MatchImpl(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> s, bool nocase, int depth)
    {
        if (depth > 1000) return false;
        while (pattern.Length > 0 && s.Length > 0 || pattern.Length > 0 && pattern[0] == '*')
        {
            switch (pattern[0])
            {
                case (byte)'*':
                    while (pattern.Length > 1 && pattern[1] == '*') pattern = pattern[1..];
                    if (pattern.Length == 1) return true;
                    for (var i = 0; i <= s.Length; i++)
                    {
                        if (MatchImpl(pattern[1..], s[i..], nocase, depth + 1)) return true;
                    }
                    return false;
                case (byte)'?':
                    s = s[1..];
                    break;
                case (byte)'[':
                    {
                        pattern = pattern[1..];
                        var not = pattern.Length > 0 && pattern[0] == '^';
                        if (not) pattern = pattern[1..];
                        var match = false;
                        while (true)
                        {
                            if (pattern.Length == 0) break;
                            if (pattern[0] == '\\' && pattern.Length >= 2)
                            {
                                pattern = pattern[1..];
                                if (pattern[0] == s[0]) match = true;
                            }
                            else if (pattern[0] == ']')
                            {
                                break;
                            }
                            else if (pattern.Length >= 3 && pattern[1] == '-')
                            {
                                int start = pattern[0], end = pattern[2], c = s[0];
                                if (start > end) (start, end) = (end, start);
                                if (nocase) { start = Lower(start); end = Lower(end); c = Lower(c); }
                                pattern = pattern[2..];
                                if (c >= start && c <= end) match = true;
                            }
                            else if (nocase ? Lower(pattern[0]) == Lower(s[0]) : pattern[0] == s[0])
                            {
                                match = true;
                            }
                            pattern = pattern[1..];
                        }
                        if (not) match = !match;
                        if (!match) return false;
                        s = s[1..];
                        break;
                    }
                case (byte)'\\':
                    if (pattern.Length >= 2) pattern = pattern[1..];
                    goto default;
                default:
                    if (nocase ? Lower(pattern[0]) != Lower(s[0]) : pattern[0] != s[0]) return false;
                    s = s[1..];
                    break;
            }
            if (pattern.Length == 0)
            {
                return s.Length == 0;
            }
            pattern = pattern[1..];
            if (s.Length == 0)
            {
                while (pattern.Length > 0 && pattern[0] == '*') pattern = pattern[1..];
                break;
            }
        }
        return pattern.Length == 0 && s.Length == 0;
    }

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
}
