using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace StreamServer.IntegrationTests.Conformance;

/// <summary>One command of a transcript and the reply Redis gave: exact bytes, or a regex for loose lines.</summary>
internal sealed record TranscriptStep(int Line, string CommandText, IReadOnlyList<byte[]> Command, byte[]? Expected, string? PatternText)
{
    private Regex? Pattern { get; } = PatternText is null
        ? null
        : new Regex(@"\A(?:" + PatternText + @")\z", RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));

    public bool Matches(byte[] actual) =>
        Pattern is null ? actual.AsSpan().SequenceEqual(Expected) : Pattern.IsMatch(Encoding.Latin1.GetString(actual));

    public string ExpectedText => Pattern is null ? Transcript.Escape(Expected!) : "~ " + PatternText;
}

/// <summary>
/// A conformance transcript (format: tests/conformance/record.py): "> COMMAND" lines, each followed by
/// "&lt; ESCAPED-REPLY" (exact bytes) or "&lt;~ REGEX" (matched against the whole raw reply, read as Latin-1,
/// '.' matching newlines). '#' lines and blank lines are comments.
/// </summary>
internal static class Transcript
{
    public static IReadOnlyList<TranscriptStep> Load(string path)
    {
        var name = Path.GetFileName(path);
        var lines = File.ReadAllText(path, Encoding.UTF8).Split('\n');
        var steps = new List<TranscriptStep>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            if (!line.StartsWith("> ", StringComparison.Ordinal))
                throw new FormatException($"{name}:{i + 1}: expected '> command', found: {line}");

            var commandText = line[2..];
            var command = ParseCommand(commandText, $"{name}:{i + 1}");
            var reply = i + 1 < lines.Length ? lines[i + 1].TrimEnd('\r') : "";
            if (reply.StartsWith("<~ ", StringComparison.Ordinal))
            {
                steps.Add(new TranscriptStep(i + 1, commandText, command, null, reply[3..]));
            }
            else if (reply.StartsWith("< ", StringComparison.Ordinal))
            {
                steps.Add(new TranscriptStep(i + 1, commandText, command, Unescape(reply[2..], $"{name}:{i + 2}"), null));
            }
            else
            {
                throw new FormatException($"{name}:{i + 2}: expected '< reply' or '<~ regex' after the command on line {i + 1}");
            }
            i++;
        }
        return steps;
    }

    /// <summary>Arguments separated by spaces; bare (literal) or double-quoted with \\ \" \r \n \t \xHH.</summary>
    public static IReadOnlyList<byte[]> ParseCommand(string text, string where)
    {
        var args = new List<byte[]>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == ' ') { i++; continue; }
            var arg = new List<byte>();
            if (text[i] != '"')
            {
                var end = text.IndexOf(' ', i);
                if (end < 0) end = text.Length;
                args.Add(Encoding.Latin1.GetBytes(text[i..end]));
                i = end;
                continue;
            }
            i++;
            while (true)
            {
                if (i >= text.Length) throw new FormatException($"{where}: unterminated quote in: {text}");
                var c = text[i];
                if (c == '"') { i++; break; }
                if (c != '\\') { arg.Add(checked((byte)c)); i++; continue; }
                var e = i + 1 < text.Length ? text[i + 1] : '\0';
                if (e == 'x')
                {
                    arg.Add(byte.Parse(text.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 4;
                    continue;
                }
                arg.Add(e switch
                {
                    '\\' => (byte)'\\',
                    '"' => (byte)'"',
                    'r' => (byte)'\r',
                    'n' => (byte)'\n',
                    't' => (byte)'\t',
                    _ => throw new FormatException($"{where}: bad escape \\{e} in: {text}"),
                });
                i += 2;
            }
            if (i < text.Length && text[i] != ' ') throw new FormatException($"{where}: text right after a closing quote in: {text}");
            args.Add([.. arg]);
        }
        if (args.Count == 0) throw new FormatException($"{where}: empty command");
        return args;
    }

    /// <summary>Reply escaping: \\ \r \n, printable ASCII as is, any other byte as \xHH.</summary>
    public static string Escape(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(data.Length + 16);
        foreach (var b in data)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append(@"\\"); break;
                case (byte)'\r': sb.Append(@"\r"); break;
                case (byte)'\n': sb.Append(@"\n"); break;
                case >= 0x20 and <= 0x7e: sb.Append((char)b); break;
                default: sb.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}"); break;
            }
        }
        return sb.ToString();
    }

    public static byte[] Unescape(string text, string where)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\') { bytes.Add(checked((byte)c)); continue; }
            var e = i + 1 < text.Length ? text[i + 1] : '\0';
            switch (e)
            {
                case '\\': bytes.Add((byte)'\\'); i++; break;
                case 'r': bytes.Add((byte)'\r'); i++; break;
                case 'n': bytes.Add((byte)'\n'); i++; break;
                case 'x':
                    bytes.Add(byte.Parse(text.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 3;
                    break;
                default: throw new FormatException($"{where}: bad escape \\{e} in reply");
            }
        }
        return [.. bytes];
    }
}
