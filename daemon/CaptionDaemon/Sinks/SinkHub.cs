using CaptionDaemon.Contracts;
using CaptionDaemon.Telemetry;

namespace CaptionDaemon.Sinks;

/// <summary>
/// The pipeline's outlet: fans every caption and source state out to one <see cref="SinkPump"/> per sink, so that a
/// slow, unreachable or broken sink never holds up the pipeline or the other sinks.
/// </summary>
internal sealed class SinkHub : ICaptionOutlet, IAsyncDisposable
{
    private readonly string _outboxRoot;
    private readonly DaemonMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider? _timeProvider;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SourceStatus> _latestStatus = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SourceDescription> _latestDescription = new(StringComparer.Ordinal);
    private SinkPump[] _pumps = [];
    private bool _started;

    /// <param name="outboxRoot">Folder of the durable outboxes; each sink's journal goes to <c>&lt;outboxRoot&gt;/&lt;sink name&gt;/</c>.</param>
    /// <param name="metrics">The daemon's instruments.</param>
    /// <param name="loggerFactory">Loggers for the pumps (category <c>CaptionDaemon.Sinks.SinkPump</c>).</param>
    /// <param name="timeProvider">Clock for latency and backoff; the system clock when null.</param>
    public SinkHub(string outboxRoot, DaemonMetrics metrics, ILoggerFactory loggerFactory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outboxRoot);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _outboxRoot = outboxRoot;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
    }

    /// <summary>Adds a sink (the hub owns and disposes it); started at once when the hub is already running.</summary>
    public void Add(ICaptionSink sink, SinkPumpOptions options)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        var journalDirectory = Path.Combine(_outboxRoot, FolderName(sink.Name));
        var pump = new SinkPump(sink, options, journalDirectory, _metrics, _loggerFactory.CreateLogger<SinkPump>(), _timeProvider);
        bool start;
        lock (_lock)
        {
            if (Array.Exists(_pumps, p => string.Equals(p.Name, sink.Name, StringComparison.Ordinal)))
            {
                throw new ArgumentException($"A sink named '{sink.Name}' is already added.", nameof(sink));
            }

            // A status sink hears every known source's state once when it starts (the contract of ISourceStatusSink),
            // after the source's description, so that what describes a source exists before its state.
            foreach (var description in _latestDescription.Values)
            {
                pump.PublishDescription(description);
            }

            foreach (var status in _latestStatus.Values)
            {
                pump.PublishStatus(status);
            }

            _pumps = [.. _pumps, pump];
            start = _started;
        }

        if (start)
        {
            pump.Start();
        }
    }

    public void Start()
    {
        SinkPump[] pumps;
        lock (_lock)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            pumps = _pumps;
        }

        foreach (var pump in pumps)
        {
            pump.Start();
        }
    }

    /// <summary>Stops every pump in parallel, each flushing for up to its own <c>FlushTimeoutSeconds</c>.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        SinkPump[] pumps;
        lock (_lock)
        {
            pumps = _pumps;
        }

        return Task.WhenAll(pumps.Select(p => p.StopAsync(cancellationToken)));
    }

    public void Publish(Caption caption)
    {
        foreach (var pump in Volatile.Read(ref _pumps))
        {
            pump.Publish(caption);
        }
    }

    public void PublishStatus(SourceStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        RememberAndFanOut(_latestStatus, status.SourceId, status, static (pump, s) => pump.PublishStatus(s));
    }

    public void PublishDescription(SourceDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        RememberAndFanOut(_latestDescription, description.SourceId, description, static (pump, d) => pump.PublishDescription(d));
    }

    /// <summary>Keeps the source's latest item, for sinks added later, and hands it to every pump.</summary>
    private void RememberAndFanOut<T>(Dictionary<string, T> latest, string sourceId, T item, Action<SinkPump, T> publish)
    {
        SinkPump[] pumps;
        lock (_lock)
        {
            latest[sourceId] = item;
            pumps = _pumps;
        }

        foreach (var pump in pumps)
        {
            publish(pump, item);
        }
    }

    public void PublishLevel(SourceLevel level)
    {
        ArgumentNullException.ThrowIfNull(level);
        foreach (var pump in Volatile.Read(ref _pumps))
        {
            pump.PublishLevel(level);
        }
    }

    public IReadOnlyList<SinkPumpState> Snapshot() => [.. Volatile.Read(ref _pumps).Select(p => p.Snapshot())];

    public async ValueTask DisposeAsync()
    {
        SinkPump[] pumps;
        lock (_lock)
        {
            pumps = _pumps;
            _pumps = [];
        }

        await Task.WhenAll(pumps.Select(p => p.StopAsync(CancellationToken.None))).ConfigureAwait(false);
        foreach (var pump in pumps)
        {
            await pump.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A sink name as a single folder name (names come from configuration keys and may hold anything).</summary>
    private static string FolderName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var chars = name.Select(c => Array.IndexOf(invalid, c) >= 0 || c == '.' ? '_' : c).ToArray();
        return chars.Length == 0 ? "_" : new string(chars);
    }
}
