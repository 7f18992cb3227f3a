using StreamServer.Configuration;

namespace StreamServer.IntegrationTests.Hosting;

/// <summary>redis-server's config file and command-line rules, with Redis 7's exact messages.</summary>
public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ss-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (ServerOptions Options, ConfigLoader Loader, bool Ok) Load(string[] args, string? stdin = null)
    {
        var options = new ServerOptions();
        var commandLine = CommandLineOptions.Parse(args);
        var loader = new ConfigLoader(options);
        var ok = loader.Load(commandLine.ConfigFile, commandLine.ConfigFromStdin ? new StringReader(stdin ?? "") : null, commandLine.Options);
        return (options, loader, ok);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CommandLine_DirectivesAndValues_AreApplied()
    {
        var (options, loader, ok) = Load(["--port", "7001", "--bind", "0.0.0.0", "::1", "--appendonly", "yes", "--requirepass", "a b", "--dir", _dir]);

        Assert.True(ok, loader.Error);
        Assert.Equal(7001, options.Port);
        Assert.Equal(["0.0.0.0", "::1"], options.Bind);
        Assert.True(options.AppendOnly);
        Assert.Equal("a b", options.RequirePass);
        Assert.Empty(loader.Warnings);
    }

    [Fact]
    public void CommandLine_BadValue_IsFatalWithRedisMessageAndQuotedArgument()
    {
        var (_, loader, ok) = Load(["--port", "abc"]);

        Assert.False(ok);
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 8.10.0) ***\nReading the configuration file, at line 2\n>>> 'port \"abc\"'\nargument couldn't be parsed into an integer\n", loader.Error);
    }

    [Fact]
    public void UnknownDirective_IsFatal_AtItsLineCountedAfterTheFile()
    {
        var file = Write("a.conf", "port 7000\n\nappendfsync always\n");

        var (_, loader, ok) = Load([file, "--maxclients", "10", "--foo", "bar"]);

        // As Redis: file lines, then a blank line, then one line per command-line directive.
        Assert.False(ok);
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 8.10.0) ***\nReading the configuration file, at line 6\n>>> 'foo \"bar\"'\nBad directive or wrong number of arguments\n", loader.Error);
    }

    [Fact]
    public void BadEnumValue_InFile_NamesLineAndAllowedValues()
    {
        var file = Write("a.conf", "port 7000\n# comment\nappendfsync sometimes\n");

        var (_, loader, ok) = Load([file]);

        Assert.False(ok);
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 8.10.0) ***\nReading the configuration file, at line 3\n>>> 'appendfsync sometimes'\nargument(s) must be one of the following: everysec, always, no\n", loader.Error);
    }

    [Fact]
    public void KnownRedisDirectiveWeDoNotImplement_IsOneWarningNamingItsLine()
    {
        var file = Write("a.conf", "tcp-backlog 511\nport 7002\ndaemonize yes\ndaemonize no\n");

        var (options, loader, ok) = Load([file]);

        Assert.True(ok, loader.Error);
        Assert.Equal(7002, options.Port);
        Assert.Equal(
            [
                "Ignoring directive 'tcp-backlog' at line 1 ('tcp-backlog 511'): not implemented by StreamServer",
                "Ignoring directive 'daemonize' at line 3 ('daemonize yes'): not implemented by StreamServer",
            ],
            loader.Warnings);
    }

    [Fact]
    public void SingleValueDirective_WithTwoValues_IsWrongNumberOfArguments()
    {
        var (_, loader, ok) = Load(["--port", "1", "2"]);

        Assert.False(ok);
        Assert.EndsWith(">>> 'port \"1\" \"2\"'\nBad directive or wrong number of arguments\n", loader.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Include_LoadsTheFileInPlace_AndLaterLinesOverride()
    {
        var included = Write("inc.conf", "port 7003\nmaxclients 50\n");
        var file = Write("main.conf", $"include {included}\nmaxclients 60\n");

        var (options, loader, ok) = Load([file]);

        Assert.True(ok, loader.Error);
        Assert.Equal(7003, options.Port);
        Assert.Equal(60, options.MaxClients);
        Assert.Equal(Path.GetFullPath(file), options.ConfigFile);
    }

    [Fact]
    public void Stdin_IsReadAfterTheFile_AndBeforeTheOptions()
    {
        var (options, loader, ok) = Load(["-", "--databases", "4"], stdin: "port 7004\ndatabases 2\n");

        Assert.True(ok, loader.Error);
        Assert.Equal(7004, options.Port);
        Assert.Equal(4, options.Databases);
    }

    [Fact]
    public void SaveWithoutValue_MeansEmptySaveAsInRedis()
    {
        var commandLine = CommandLineOptions.Parse(["--save", "--port", "7005"]);

        Assert.Equal("save \"\"\nport \"7005\" ", commandLine.Options);
    }

    [Fact]
    public void ClientOutputBufferLimit_IsValidatedAndMergedPerClass()
    {
        var file = Write("a.conf", "client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 256mb 64mb 60\nclient-output-buffer-limit pubsub 64mb 16mb 90\n");

        var (options, loader, ok) = Load([file]);

        Assert.True(ok, loader.Error);
        Assert.Equal("normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90", loader.Registry.Find("client-output-buffer-limit")!.Get());
        Assert.Single(loader.Warnings); // only pubsub differs from what we do (nothing: limits are not enforced)

        var (_, bad, badOk) = Load(["--client-output-buffer-limit", "master", "1", "1", "1"]);
        Assert.False(badOk);
        Assert.EndsWith("Invalid client class specified in buffer limit configuration.\n", bad.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a b c", new[] { "a", "b", "c" })]
    [InlineData("requirepass \"p w\\x41\\n\"", new[] { "requirepass", "p wA\n" })]
    [InlineData("logfile \"\"", new[] { "logfile", "" })]
    [InlineData("x 'it\\'s'", new[] { "x", "it's" })]
    public void SplitArgs_FollowsSdssplitargs(string line, string[] expected)
        => Assert.Equal(expected, ConfigLoader.SplitArgs(line));

    [Theory]
    [InlineData("x \"abc")]
    [InlineData("x \"a\"b")]
    [InlineData("x 'a")]
    public void SplitArgs_UnbalancedQuotes_IsNull(string line) => Assert.Null(ConfigLoader.SplitArgs(line));

    [Fact]
    public void DebianStockRedisConf_StartsWithOnlyItsPathsOverridden()
    {
        const string stock = "/etc/redis/redis.conf";
        if (!File.Exists(stock)) return; // the redis-server package is not installed here

        var (options, loader, ok) = Load([stock, "--dir", _dir, "--logfile", ""]);

        Assert.True(ok, loader.Error);
        Assert.Equal(["127.0.0.1", "-::1"], options.Bind);
        Assert.True(options.ProtectedMode);
        Assert.Equal("", options.LogFile);
        Assert.Contains(loader.Warnings, w => w.StartsWith("Ignoring directive 'daemonize' at line ", StringComparison.Ordinal));
        Assert.DoesNotContain(loader.Warnings, w => w.Contains("'port'", StringComparison.Ordinal) || w.Contains("'bind'", StringComparison.Ordinal));
    }
}
