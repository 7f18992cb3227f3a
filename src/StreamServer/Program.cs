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

StreamServer.Networking.SocketEngineTuning.Apply();
var options = new ServerOptions();
if (CommandLine.Parse(args, options, out var warnings, out var healthCheck) is { } exit) return exit;
if (healthCheck) return await HealthCheck.RunAsync(options).ConfigureAwait(false);

// Redis's levels, most verbose first: debug, verbose, notice, warning, nothing.
var level = options.LogLevel switch
{
    "debug" => LogEventLevel.Verbose,
    "verbose" => LogEventLevel.Debug,
    "warning" => LogEventLevel.Warning,
    "nothing" => LogEventLevel.Fatal,
    _ => LogEventLevel.Information,
};
const string template = "{ProcessId}:M {Timestamp:dd MMM yyyy HH:mm:ss.fff} {Level:u1} {Message:lj}{NewLine}{Exception}";
var logConfig = new LoggerConfiguration().MinimumLevel.Is(level)
    .MinimumLevel.Override("Microsoft", LogEventLevel.Warning);
logConfig = options.LogFile.Length == 0
    ? logConfig.WriteTo.Console(outputTemplate: template, formatProvider: System.Globalization.CultureInfo.InvariantCulture)
    : logConfig.WriteTo.File(options.LogFile, outputTemplate: template, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
Log.Logger = logConfig.Enrich.WithProperty("ProcessId", Environment.ProcessId).CreateLogger();
foreach (var warning in warnings) Log.Warning("{Warning}", warning);

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
