using System.Collections.Concurrent;
using CaptionDaemon.Contracts;
using CaptionDaemon.Hosting;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Sources;

/// <summary>The state of one configured source, for <c>/healthz</c>.</summary>
internal sealed record SourceReport(string Id, string Type, string? Plugin, SourceState State, string? Detail, DateTimeOffset Since);

/// <summary>
/// Creates every configured source through its plugin's factory and reads it into its window ring. A source whose
/// settings are wrong is disabled with status <c>error: ...</c>. A source whose stream throws (or whose factory throws
/// anything but a configuration error) is restarted with exponential backoff, status <c>reconnecting: ...</c>
/// meanwhile, as the ffmpeg source restarts ffmpeg; one that yields audio is <c>online</c> whether or not its plugin says
/// so. The others keep running. Every source is described to the sinks (its labels) at start and on a model change.
/// </summary>
internal sealed partial class SourceSupervisor : BackgroundService
{
    /// <summary>The first restart waits this long; each failure doubles it up to <see cref="MaxRestartDelay"/>.</summary>
    internal static readonly TimeSpan FirstRestartDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between restarts.</summary>
    internal static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(60);

    /// <summary>A source that delivered audio this long before it failed starts again from the first delay.</summary>
    internal static readonly TimeSpan HealthyRun = TimeSpan.FromSeconds(60);

    private readonly IConfiguration _configuration;
    private readonly PluginCatalog _plugins;
    private readonly SourceWindowerFactory _windowers;
    private readonly ICaptionOutlet _outlet;
    private readonly DaemonMetrics _metrics;
    private readonly ModelRuntime _model;
    private readonly SourceTunings _tunings;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxBurst;
    private readonly ConcurrentDictionary<string, SourceReport> _reports = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _described = new(StringComparer.Ordinal);

    public SourceSupervisor(
        IConfiguration configuration,
        PluginCatalog plugins,
        SourceWindowerFactory windowers,
        ICaptionOutlet outlet,
        DaemonMetrics metrics,
        ModelRuntime model,
        SourceTunings tunings,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        IOptions<SchedulerOptions>? scheduler = null)
    {
        _configuration = configuration;
        _plugins = plugins;
        _windowers = windowers;
        _outlet = outlet;
        _metrics = metrics;
        _model = model;
        _tunings = tunings;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<SourceSupervisor>();
        _time = time;
        _maxBurst = TimeSpan.FromSeconds((scheduler?.Value ?? new SchedulerOptions()).MaxBurstSeconds);
        _model.Switched += OnModelSwitched;
    }

    /// <summary>Every configured source and its latest state.</summary>
    public IReadOnlyList<SourceReport> Snapshot() => [.. _reports.Values.OrderBy(r => r.Id, StringComparer.Ordinal)];

    public override void Dispose()
    {
        _model.Switched -= OnModelSwitched;
        base.Dispose();
    }

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
        // The same checks as check-config: the host's keys, the type, the labels against the model, the plugin's validation.
        if (ConfigurationValidation.SourceProblem(section, _plugins, _model.Labels) is { } problem)
        {
            status.Fail(problem);
            return;
        }
        _plugins.TryGetSourceFactory(type, out var factory, out var plugin);
        status = new Reporter(this, id, type, plugin);
        _described[id] = true;
        Describe(id, _model.Status.Name, _model.Labels);

        var delay = FirstRestartDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = _time.GetTimestamp();
            var outcome = await RunOnceAsync(section, factory, plugin, status, stoppingToken).ConfigureAwait(false);
            if (outcome is not { } failure)
                return;

