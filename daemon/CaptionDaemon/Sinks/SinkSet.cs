using CaptionDaemon.Contracts;
using CaptionDaemon.Hosting;
using CaptionDaemon.Plugins;
using CaptionDaemon.Telemetry;

namespace CaptionDaemon.Sinks;

/// <summary>A configured sink that could not be created, for <c>/healthz</c>.</summary>
internal sealed record SinkFailure(string Name, string Type, string Error);

/// <summary>
/// Creates the configured sinks through their plugins' factories, plus the console caption log, and runs them behind
/// the <see cref="SinkHub"/>. A sink that cannot be created is reported and left out; the others run.
/// </summary>
internal sealed partial class SinkSet : IHostedService
{
    private readonly List<SinkFailure> _failures = [];
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _failedRetryDelays = new(StringComparer.Ordinal);
    private readonly IConfiguration _configuration;
    private readonly PluginCatalog _plugins;
    private readonly DaemonMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly string _stateDirectory;

    public SinkSet(IConfiguration configuration, PluginCatalog plugins, DaemonMetrics metrics, ILoggerFactory loggerFactory)
    {
        _configuration = configuration;
        _plugins = plugins;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _stateDirectory = DaemonConfiguration.StateDirectory(configuration);
        Hub = new SinkHub(Path.Combine(_stateDirectory, "outbox"), metrics, loggerFactory);
    }

    public SinkHub Hub { get; }

    public IReadOnlyList<SinkFailure> Failures => _failures;

    /// <summary>The configured type of a sink, by name.</summary>
    public string TypeOf(string name) => _types.TryGetValue(name, out var type) ? type : "?";

    /// <summary>How long a failed sink waits before it is tried again, by name.</summary>
    public TimeSpan FailedRetryDelay(string name) => _failedRetryDelays.TryGetValue(name, out var delay) ? delay : new SinkPumpOptions().FailedRetryDelay;

    /// <summary>
    /// Creates the sinks now, not when the hub is constructed: by this time the embedded broker (started before) is
    /// listening, so the MQTT sink's first connection succeeds.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var logger = _loggerFactory.CreateLogger<SinkSet>();
        Hub.Add(new CaptionLogSink(_loggerFactory.CreateLogger("captiond.captions")), new SinkPumpOptions());
        _types[CaptionLogSink.SinkName] = "log";
        foreach (var section in DaemonConfiguration.EnabledSinks(_configuration))
        {
            var type = section["Type"] ?? string.Empty;
            try
            {
                // The same checks as check-config: the name, the type, the host's keys and the plugin's own validation.
                if (ConfigurationValidation.SinkProblem(section, _plugins) is { } problem)
                    throw new PluginConfigurationException(problem);
                _plugins.TryGetSinkFactory(type, out var factory, out _);
                var options = SinkPumpOptions.FromConfiguration(section);
                var sinkState = Path.Combine(_stateDirectory, "sinks", section.Key);
                Directory.CreateDirectory(sinkState);
                var sink = factory.Create(new CaptionSinkContext
                {
                    Name = section.Key,
                    Settings = section,
                    Logger = _loggerFactory.CreateLogger($"CaptionDaemon.Sinks.{section.Key}"),
                    StateDirectory = sinkState,
                });
                Hub.Add(sink, options);
                _types[section.Key] = type;
                _failedRetryDelays[section.Key] = options.FailedRetryDelay;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A sink that cannot be created (bad settings, a plugin bug) is left out; captions still reach the others.
                _failures.Add(new SinkFailure(section.Key, type, ex.Message));
                _metrics.PluginFailures.Add(1, new KeyValuePair<string, object?>("plugin", type), new KeyValuePair<string, object?>("kind", "sink"));
                LogSinkFailed(logger, section.Key, ex.Message);
            }
        }
        Hub.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Hub.StopAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink} is disabled: {Error}")]
    private static partial void LogSinkFailed(ILogger logger, string sink, string error);
}
