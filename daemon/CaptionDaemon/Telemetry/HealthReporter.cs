using CaptionDaemon.Hosting;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using CaptionDaemon.Sources;

namespace CaptionDaemon.Telemetry;

/// <summary>
/// Answers <c>/healthz</c> and tells the systemd watchdog whether to ping. The daemon is <c>unhealthy</c> only when
/// inference is stuck (windows wait and no batch has finished for <see cref="StallLimit"/>): that is what a restart
/// fixes. A source or sink that is not running (disabled, reconnecting, retrying, no audio yet) and a plugin that did not
/// load make it <c>degraded</c>: still serving, and listed under problems, until it recovers.
/// </summary>
internal sealed class HealthReporter : IDaemonHealth
{
    /// <summary>How long windows may wait without a finished batch before the daemon counts as stuck.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    private readonly ModelRuntime _model;
    private readonly BatchScheduler _scheduler;
    private readonly ReadyWindowQueue _queue;
    private readonly SourceSupervisor _sources;
    private readonly SinkSet _sinks;
    private readonly PluginCatalog _plugins;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _lastBatches = -1;
    private DateTimeOffset _lastProgress;

    public HealthReporter(ModelRuntime model, BatchScheduler scheduler, ReadyWindowQueue queue, SourceSupervisor sources, SinkSet sinks, PluginCatalog plugins, TimeProvider time)
    {
        _model = model;
        _scheduler = scheduler;
        _queue = queue;
        _sources = sources;
        _sinks = sinks;
        _plugins = plugins;
        _time = time;
        _lastProgress = time.GetUtcNow();
    }

    public bool IsHealthy => !InferenceStalled();

    public HealthReport Report()
    {
        var problems = new List<string>();
        if (InferenceStalled())
            problems.Add($"inference is stuck: {_queue.Count} windows wait and no batch finished for {StallLimit.TotalSeconds:0} s");
        var sources = _sources.Snapshot()
            .Select(s => new SourceHealth(s.Id, s.Type, s.Plugin, s.State.ToString().ToLowerInvariant(), s.Detail, s.Since))
            .ToList();
        // Not running: disabled, reconnecting, or not delivering audio yet. A source that ended (a file) is offline on purpose.
        problems.AddRange(sources.Where(s => s.State is "error" or "reconnecting" or "starting").Select(s => s.State switch
        {
            "error" => $"source {s.Id} is disabled: {s.Detail}",
            "reconnecting" => $"source {s.Id} is reconnecting since {s.Since:u}: {s.Detail}",
            _ => $"source {s.Id} has delivered no audio since {s.Since:u}",
        }));
        // A sink's last error is shown while it is not running, and cleared when it recovers.
        var running = _sinks.Hub.Snapshot()
            .Select(s => new SinkHealth(s.Name, _sinks.TypeOf(s.Name), s.State.ToString().ToLowerInvariant(), s.State == SinkState.Running ? null : s.LastError, s.Depth, s.Delivered, s.Dropped))
            .ToList();
        problems.AddRange(running.Where(s => s.State is "failed" or "retrying").Select(s => s.State == "failed"
            ? $"sink {s.Name} failed and is tried again every {DaemonCommands.Seconds(_sinks.FailedRetryDelay(s.Name).TotalSeconds)} s: {s.Error}"
            : $"sink {s.Name} is retrying: {s.Error}"));
        var notCreated = _sinks.Failures.Select(f => new SinkHealth(f.Name, f.Type, "failed", f.Error, 0, 0, 0)).ToList();
        problems.AddRange(notCreated.Select(s => $"sink {s.Name} is disabled: {s.Error}"));
        var sinks = running.Concat(notCreated).ToList();
        var plugins = _plugins.Reports.Select(p => new PluginHealth(p.Name, p.Path, p.Loaded, p.Error)).ToList();
        problems.AddRange(plugins.Where(p => !p.Loaded).Select(p => $"plugin {p.Name} did not load: {p.Error}"));

        var model = _model.Status;
        var status = InferenceStalled() ? "unhealthy" : problems.Count > 0 ? "degraded" : "ok";
        return new HealthReport(status, problems, new ModelHealth(model.Name, model.Directory, model.Provider, model.LoadedAt), sources, sinks, plugins);
    }

    private bool InferenceStalled()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var batches = _scheduler.BatchesRun;
            if (batches != _lastBatches || _queue.Count == 0)
            {
                _lastBatches = batches;
                _lastProgress = now;
                return false;
            }
            return now - _lastProgress > StallLimit;
        }
    }
}
