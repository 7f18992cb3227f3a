using System.Text;

namespace StreamServer.Configuration;

/// <summary>
/// redis-server's argument rules: <c>[config-file] [-] [--directive value …]</c>. The first argument is the
/// config file unless it starts with '-'; a lone '-' (first or last) reads config from stdin; every
/// <c>--name</c> starts a directive line and the arguments after it are its values, passed on quoted
/// (sdscatrepr) so the config parser sees them exactly. <c>--save</c> with no value means <c>save ""</c>.
/// </summary>
public sealed record CommandLineOptions(string? ConfigFile, bool ConfigFromStdin, string Options)
{
    public static CommandLineOptions Parse(IReadOnlyList<string> args)
    {
        string? configFile = null;
        var fromStdin = false;
        var options = new StringBuilder();
        var j = 0;
        if (args.Count > 0 && !args[0].StartsWith('-')) configFile = args[j++];
        var handledLastConfigArg = true;
        for (; j < args.Count; j++)
        {
            var arg = args[j];
            if (arg == "-" && (j == 0 || j == args.Count - 1))
            {
                fromStdin = true;
            }
            else if (handledLastConfigArg && arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (options.Length > 0) options.Append('\n');
                options.Append(arg, 2, arg.Length - 2).Append(' ');
                if (ConfigLoader.SplitArgs(arg) is { Count: 1 })
                {
                    // "--port": its value follows, even if that value starts with "--".
                    handledLastConfigArg = false;
                    var nextIsOption = j + 1 < args.Count && args[j + 1].StartsWith("--", StringComparison.Ordinal);
                    if (arg.Equals("--save", StringComparison.OrdinalIgnoreCase) && (j == args.Count - 1 || nextIsOption))
                    {
                        options.Append("\"\"");
                        handledLastConfigArg = true;
                    }
                }
                else
                {
                    // "--port 6380" as one argument.
                    handledLastConfigArg = true;
                }
            }
            else
            {
                options.Append(ConfigLoader.Repr(arg)).Append(' ');
                handledLastConfigArg = true;
            }
        }
        return new CommandLineOptions(configFile, fromStdin, options.ToString());
    }
}
