namespace StreamServer.Protocol;

/// <summary>Redis's sdssplitargs: splits an inline command line, honouring "double" (with escapes) and 'single' quotes.</summary>
internal static class InlineSplitter
{
    public static bool Split(ReadOnlySpan<byte> line, RequestBuffer requests)
    {
        // sdssplitargs works on a C string: a NUL byte ends the line.
        var nul = line.IndexOf((byte)0);
        if (nul >= 0) line = line[..nul];
        var i = 0;
        Span<byte> small = stackalloc byte[256];
        while (true)
        {
            while (i < line.Length && IsSpace(line[i])) i++;
            if (i >= line.Length) return true;

            // An argument without quotes or escapes is a plain slice; otherwise it is decoded into a copy.
            var scratch = line.Length - i <= small.Length ? small : new byte[line.Length - i];
            var n = 0;
            var inDouble = false;
            var inSingle = false;
            var done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (i >= line.Length) return false;
                    var c = line[i];
                    if (c == '\\' && i + 3 < line.Length && line[i + 1] == 'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        scratch[n++] = (byte)(Hex(line[i + 2]) * 16 + Hex(line[i + 3]));
                        i += 3;
                    }
                    else if (c == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        scratch[n++] = line[i] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        };
                    }
                    else if (c == '"')
                    {
                        // The closing quote must be followed by a space or the end.
                        if (i + 1 < line.Length && !IsSpace(line[i + 1])) return false;
                        done = true;
                    }
                    else
                    {
                        scratch[n++] = c;
                    }
                }
                else if (inSingle)
                {
                    if (i >= line.Length) return false;
                    var c = line[i];
                    if (c == '\\' && i + 1 < line.Length && line[i + 1] == '\'')
                    {
                        i++;
                        scratch[n++] = (byte)'\'';
                    }
                    else if (c == '\'')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1])) return false;
                        done = true;
                    }
                    else
                    {
                        scratch[n++] = c;
                    }
                }
                else
                {
                    if (i >= line.Length) { done = true; break; }
                    var c = line[i];
                    switch (c)
                    {
                        case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDouble = true;
                            break;
                        case (byte)'\'':
                            inSingle = true;
                            break;
                        default:
                            scratch[n++] = c;
                            break;
                    }
                    if (done) break;
                }
                i++;
            }
            var arg = requests.Rent(n);
            scratch[..n].CopyTo(arg.Span);
            requests.AddArgument(arg);
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int Hex(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
