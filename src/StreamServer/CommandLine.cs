using StreamServer.Commands;
using StreamServer.Configuration;

namespace StreamServer.Host;

/// <summary>
/// redis-server style start-up: <c>streamserver [config-file] [-] [--directive value …]</c>, --version, --help,
/// and --healthcheck (PING the configured port; for container health checks). Returns an exit code when the
/// process should end without serving.
/// </summary>
internal static class CommandLine
{
    public const string Usage =
        "Usage: ./streamserver [/path/to/streamserver.conf] [options] [-]\n" +
        "       ./streamserver - (read config from stdin)\n" +
        "       ./streamserver -v or --version\n" +
        "       ./streamserver -h or --help\n" +
        "       ./streamserver --healthcheck [config and options as above] (exit 0 if the server answers PING)\n\n" +
        "Examples:\n" +
        "       ./streamserver (run the server with default config)\n" +
        "       echo 'maxclients 10' | ./streamserver -\n" +
        "       ./streamserver /etc/redis/6379.conf\n" +
        "       ./streamserver --port 7777\n" +
        "       ./streamserver --port 7777 --replicaof 127.0.0.1 8888\n" +
        "       ./streamserver /etc/myredis.conf --loglevel verbose -\n" +
        "       ./streamserver /etc/myredis.conf --loglevel verbose\n\n" +
        "Directives are Redis's (see docs/operations.md for those StreamServer implements).\n";

    public static string VersionLine()
        => $"StreamServer v={typeof(CommandLine).Assembly.GetName().Version} redis_version={ConnectionCommands.RedisVersion} bits=64\n";

    /// <summary>Fills <paramref name="options"/>; null to go on and serve, else the exit code (messages already written).</summary>
    public static int? Parse(string[] args, ServerOptions options, out List<string> warnings, out bool healthCheck)
    {
        warnings = [];
        healthCheck = false;
        if (args.Length >= 1 && args[0] is "-v" or "--version")
        {
            Console.Out.Write(VersionLine());
            return 0;
        }
        if (args.Length >= 1 && args[0] is "-h" or "--help")
        {
            Console.Out.Write(Usage);
            return 0;
        }
        if (args.Length >= 1 && args[0] == "--healthcheck")
        {
            healthCheck = true;
            args = args[1..];
        }

        var commandLine = CommandLineOptions.Parse(args);
        var loader = new ConfigLoader(options);
        if (commandLine.ConfigFromStdin) Console.Error.WriteLine("Reading config from stdin");
        if (!loader.Load(commandLine.ConfigFile, commandLine.ConfigFromStdin ? Console.In : null, commandLine.Options))
        {
            Console.Error.Write(loader.Error);
            return 1;
        }
        warnings = loader.Warnings;
        return null;
    }
}
