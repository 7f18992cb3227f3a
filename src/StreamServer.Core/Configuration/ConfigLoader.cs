using System.Globalization;
using System.Text;
using StreamServer.Commands;

namespace StreamServer.Configuration;

/// <summary>
/// Loads configuration as redis-server does (loadServerConfig): the config file's text, then stdin's, then a
/// newline and the command-line options as one directive per line, all read by one pass that counts lines in
/// the joined text. Directives are applied through the <see cref="ConfigRegistry"/> that CONFIG SET uses.
/// A Redis directive we do not implement is a warning; an unknown directive or a bad value is fatal, with
/// Redis's message (<see cref="Error"/>).
/// </summary>
public sealed class ConfigLoader
{
    private const int MaxIncludeDepth = 16;

    /// <summary>Accepted with Redis's value but with no behaviour here yet (kept out of the registry's Inert flag
    /// because CONFIG SET of them is real: the value is stored, just not acted on).</summary>
    private static readonly HashSet<string> NotEnforced = new(StringComparer.OrdinalIgnoreCase)
    {
        "maxmemory", "maxmemory-policy",
    };

    private readonly ServerOptions _options;
    private readonly ConfigRegistry _registry;
    private int _depth;

    public ConfigLoader(ServerOptions options)
    {
        _options = options;
        _registry = new ConfigRegistry(options);
    }

    /// <summary>The registry the directives were applied through (CONFIG GET reads the same names).</summary>
    public ConfigRegistry Registry => _registry;

    /// <summary>One line per Redis directive we accepted without acting on it.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>The fatal message, formatted as redis-server prints it to stderr; null when loading succeeded.</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// redis-server's loadServerConfig. <paramref name="path"/>: the config file or null; <paramref name="stdin"/>:
    /// read after it when the command line had '-'; <paramref name="options"/>: the command-line directives, one a
    /// line (see <see cref="CommandLineOptions"/>). Returns false with <see cref="Error"/> set on a fatal error.
    /// </summary>
    public bool Load(string? path, TextReader? stdin, string options)
    {
        var text = new StringBuilder();
        if (path is not null)
        {
            if (!TryReadFile(path, out var content)) return false;
            text.Append(content);
            _options.ConfigFile = Path.GetFullPath(path);
        }
        if (stdin is not null) text.Append(stdin.ReadToEnd());
        if (options.Length > 0) text.Append('\n').Append(options);
        return LoadString(text.ToString(), origin: null);
    }

