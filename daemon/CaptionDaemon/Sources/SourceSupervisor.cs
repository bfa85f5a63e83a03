using System.Collections.Concurrent;
using CaptionDaemon.Contracts;
using CaptionDaemon.Hosting;
using CaptionDaemon.Plugins;
using CaptionDaemon.Sinks;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Windowing;

namespace CaptionDaemon.Sources;

/// <summary>The state of one configured source, for <c>/healthz</c>.</summary>
internal sealed record SourceReport(string Id, string Type, string? Plugin, SourceState State, string? Detail, DateTimeOffset Since);

/// <summary>
/// Creates every configured source through its plugin's factory and reads it into its window ring. A source that
/// cannot be created, or whose stream throws, is disabled with status <c>error: ...</c>; the others keep running.
/// </summary>
internal sealed partial class SourceSupervisor : BackgroundService
{
    private readonly IConfiguration _configuration;
    private readonly PluginCatalog _plugins;
    private readonly SourceWindowerFactory _windowers;
    private readonly ICaptionOutlet _outlet;
    private readonly DaemonMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, SourceReport> _reports = new(StringComparer.Ordinal);

    public SourceSupervisor(
        IConfiguration configuration,
        PluginCatalog plugins,
        SourceWindowerFactory windowers,
        ICaptionOutlet outlet,
        DaemonMetrics metrics,
        ILoggerFactory loggerFactory,
        TimeProvider time)
    {
        _configuration = configuration;
        _plugins = plugins;
        _windowers = windowers;
        _outlet = outlet;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<SourceSupervisor>();
        _time = time;
    }

    /// <summary>Every configured source and its latest state.</summary>
    public IReadOnlyList<SourceReport> Snapshot() => [.. _reports.Values.OrderBy(r => r.Id, StringComparer.Ordinal)];

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var runs = DaemonConfiguration.EnabledSources(_configuration)
            .Select(section => Task.Run(() => RunAsync(section, stoppingToken), CancellationToken.None))
            .ToList();
        if (runs.Count == 0)
            LogNoSources(_logger);
        return Task.WhenAll(runs);
    }

    private async Task RunAsync(IConfigurationSection section, CancellationToken stoppingToken)
    {
        var id = section.Key;
        var type = section["Type"] ?? string.Empty;
        var status = new Reporter(this, id, type, null);
        status.Report(SourceState.Starting);
        // The same checks as check-config: the host's keys, the type, and the plugin's own validation.
        if (ConfigurationValidation.SourceProblem(section, _plugins) is { } problem)
        {
            status.Fail(problem);
            return;
        }
        _plugins.TryGetSourceFactory(type, out var factory, out var plugin);
        status = new Reporter(this, id, type, plugin);

        IAudioSource source;
        try
        {
            source = factory.Create(new AudioSourceContext
            {
                Id = id,
                Settings = section,
                Logger = _loggerFactory.CreateLogger($"CaptionDaemon.Sources.{id}"),
                Status = status,
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A plugin's factory may throw anything; the source is disabled and reported, the daemon goes on.
            status.Fail(ex.Message, plugin);
            return;
        }

        await using (source.ConfigureAwait(false))
        {
            if (source.Format is not { SampleRate: > 0, Channels: > 0 } format)
            {
                status.Fail($"{plugin} announced an impossible format {source.Format}", plugin);
                return;
            }
            var windower = _windowers.Create(id, format);
            try
            {
                await foreach (var chunk in source.ReadAsync(stoppingToken).ConfigureAwait(false))
                    windower.Append(chunk.Samples.Span, chunk.Timestamp);
                windower.Complete();
                if (_reports.TryGetValue(id, out var last) && last.State != SourceState.Offline)
                    status.Report(SourceState.Offline, "the stream ended");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                status.Report(SourceState.Offline);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A source that throws is disabled with its message; what it delivered before was already windowed.
                status.Fail(ex.Message, plugin);
            }
        }
    }

    private void OnStatus(string id, string type, string? plugin, SourceState state, string? detail)
    {
        var now = _time.GetUtcNow();
        var previous = _reports.TryGetValue(id, out var p) ? p : null;
        _reports[id] = new SourceReport(id, type, plugin, state, detail, previous?.State == state ? previous.Since : now);
        _metrics.SetSourceUp(id, state == SourceState.Online);
        _outlet.PublishStatus(new SourceStatus(id, state, detail, now));
        if (state == SourceState.Error)
            LogSourceFailed(_logger, id, detail ?? string.Empty);
        else if (previous?.State != state || previous.Detail != detail)
            LogSourceState(_logger, id, state, detail ?? string.Empty);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No sources are configured: add one with --source or in the Sources section")]
    private static partial void LogNoSources(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Source {Source}: {State} {Detail}")]
    private static partial void LogSourceState(ILogger logger, string source, SourceState state, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Source {Source} is disabled: {Detail}")]
    private static partial void LogSourceFailed(ILogger logger, string source, string detail);

    private sealed class Reporter(SourceSupervisor owner, string id, string type, string? plugin) : ISourceStatusReporter
    {
        public void Report(SourceState state, string? detail = null) => owner.OnStatus(id, type, plugin, state, detail);

        public void Fail(string message, string? failedPlugin = null)
        {
            if (failedPlugin is not null)
            {
                owner._metrics.PluginFailures.Add(1, new KeyValuePair<string, object?>("plugin", failedPlugin), new KeyValuePair<string, object?>("kind", "source"));
            }
            Report(SourceState.Error, message);
        }
    }
}