            if (_time.GetElapsedTime(started) >= HealthyRun)
                delay = FirstRestartDelay;
            _metrics.PluginFailures.Add(1, new KeyValuePair<string, object?>("plugin", plugin), new KeyValuePair<string, object?>("kind", "source"));
            status.Report(SourceState.Reconnecting, $"{failure}; restarting in {DaemonCommands.Seconds(delay.TotalSeconds)} s");
            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                status.Report(SourceState.Offline);
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRestartDelay.Ticks));
        }
    }

    /// <summary>Creates the source and reads it to its end. Returns why it failed when it should be restarted, else null.</summary>
    private async Task<string?> RunOnceAsync(IConfigurationSection section, IAudioSourceFactory factory, string plugin, Reporter status, CancellationToken stoppingToken)
    {
        var id = section.Key;
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
        catch (PluginConfigurationException ex)
        {
            // Wrong settings do not heal by waiting: the source is disabled and reported.
            status.Fail(ex.Message, plugin);
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A plugin's factory may throw anything (a device that is not there yet): restarted like a stream that fails.
            return ex.Message;
        }

        await using (source.ConfigureAwait(false))
        {
            if (source.Format is not { SampleRate: > 0, Channels: > 0 } format)
            {
                status.Fail($"{plugin} announced an impossible format {source.Format}", plugin);
                return null;
            }
            var windower = _windowers.Create(id, format);
            var pacer = new RealtimePacer(_maxBurst, _time);
            var sourceTag = new KeyValuePair<string, object?>("source", id);
            var throttleLogged = false;
            try
            {
                await foreach (var chunk in source.ReadAsync(stoppingToken).ConfigureAwait(false))
                {
                    // Audio is what online means: shown without the plugin having to say so.
                    if (status.Current != SourceState.Online)
                        status.Report(SourceState.Online);
                    var seconds = (double)chunk.Samples.Length / format.Channels / format.SampleRate;
                    var timestamp = chunk.Timestamp;
                    var hold = pacer.Take(seconds);
                    if (hold > TimeSpan.Zero)
                    {
                        // Faster than real time beyond the burst: the source is not read for a while, on its own account.
                        _metrics.SourceThrottled.Add(hold.TotalSeconds, sourceTag);
                        if (!throttleLogged)
                        {
                            throttleLogged = true;
                            LogThrottled(_logger, id, _maxBurst.TotalSeconds);
                        }

                        await Task.Delay(hold, _time, stoppingToken).ConfigureAwait(false);
                        // What the source could not deliver meanwhile may be lost (UDP): date this chunk by now.
                        timestamp ??= _time.GetUtcNow() - TimeSpan.FromSeconds(seconds);
                    }

                    windower.Append(chunk.Samples.Span, timestamp);
                }
                windower.Complete();
                if (status.Current != SourceState.Offline)
                    status.Report(SourceState.Offline, "the stream ended");
                return null;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                status.Report(SourceState.Offline);
                return null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A stream that throws is restarted with backoff; what it delivered before was already windowed.
                LogSourceThrew(_logger, ex, id, ex.Message);
                return ex.Message;
            }
        }
    }

    /// <summary>A new model may have other labels: every running source is described again.</summary>
    private void OnModelSwitched(LoadedModel model)
    {
        foreach (var id in _described.Keys)
            Describe(id, model.Name, model.Bundle.Manifest.Labels);
    }

    private void Describe(string id, string model, IReadOnlyList<BundleLabel> labels)
    {
        var only = _tunings.For(id).Labels;
        var described = labels
            .Where(l => l.Name != BundleLabel.Nothing && (only is null || only.Contains(l.Name)))
            .Select(l => new ModelLabel(l.Name, l.Display))
            .ToList();
        _outlet.PublishDescription(new SourceDescription(id, model, described));
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source {Source} delivers audio faster than real time: it is held back whenever it is more than {BurstSeconds} s (Scheduler:MaxBurstSeconds) ahead of the clock, counted in captiond.source.throttled")]
    private static partial void LogThrottled(ILogger logger, string source, double burstSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No sources are configured: add one with --source or in the Sources section")]
    private static partial void LogNoSources(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Source {Source}: {State} {Detail}")]
    private static partial void LogSourceState(ILogger logger, string source, SourceState state, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Source {Source} is disabled: {Detail}")]
    private static partial void LogSourceFailed(ILogger logger, string source, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source {Source} failed: {Reason}")]
    private static partial void LogSourceThrew(ILogger logger, Exception exception, string source, string reason);

    private sealed class Reporter(SourceSupervisor owner, string id, string type, string? plugin) : ISourceStatusReporter
    {
        /// <summary>The state last reported, by the plugin or the host.</summary>
        public SourceState Current => owner._reports.TryGetValue(id, out var report) ? report.State : SourceState.Starting;

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