    /// <summary>
    /// Redis's loadServerConfigFromString: one directive per line, '#' comments, arguments split as
    /// sdssplitargs does. <paramref name="origin"/> names an included file in error messages.
    /// </summary>
    public bool LoadString(string config, string? origin)
    {
        var lines = config.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#') continue;
            var args = SplitArgs(line);
            string? error;
            if (args is null) error = "Unbalanced quotes in configuration line";
            else if (args.Count == 0) continue;
            else error = Apply(args[0].ToLowerInvariant(), args.GetRange(1, args.Count - 1), i + 1, line);
            if (error is null) continue;
            if (Error is null) // an included file's error is already complete
            {
                var where = origin is null ? "" : $" of '{origin}'";
                Error = $"\n*** FATAL CONFIG FILE ERROR (Redis {ConnectionCommands.RedisVersion}) ***\n" +
                        $"Reading the configuration file{where}, at line {i + 1}\n>>> '{line}'\n{error}\n";
            }
            return false;
        }
        return true;
    }

    /// <summary>Applies one directive: null, or Redis's reason for refusing it.</summary>
    private string? Apply(string name, List<string> args, int lineNumber, string line)
    {
        if (name == "include")
        {
            return args.Count == 1 ? Include(args[0]) : WrongArgs;
        }

        var parameter = _registry.Find(name);
        if (parameter is null)
        {
            if (!RedisConfigNames.Contains(name)) return WrongArgs;
            Warnings.Add(Ignored(name, lineNumber, line));
            return null;
        }

        var multi = parameter.Kind == ConfigKind.Tokens;
        if (args.Count == 0 || (!multi && args.Count != 1)) return WrongArgs;
        var value = string.Join(' ', args);
        var before = parameter.Get();

        string? error;
        if (parameter.Set is not null) error = parameter.Set(value);
        else error = SetStartupOnly(parameter.Name, args);
        if (error is not null) return error;

        // Accepted, but nothing of ours acts on it: say so, unless it asks for what we do anyway.
        var requested = parameter.Set is null ? value : parameter.Get();
        if ((parameter.Inert || NotEnforced.Contains(parameter.Name)) && !string.Equals(requested, before, StringComparison.OrdinalIgnoreCase))
        {
            Warnings.Add(Ignored(name, lineNumber, line));
        }
        return null;
    }

    private const string WrongArgs = "Bad directive or wrong number of arguments";

    private static string Ignored(string name, int lineNumber, string line)
        => $"Ignoring directive '{name}' at line {lineNumber} ('{line}'): not implemented by StreamServer";

    /// <summary>Parameters the registry reports but that only a config file or the command line may set.</summary>
    private string? SetStartupOnly(string name, List<string> args)
    {
        switch (name)
        {
            case "bind":
                if (args.Count > 16) return "Too many bind addresses specified.";
                _options.Bind = args;
                return null;
            case "logfile":
                _options.LogFile = args[0];
                return null;
            case "appenddirname":
                if (!IsPlainFileName(args[0])) return "appenddirname can't be a path, just a dirname";
                _options.AppendDirName = args[0];
                return null;
            case "appendfilename":
                if (!IsPlainFileName(args[0])) return "appendfilename can't be a path, just a filename";
                _options.AppendFilename = args[0];
                return null;
            default:
                // daemonize, cluster-enabled, io-threads …: reported with the one value we support.
                return null;
        }
    }

    private static bool IsPlainFileName(string name)
        => name.Length > 0 && name.IndexOfAny(['/', '\\']) < 0 && name != "." && name != "..";

    /// <summary>include path: the file (or, as Redis 7, every file a glob pattern matches, in name order).</summary>
    private string? Include(string pattern)
    {
        if (_depth >= MaxIncludeDepth) return "Too many nested include directives";
        var paths = new List<string>();
        var fileName = Path.GetFileName(pattern);
        if (fileName.AsSpan().IndexOfAny("*?[") >= 0)
        {
            var directory = Path.GetDirectoryName(pattern) is { Length: > 0 } d ? d : ".";
            if (Directory.Exists(directory))
            {
                paths.AddRange(Directory.GetFiles(directory).Where(p => Glob.Match(fileName, Path.GetFileName(p), ignoreCase: false)).Order(StringComparer.Ordinal));
            }
        }
        else
        {
            paths.Add(pattern);
        }
        foreach (var path in paths)
        {
            if (!TryReadFile(path, out var content)) return Error;
            _depth++;
            var ok = LoadString(content, path);
            _depth--;
            if (!ok) return Error;
        }
        return null;
    }

    private bool TryReadFile(string path, out string content)
    {
        try
        {
            content = File.ReadAllText(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "No such file or directory" : e.Message;
            Error ??= $"Fatal error, can't open config file '{path}': {reason}\n";
            content = "";
            return false;
        }
    }

    /// <summary>
    /// Redis's sdssplitargs: words separated by spaces; "double quotes" with \n \r \t \b \a \xHH and \c escapes;
    /// 'single quotes' with \' only; a closing quote must end the word. Null for unbalanced quotes.
    /// </summary>
    public static List<string>? SplitArgs(string line)
    {
        var args = new List<string>();
        var i = 0;
        var current = new StringBuilder();
        while (true)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            if (i >= line.Length) return args;
            var inDouble = false;
            var inSingle = false;
            var done = false;
            current.Clear();
            while (!done)
            {
                if (inDouble)
                {
                    if (i >= line.Length) return null;
                    if (line[i] == '\\' && i + 3 < line.Length && line[i + 1] == 'x' && Uri.IsHexDigit(line[i + 2]) && Uri.IsHexDigit(line[i + 3]))
                    {
                        current.Append((char)Convert.ToByte(line.Substring(i + 2, 2), 16));
                        i += 3;
                    }
                    else if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        current.Append(line[i] switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'a' => '\a', var c => c });
                    }
                    else if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && !char.IsWhiteSpace(line[i + 1])) return null;
                        done = true;
                    }
                    else
                    {
                        current.Append(line[i]);
                    }
                }
                else if (inSingle)
                {
                    if (i >= line.Length) return null;
                    if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] == '\'')
                    {
                        i++;
                        current.Append('\'');
                    }
                    else if (line[i] == '\'')
                    {
                        if (i + 1 < line.Length && !char.IsWhiteSpace(line[i + 1])) return null;
                        done = true;
                    }
                    else
                    {
                        current.Append(line[i]);
                    }
                }
                else if (i >= line.Length || char.IsWhiteSpace(line[i]))
                {
                    done = true;
                }
                else if (line[i] == '"') inDouble = true;
                else if (line[i] == '\'') inSingle = true;
                else current.Append(line[i]);
                if (i < line.Length) i++;
            }
            args.Add(current.ToString());
        }
    }

    /// <summary>Redis's sdscatrepr: the argument in double quotes with C escapes, as the command line passes it on.</summary>
    public static string Repr(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                default:
                    if (c < ' ' || c == 127) sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
