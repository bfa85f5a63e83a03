using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace CaptionDaemon.Telemetry;

/// <summary>
/// The daemon's instruments, meter <c>captiond</c>. Names follow OpenTelemetry conventions; the Prometheus exporter
/// turns <c>captiond.windows.processed</c> into <c>captiond_windows_processed_total</c> and durations in seconds into
/// <c>..._seconds</c>. The README lists them.
/// </summary>
internal sealed class DaemonMetrics
{
    /// <summary>The meter name to enable in OpenTelemetry.</summary>
    public const string MeterName = "captiond";

    private static readonly double[] _durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] _batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128];

    private readonly ConcurrentDictionary<string, int> _sourceUp = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _sourceLevel = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<long>> _outboxDepth = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _pluginsLoaded = new(StringComparer.Ordinal);
    private volatile string _provider = "none";

    public DaemonMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        WindowsProcessed = meter.CreateCounter<long>("captiond.windows.processed", "{window}", "Windows captioned by the model.");
        WindowsDropped = meter.CreateCounter<long>("captiond.windows.dropped", "{window}", "Ready windows dropped, oldest first, because inference fell behind (tag reason).");
        WindowsSilent = meter.CreateCounter<long>("captiond.windows.silent", "{window}", "Windows skipped by the silence gate.");
        CaptionsPublished = meter.CreateCounter<long>("captiond.captions.published", "{caption}", "Captions delivered by a sink (tag sink).");
        CaptionsSuppressed = meter.CreateCounter<long>("captiond.captions.suppressed", "{caption}", "Captions held back by the caption policy (tag reason: repeat, low_confidence).");
        OutboxDropped = meter.CreateCounter<long>("captiond.sink.outbox.dropped", "{caption}", "Captions dropped because a sink's outbox was full (tag sink).");
        SourceThrottled = meter.CreateCounter<double>("captiond.source.throttled", "s", "Seconds a source was held back (not read) because it delivered faster than real time beyond Scheduler:MaxBurstSeconds (tag source); a push source such as UDP loses what it receives meanwhile.");
        PluginFailures = meter.CreateCounter<long>("captiond.plugin.failures", "{failure}", "Plugins, sources or sinks disabled after a failure (tags plugin, kind).");
        ModelReloads = meter.CreateCounter<long>("captiond.model.reloads", "{reload}", "Model bundle reloads (tag result: ok, refused).");
        UiEvents = meter.CreateCounter<long>("captiond.ui.events", "{event}", "Captions and levels formatted for the live page's event stream; none while no page is open.");
        UiPages = meter.CreateUpDownCounter<int>("captiond.ui.pages", "{page}", "Live pages connected to the event stream.");
        InferenceDuration = meter.CreateHistogram("captiond.inference.duration", "s", "Wall time of one batched encoder + decoder run.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = _durationBuckets });
        CaptionLatency = meter.CreateHistogram("captiond.caption.latency", "s", "From a window's end to the caption's delivery by a sink (tag sink).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = _durationBuckets });
        BatchSize = meter.CreateHistogram<int>("captiond.batch.size", "{window}", "Windows per inference batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [.. _batchBuckets.Select(b => (int)b)] });
        meter.CreateObservableGauge("captiond.source.up", () => _sourceUp.Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("source", p.Key))),
            "{source}", "1 while a source delivers audio, else 0.");
        // No unit: the exporter would append an unknown unit's name in its own spelling; the name says dBFS.
        meter.CreateObservableGauge("captiond.source.level.dbfs", () => _sourceLevel.Select(p => new Measurement<double>(p.Value, new KeyValuePair<string, object?>("source", p.Key))),
            description: "RMS level of a source's latest window in dBFS (what Windowing:SilenceThresholdDbfs compares with); -150 for digital silence.");
        meter.CreateObservableGauge("captiond.sink.outbox.depth", () => _outboxDepth.Select(p => new Measurement<long>(p.Value(), new KeyValuePair<string, object?>("sink", p.Key))),
            "{caption}", "Captions waiting in a sink's outbox.");
        meter.CreateObservableGauge("captiond.execution_provider", () => new Measurement<int>(1, new KeyValuePair<string, object?>("provider", _provider)),
            description: "1, tagged with the ONNX Runtime execution provider in use (cpu, cuda).");
        meter.CreateObservableGauge("captiond.plugins.loaded", () => _pluginsLoaded.Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("plugin", p.Key))),
            "{plugin}", "1 for each plugin loaded, 0 for each that failed to load.");
    }

    public Counter<long> WindowsProcessed { get; }

    public Counter<long> WindowsDropped { get; }

    public Counter<long> WindowsSilent { get; }

    public Counter<long> CaptionsPublished { get; }

    public Counter<long> CaptionsSuppressed { get; }

    public Counter<long> OutboxDropped { get; }

    public Counter<double> SourceThrottled { get; }

    public Counter<long> PluginFailures { get; }

    public Counter<long> ModelReloads { get; }

    public Counter<long> UiEvents { get; }

    public UpDownCounter<int> UiPages { get; }

    public Histogram<double> InferenceDuration { get; }

    public Histogram<double> CaptionLatency { get; }

    public Histogram<int> BatchSize { get; }

    public void SetSourceUp(string sourceId, bool up) => _sourceUp[sourceId] = up ? 1 : 0;

    public void SetSourceLevel(string sourceId, double dbfs) => _sourceLevel[sourceId] = dbfs;

    public void SetExecutionProvider(string provider) => _provider = provider;

    public void SetPluginLoaded(string plugin, bool loaded) => _pluginsLoaded[plugin] = loaded ? 1 : 0;

    /// <summary>Registers a sink's outbox so that its depth is observed at every scrape.</summary>
    public void ObserveOutbox(string sink, Func<long> depth) => _outboxDepth[sink] = depth;
}
