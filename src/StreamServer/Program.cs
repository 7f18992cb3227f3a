using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;
using StreamServer.Configuration;
using StreamServer.Host;
using StreamServer.Hosting;

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

// The server listens before the host exists: building the generic host (DI container, options, console
// lifetime) takes as long as everything else in start-up together, and nothing of it is needed to answer a
// client. The host then owns the lifetime. SIGTERM/SIGINT and SHUTDOWN cancel `shutdown`, which stops the
// host, or keeps it from starting when they come first; either way the runtime is stopped cleanly below.
using var loggerFactory = new SerilogLoggerFactory(Log.Logger);
ServerRuntime? runtime = null;
using var shutdown = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStopSignal);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopSignal);
try
{
    runtime = await ServerHostedService.StartRuntimeAsync(options, loggerFactory).ConfigureAwait(false);
    runtime.Server.ShutdownRequested = _ => shutdown.Cancel();
    var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
    builder.Services.AddSerilog();
    builder.Services.AddSingleton(runtime);
    builder.Services.AddHostedService<ServerHostedService>();
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
    using var host = builder.Build();
    try
    {
        await host.RunAsync(shutdown.Token).ConfigureAwait(false);
    }
    catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
    {
        // SIGTERM/SIGINT or SHUTDOWN before the host had started: the runtime is stopped below.
    }
    return Environment.ExitCode;
}
catch (Exception e)
{
    Log.Fatal(e, "Server failed");
    return 1;
}
finally
{
    if (runtime is not null) await ServerHostedService.StopRuntimeAsync(runtime, loggerFactory).ConfigureAwait(false);
    await Log.CloseAndFlushAsync().ConfigureAwait(false);
}

void OnStopSignal(PosixSignalContext context)
{
    context.Cancel = true; // not the runtime's default exit: the host stops and the AOF is fsynced first
    shutdown.Cancel();
}
