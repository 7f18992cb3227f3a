using System.Text;
using StreamServer.Configuration;

namespace StreamServer.Host;

/// <summary>
/// redis-server style arguments: <c>streamserver [config-file] [--directive value …]</c>, plus --version/--help.
/// Directives use Redis's names; each is applied through the same registry CONFIG SET uses.
/// </summary>
internal static class CommandLine
{
    public sealed record Result(int? ExitCode, string Output, string Error, List<string> Warnings);

    public static Result Parse(string[] args, ServerOptions options)
    {
        var warnings = new List<string>();
        if (args.Length == 1 && args[0] is "-v" or "--version")
        {
            return new Result(0, $"StreamServer v={typeof(CommandLine).Assembly.GetName().Version} redis_version={Commands.ConnectionCommands.RedisVersion} bits=64\n", "", warnings);
        }
        if (args.Length == 1 && args[0] is "-h" or "--help")
        {
            return new Result(0, "Usage: streamserver [/path/to/streamserver.conf] [options]\n       streamserver - (read config from stdin)\n       streamserver -v or --version\n       streamserver -h or --help\n\nExamples:\n       streamserver (run the server with default config)\n       streamserver /etc/redis/6379.conf\n       streamserver --port 7777\n       streamserver /etc/myredis.conf --loglevel verbose\n", "", warnings);
        }
        var registry = new ConfigRegistry(options);
        var directives = new List<(string Name, List<string> Values, string Origin)>();
        var i = 0;
        if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            options.ConfigFile = Path.GetFullPath(args[0]);
            var lineNo = 0;
            foreach (var line in File.ReadAllLines(args[0]))
            {
                lineNo++;
                var words = SplitLine(line);
                if (words.Count == 0) continue;
                directives.Add((words[0], words.Skip(1).ToList(), $"line {lineNo}: '{line}'"));
            }
            i = 1;
        }
        while (i < args.Length)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return new Result(1, "", $"\n*** FATAL CONFIG FILE ERROR ***\n>>> '{args[i]}'\nInvalid argument\n", warnings);
            }
            var name = args[i][2..];
            var values = new List<string>();
            i++;
            while (i < args.Length && !args[i].StartsWith("--", StringComparison.Ordinal)) values.Add(args[i++]);
            directives.Add((name, values, $"'{name} {string.Join(' ', values)}'"));
        }
        foreach (var (name, values, origin) in directives)
        {
            var error = Apply(registry, options, name, values);
            if (error is null) continue;
            if (error.StartsWith("ignored:", StringComparison.Ordinal))
            {
                warnings.Add($"Ignoring directive '{name}' ({origin}): not implemented by StreamServer");
                continue;
            }
            var sb = new StringBuilder();
            sb.Append("\n*** FATAL CONFIG FILE ERROR (StreamServer) ***\n");
            sb.Append(">>> ").Append(origin).Append('\n');
            sb.Append(error).Append('\n');
            return new Result(1, "", sb.ToString(), warnings);
        }
        return new Result(null, "", "", warnings);
    }

    private static string? Apply(ConfigRegistry registry, ServerOptions options, string name, List<string> values)
    {
        if (name.Equals("bind", StringComparison.OrdinalIgnoreCase))
        {
            options.Bind = values;
            return null;
        }
        var parameter = registry.Find(name);
        if (parameter is null) return "Bad directive or wrong number of arguments";
        if (parameter.Set is null)
        {
            if (name.Equals("port", StringComparison.OrdinalIgnoreCase) && values.Count == 1 && int.TryParse(values[0], out var port))
            {
                options.Port = port;
                return null;
            }
            if (name.Equals("appenddirname", StringComparison.OrdinalIgnoreCase) && values.Count == 1) { options.AppendDirName = values[0]; return null; }
            if (name.Equals("appendfilename", StringComparison.OrdinalIgnoreCase) && values.Count == 1) { options.AppendFilename = values[0]; return null; }
            if (name.Equals("logfile", StringComparison.OrdinalIgnoreCase) && values.Count == 1) { options.LogFile = values[0]; return null; }
            if (name.Equals("databases", StringComparison.OrdinalIgnoreCase) && values.Count == 1 && int.TryParse(values[0], out var dbs) && dbs > 0)
            {
                options.Databases = dbs;
                return null;
            }
            return "Bad directive or wrong number of arguments";
        }
        return parameter.Set(string.Join(' ', values));
    }

    /// <summary>Splits a config line as Redis's sdssplitargs; comments and blank lines give no words.</summary>
    private static List<string> SplitLine(string line)
    {
        var trimmed = line.Trim();
        if (trimmed.Length == 0 || trimmed[0] == '#') return [];
        var words = new List<string>();
        var sb = new StringBuilder();
        var inQuote = '\0';
        foreach (var c in trimmed)
        {
            if (inQuote != '\0')
            {
                if (c == inQuote) inQuote = '\0';
                else sb.Append(c);
            }
            else if (c is '"' or '\'') inQuote = c;
            else if (char.IsWhiteSpace(c))
            {
                if (sb.Length > 0) { words.Add(sb.ToString()); sb.Clear(); }
            }
            else sb.Append(c);
        }
        if (sb.Length > 0) words.Add(sb.ToString());
        return words;
    }
}
