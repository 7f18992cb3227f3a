using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Events;
using StreamServer.Configuration;
using StreamServer.Host;

if (args.Length > 0 && args[0] == "--check-aof")
{
    // streamserver --check-aof [--fix] <manifest|file>  (redis-check-aof)
    var fix = args.Length == 3 && args[1] == "--fix";
    if (args.Length != (fix ? 3 : 2))
    {
        Console.Error.WriteLine("Usage: streamserver --check-aof [--fix] <file.manifest|file.aof>");
        return 1;
    }
    return StreamServer.Persistence.AofChecker.Run(args[^1], fix, Console.Out);
}

var options = new ServerOptions();
var parse = CommandLine.Parse(args, options);
if (parse.ExitCode is { } exit)
{
    Console.Out.Write(parse.Output);
    Console.Error.Write(parse.Error);
    return exit;
}

var level = options.LogLevel switch
{
    "debug" => LogEventLevel.Debug,
    "verbose" => LogEventLevel.Verbose,
    "warning" => LogEventLevel.Warning,
    "nothing" => LogEventLevel.Fatal,
    _ => LogEventLevel.Information,
};
var logConfig = new LoggerConfiguration().MinimumLevel.Is(level)
    .MinimumLevel.Override("Microsoft", LogEventLevel.Warning);
logConfig = options.LogFile.Length == 0
    ? logConfig.WriteTo.Console(outputTemplate: "{ProcessId}:M {Timestamp:dd MMM yyyy HH:mm:ss.fff} {Level:u1} {Message:lj}{NewLine}{Exception}")
    : logConfig.WriteTo.File(options.LogFile, outputTemplate: "{ProcessId}:M {Timestamp:dd MMM yyyy HH:mm:ss.fff} {Level:u1} {Message:lj}{NewLine}{Exception}");
Log.Logger = logConfig.Enrich.WithProperty("ProcessId", Environment.ProcessId).CreateLogger();
foreach (var warning in parse.Warnings) Log.Warning("{Warning}", warning);

try
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
    builder.Services.AddSerilog();
    builder.Services.AddSingleton(options);
    builder.Services.AddHostedService<ServerHostedService>();
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
    using var host = builder.Build();
    await host.RunAsync().ConfigureAwait(false);
    return Environment.ExitCode;
}
catch (Exception e)
{
    Log.Fatal(e, "Server failed");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync().ConfigureAwait(false);
}
