using System.Globalization;
using System.Text;

namespace StreamServer.Persistence;

/// <summary>A file of a multi-part AOF: base (b), history (h, awaiting deletion) or incremental (i).</summary>
public sealed record AofFileInfo(string Name, long Seq, char Type);

/// <summary>
/// Redis 7's AOF manifest (<c>appendonly.aof.manifest</c>): one line per file,
/// <c>file appendonly.aof.1.base.aof seq 1 type b</c>, base first, then history, then incremental files in order.
/// Written to a temp file and renamed, so a reader sees the old manifest or the new one.
/// </summary>
public sealed class AofManifest
{
    public AofFileInfo? Base { get; set; }

    public List<AofFileInfo> History { get; } = [];

    public List<AofFileInfo> Incremental { get; } = [];

    public long CurrentBaseSeq => Base?.Seq ?? 0;

    public long CurrentIncrSeq => Incremental.Count == 0 ? 0 : Incremental[^1].Seq;

    /// <summary>The files to load, in order.</summary>
    public IEnumerable<AofFileInfo> LoadOrder => Base is null ? Incremental : Incremental.Prepend(Base);

    public AofManifest Clone()
    {
        var copy = new AofManifest { Base = Base };
        copy.History.AddRange(History);
        copy.Incremental.AddRange(Incremental);
        return copy;
    }

    public string Format()
    {
        var sb = new StringBuilder();
        if (Base is not null) Line(sb, Base);
        foreach (var h in History) Line(sb, h);
        foreach (var i in Incremental) Line(sb, i);
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, AofFileInfo f)
        => sb.Append("file ").Append(Quote(f.Name)).Append(" seq ").Append(f.Seq.ToString(CultureInfo.InvariantCulture))
            .Append(" type ").Append(f.Type).Append('\n');

    /// <summary>Redis writes a name with spaces or unprintable bytes the way sdscatrepr does.</summary>
    private static string Quote(string name)
    {
        if (name.All(c => c > ' ' && c < 127 && c != '"' && c != '\\')) return name;
        var sb = new StringBuilder("\"");
        foreach (var c in name)
        {
            if (c is '"' or '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < ' ' || c >= 127) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>sdssplitargs for a manifest line: words split by spaces; double quotes allow \\ \" \n \r \t \xHH.</summary>
    private static List<string>? SplitWords(string line)
    {
        var words = new List<string>();
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == ' ') i++;
            if (i == line.Length) break;
            var sb = new StringBuilder();
            if (line[i] == '"')
            {
                i++;
                var closed = false;
                while (i < line.Length)
                {
                    var c = line[i++];
                    if (c == '"') { closed = true; break; }
                    if (c == '\\' && i < line.Length)
                    {
                        var e = line[i++];
                        if (e == 'x' && i + 1 < line.Length && int.TryParse(line.AsSpan(i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
                        {
                            sb.Append((char)hex);
                            i += 2;
                        }
                        else sb.Append(e switch { 'n' => '\n', 'r' => '\r', 't' => '\t', _ => e });
                    }
                    else sb.Append(c);
                }
                if (!closed || (i < line.Length && line[i] != ' ')) return null;
            }
            else
            {
                while (i < line.Length && line[i] != ' ') sb.Append(line[i++]);
            }
            words.Add(sb.ToString());
        }
        return words;
    }

    /// <summary>Parses a manifest as Redis's aofLoadManifestFromFile; throws <see cref="AofFormatException"/> when invalid.</summary>
    public static AofManifest Parse(string text, string path)
    {
        var manifest = new AofManifest();
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var words = SplitWords(line);
            if (words is null || words.Count % 2 != 0)
                throw new AofFormatException($"Invalid AOF manifest file format ({path}, line {lineNo})");
            string? name = null;
            long seq = 0;
            var type = '\0';
            for (var i = 0; i < words.Count; i += 2)
            {
                switch (words[i])
                {
                    case "file": name = words[i + 1]; break;
                    case "seq": long.TryParse(words[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out seq); break;
                    case "type": type = words[i + 1].Length == 1 ? words[i + 1][0] : '\0'; break;
                    default: break; // unknown keys are ignored, as Redis does (forward compatibility)
                }
            }
            if (name is null || seq == 0 || type is not ('b' or 'h' or 'i'))
                throw new AofFormatException($"Invalid AOF manifest file format ({path}, line {lineNo})");
            var info = new AofFileInfo(name, seq, type);
            switch (type)
            {
                case 'b':
                    if (manifest.Base is not null) throw new AofFormatException($"Found duplicate base file information ({path}, line {lineNo})");
                    manifest.Base = info;
                    break;
                case 'h':
                    manifest.History.Add(info);
                    break;
                default:
                    if (manifest.Incremental.Count > 0 && seq <= manifest.Incremental[^1].Seq)
                        throw new AofFormatException($"Found a non-monotonic sequence number ({path}, line {lineNo})");
                    manifest.Incremental.Add(info);
                    break;
            }
        }
        if (manifest.Base is null && manifest.Incremental.Count == 0)
            throw new AofFormatException($"Found an empty AOF manifest ({path})");
        return manifest;
    }
}

/// <summary>An AOF or manifest that cannot be loaded; the message names the file and byte offset.</summary>
public sealed class AofFormatException(string message) : Exception(message);
