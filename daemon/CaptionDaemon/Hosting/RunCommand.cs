using System.Net;
using System.Runtime.InteropServices;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Mqtt;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using CaptionDaemon.Sources;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Ui;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Hosting;

/// <summary><c>captiond run</c>: the service.</summary>
internal static partial class RunCommand
{
    public static async Task<int> RunAsync(CommandLineSettings commandLine, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = Build(commandLine);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FormatException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync($"captiond: {DaemonConfiguration.Describe(ex)}").ConfigureAwait(false);
            return 2;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The state directory (where the broker's credentials are generated) cannot be written.
            await Console.Error.WriteLineAsync($"captiond: cannot start: {ex.Message} (see StateDirectory)").ConfigureAwait(false);
            return 1;
        }

        await using (app.ConfigureAwait(false))
        {
            ModelRuntime runtime;
            // Validated here, before the host resolves its services: a bad value is then one line and exit 2, not the
            // host's "failed to start" log with a stack trace; every bad value at once, as check-config lists them.
            var problems = ConfigurationValidation.OptionProblems(app.Services);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                    await Console.Error.WriteLineAsync($"captiond: configuration error: {problem}").ConfigureAwait(false);
                return 2;
            }

            var startupLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionDaemon.Configuration");
            foreach (var warning in ConfigurationValidation.UnknownKeys(app.Configuration, app.Services.GetRequiredService<PluginCatalog>()))
                LogUnknownKey(startupLogger, warning);
            var metricsListen = TelemetryEndpoints.ParseListen(app.Configuration["Metrics:Listen"] ?? "127.0.0.1:9464");
            if (!IPAddress.IsLoopback(metricsListen.Address))
                LogMetricsBeyondLoopback(startupLogger, metricsListen.ToString());

            try
            {
                // Then the model, which must load to start.
                app.Services.GetRequiredService<IStartupValidator>().Validate();
                runtime = app.Services.GetRequiredService<ModelRuntime>();
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync($"captiond: configuration error: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            catch (BundleException ex)
            {
                await Console.Error.WriteLineAsync($"captiond: cannot start: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            // SIGHUP asks for a model reload, as daemons conventionally re-read their state on it.
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                runtime.RequestReload();
            });
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync($"captiond: configuration error: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            catch (Exception ex) when (ex is BundleException or FormatException or IOException or InvalidOperationException)
            {
                // Start-up failures that are the user's to fix (broken model, port in use, unsafe broker settings):
                // one clear line, not a stack trace.
                await Console.Error.WriteLineAsync($"captiond: cannot start: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        return 0;
    }

    private static CaptionNumbering Numbering(IConfiguration configuration, ILogger logger)
    {
        if (!DaemonConfiguration.AnyOutboxPersists(configuration))
            return CaptionNumbering.InMemory();
        var path = Path.Combine(DaemonConfiguration.StateDirectory(configuration), "sequences");
        var numbering = CaptionNumbering.Persistent(path);
        if (numbering.Problem is { } problem)
            LogNumberingRestarted(logger, problem, numbering.Run);
        return numbering;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption numbering: {Problem}; captions are numbered from 1 under a new run {Run}")]
    private static partial void LogNumberingRestarted(ILogger logger, string problem, string run);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics:Listen is {Endpoint}, reachable beyond this machine: anyone who can reach it reads /metrics and /healthz (source names, states, levels, errors); listen on 127.0.0.1 unless that is intended")]
    private static partial void LogMetricsBeyondLoopback(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Configuration: {Warning}")]
    private static partial void LogUnknownKey(ILogger logger, string warning);

    /// <summary>Composes the daemon. Hosted services start in this order and stop in reverse.</summary>
    internal static WebApplication Build(CommandLineSettings commandLine)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        DaemonConfiguration.Build(builder.Configuration, commandLine);
        var configuration = builder.Configuration;
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
        if (DaemonConfiguration.SinkWritesToStandardOutput(configuration))
        {
            // Standard output carries a sink's captions (e.g. jsonl with Path "-"): the log goes to standard error.
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        builder.Services.AddSystemd();
        var listen = configuration["Metrics:Listen"] ?? "127.0.0.1:9464";
        builder.AddTelemetry(listen);

        var services = builder.Services;
        services.AddMetrics();
        services.AddSingleton<DaemonMetrics>();
        services.AddSingleton(sp =>
        {
            var catalog = PluginCatalog.Load(
                DaemonConfiguration.PluginDirectories(configuration),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionDaemon.Plugins"));
            var metrics = sp.GetRequiredService<DaemonMetrics>();
            foreach (var report in catalog.Reports)
                metrics.SetPluginLoaded(report.Name, report.Loaded);
            return catalog;
        });

        // 1. The embedded broker, first, so that the MQTT sink finds it listening.
        services.AddOptionsWithValidateOnStart<EmbeddedBrokerOptions>().Bind(configuration.GetSection(EmbeddedBrokerOptions.SectionName));
        services.AddSingleton<IValidateOptions<EmbeddedBrokerOptions>, EmbeddedBrokerOptionsValidator>();
        services.AddSingleton<EmbeddedBroker>();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedBroker>());

        // 2. The sinks: stopped after the pipeline, so that the last captions are flushed.
        services.AddSingleton<SinkSet>();
        services.AddSingleton(sp => sp.GetRequiredService<SinkSet>().Hub);
        services.AddSingleton<ICaptionOutlet>(sp => new WatchedOutlet(sp.GetRequiredService<SinkHub>(), sp.GetRequiredService<LiveFeed>()));
        services.AddHostedService(sp => sp.GetRequiredService<SinkSet>());

        // The live page on Metrics:Listen: its event stream beside the sinks, the kept audio, who may connect.
        services.AddLivePage(configuration, TelemetryEndpoints.ParseListen(listen));

        // 3. The model, the window queue and the batch scheduler; 4. the sources that feed them, and their levels.
        services.AddSingleton<SourceLevels>();
        // Sequence numbers continue across restarts when captions of an earlier start may still be delivered.
        services.AddSingleton(sp => Numbering(configuration, sp.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionDaemon.Captions")));
        services.AddCaptionPipeline(configuration);
        services.AddSingleton<SourceSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<SourceSupervisor>());

        // 5. Health (/healthz and the systemd watchdog).
        services.AddSingleton<HealthReporter>();
        services.AddSingleton<IDaemonHealth>(sp => sp.GetRequiredService<HealthReporter>());
        services.AddHostedService<SystemdWatchdog>();

        var app = builder.Build();
        app.MapLivePage();
        app.MapTelemetry();
        return app;
    }
}
