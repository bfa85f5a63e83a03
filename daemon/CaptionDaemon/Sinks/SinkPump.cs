using System.Threading.Channels;
using CaptionDaemon.Contracts;
using CaptionDaemon.Telemetry;

namespace CaptionDaemon.Sinks;

/// <summary>
/// Feeds one sink: a bounded outbox (oldest dropped and counted when full, optionally journaled on disk), and one
/// delivery loop that hands the sink batches in order, retries a batch with backoff while the sink is unavailable (at
/// once when an <see cref="ISinkAvailability"/> sink says it is back), and when it throws anything else reports it
/// failed and tries it again on a slow timer (<c>FailedRetrySeconds</c>). The producer never waits for the sink; with
/// <c>Outbox:Persist</c> it waits for the disk: <see cref="Publish"/> returns once the caption is in the journal and
/// fsynced, whatever the sink's state.
/// </summary>
internal sealed partial class SinkPump : IAsyncDisposable
{
    private static readonly TimeSpan _dropWarningInterval = TimeSpan.FromSeconds(10);

    private readonly ICaptionSink _sink;
    private readonly ISourceStatusSink? _statusSink;
    private readonly ISourceDescriptionSink? _descriptionSink;
    private readonly ISourceLevelSink? _levelSink;
    private readonly SinkPumpOptions _options;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string? _journalDirectory;
    private readonly KeyValuePair<string, object?> _sinkTag;
    private readonly Lock _lock = new();
    // Serializes the journal: appends (the producer) against commits, clears and rewrites (the delivery loop). Taken
    // before _lock, never inside it.
    private readonly Lock _journalLock = new();
    private readonly Queue<OutboxEntry> _queue = new();
    private readonly List<OutboxEntry> _inFlight = [];
    private readonly List<Caption> _batch = [];
    private readonly Dictionary<string, SourceStatus> _statuses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SourceDescription> _descriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SourceLevel> _levels = new(StringComparer.Ordinal);
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _abort = new();

    private readonly ISinkAvailability? _availability;
    private OutboxJournal? _journal;
    private Task? _loop;
    private volatile bool _stopRequested;
    private SinkState _state = SinkState.Running;
    private string? _lastError;
    private long _delivered;
    private long _dropped;
    private long _dropsNotReported;
    private long _lastDropWarning;

    /// <param name="sink">The sink; the pump owns it and disposes it.</param>
    /// <param name="options">Host settings of this sink.</param>
    /// <param name="journalDirectory">Folder of this sink's durable outbox; required when <c>Outbox:Persist</c> is true.</param>
    /// <param name="metrics">The daemon's instruments.</param>
    /// <param name="logger">The host's logger for this sink.</param>
    /// <param name="timeProvider">Clock for latency and backoff; the system clock when null.</param>
    public SinkPump(ICaptionSink sink, SinkPumpOptions options, string? journalDirectory, DaemonMetrics metrics, ILogger logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.Outbox.Persist && string.IsNullOrEmpty(journalDirectory))
        {
            throw new ArgumentException("A journal directory is required when the outbox persists.", nameof(journalDirectory));
        }

        _sink = sink;
        _statusSink = sink as ISourceStatusSink;
        _descriptionSink = sink as ISourceDescriptionSink;
        _levelSink = sink as ISourceLevelSink;
        _availability = sink as ISinkAvailability;
        _options = options;
        _journalDirectory = options.Outbox.Persist ? journalDirectory : null;
        _metrics = metrics;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        Name = sink.Name;
        _sinkTag = new KeyValuePair<string, object?>("sink", Name);
        _lastDropWarning = _time.GetTimestamp() - (long)(_dropWarningInterval.TotalSeconds * _time.TimestampFrequency);
        metrics.ObserveOutbox(Name, () => Depth);
        if (_journalDirectory is not null)
        {
            // Restored now, not at Start: whatever is published from now on is journaled after what the last run left.
            RestoreJournal(_journalDirectory);
        }
    }

    public string Name { get; }

    /// <summary>Captions waiting, including the batch being delivered.</summary>
    public long Depth
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count + _inFlight.Count;
            }
        }
    }

    /// <summary>Starts the delivery loop (what the last run left in the journal was restored by the constructor).</summary>
    public void Start()
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException($"The pump of sink '{Name}' is already started.");
        }

        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Queues a caption; never waits for the sink. With persistence the caption is first appended to the journal and
    /// fsynced: when this returns, the caption survives a crash. When the outbox is full the oldest caption is dropped
    /// and counted.
    /// </summary>
    public void Publish(Caption caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        if (_stopRequested)
        {
            return;
        }

        var entry = new OutboxEntry(caption);
        bool dropped;
        if (_journal is null)
        {
            dropped = Enqueue(entry);
        }
        else
        {
            lock (_journalLock)
            {
                JournalAppend(entry);
                dropped = Enqueue(entry);
            }
        }

        if (dropped)
        {
            _metrics.OutboxDropped.Add(1, _sinkTag);
            ReportDrops(force: false);
        }

        _doorbell.Writer.TryWrite(true);
    }

    private bool Enqueue(OutboxEntry entry)
    {
        lock (_lock)
        {
            var dropped = false;
            if (_queue.Count >= _options.Outbox.Capacity)
            {
                _queue.Dequeue();
                _dropped++;
                _dropsNotReported++;
                dropped = true;
            }

            _queue.Enqueue(entry);
            return dropped;
        }
    }

    /// <summary>Queues a source state for a sink that publishes states; only the latest per source is kept.</summary>
    public void PublishStatus(SourceStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        QueueLatest(_statuses, status.SourceId, status, _statusSink is not null);
    }

    /// <summary>Queues a source's description for a sink that describes sources; only the latest per source is kept.</summary>
    public void PublishDescription(SourceDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        QueueLatest(_descriptions, description.SourceId, description, _descriptionSink is not null);
    }

    /// <summary>Hands a source's level to a sink that publishes levels; only the latest per source is kept.</summary>
    public void PublishLevel(SourceLevel level)
    {
        ArgumentNullException.ThrowIfNull(level);
        QueueLatest(_levels, level.SourceId, level, _levelSink is not null);
    }

    public SinkPumpState Snapshot()
    {
        lock (_lock)
        {
            return new SinkPumpState(Name, _state, _lastError, _queue.Count + _inFlight.Count, _delivered, _dropped);
        }
    }

    /// <summary>
    /// Stops taking captions, keeps delivering what is queued for up to <c>FlushTimeoutSeconds</c> (less if
    /// <paramref name="cancellationToken"/> fires), then keeps the rest in the journal (with persistence) or counts it
    /// as dropped.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopRequested)
        {
            return;
        }

        _stopRequested = true;
        _doorbell.Writer.TryWrite(true);
        if (_loop is not null)
        {
            _abort.CancelAfter(TimeSpan.FromSeconds(_options.FlushTimeoutSeconds));
            using (cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _abort))
            {
                await _loop.ConfigureAwait(false);
            }
        }

        Finish();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _abort.Dispose();
        try
        {
            await _sink.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A sink that fails to close must not keep the other sinks from closing: logged and left.
            LogDisposeFailed(_logger, ex, Name, ex.Message);
        }
    }

    private async Task RunAsync()
    {
        var abort = _abort.Token;
        var delay = _options.RetryInitialDelay;
        var retrying = false;
        var failed = false;
        var statuses = new List<SourceStatus>();
        var descriptions = new List<SourceDescription>();
        var levels = new List<SourceLevel>();
        try
        {
            while (true)
            {
                ReportDrops(force: false);
                TakeWork(statuses, descriptions, levels);
                if (statuses.Count == 0 && descriptions.Count == 0 && levels.Count == 0 && _inFlight.Count == 0)
                {
                    if (_stopRequested)
                    {
                        return;
                    }

                    await _doorbell.Reader.WaitToReadAsync(abort).ConfigureAwait(false);
                    _doorbell.Reader.TryRead(out _);
                    continue;
                }

                if (failed && _stopRequested)
                {
                    return; // a failed sink gets no flush at shutdown: what is left is kept or counted by Finish
                }

                try
                {
                    await DeliverDescriptionsAsync(descriptions, abort).ConfigureAwait(false);
                    await DeliverStatusesAsync(statuses, abort).ConfigureAwait(false);
                    await DeliverLevelsAsync(levels, abort).ConfigureAwait(false);
                    if (_inFlight.Count > 0)
                    {
                        StampLatency();
                        await _sink.PublishAsync(_batch, abort).ConfigureAwait(false);
                        Delivered();
                    }

                    if (retrying || failed)
                    {
                        retrying = false;
                        failed = false;
                        delay = _options.RetryInitialDelay;
                        SetState(SinkState.Running, null);
                        LogRecovered(_logger, Name);
                    }
                }
                catch (SinkUnavailableException ex)
                {
                    if (!retrying)
                    {
                        retrying = true;
                        LogUnavailable(_logger, Name, ex.Message);
                    }

                    if (!failed)
                    {
                        SetState(SinkState.Retrying, ex.Message);
                    }

                    await WaitBeforeRetryAsync(delay, abort).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RetryMaxDelay.Ticks));
                }
                catch (OperationCanceledException) when (abort.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    // A sink bug or a refusal that retrying soon cannot fix (a 4xx) must not take the daemon or the other
                    // sinks down: the sink is reported as failed, keeps its outbox (bounded), and is tried again on a
                    // slow timer, in case its endpoint is fixed. Counted and logged before the state changes, so whoever
                    // sees Failed also sees the count.
                    _metrics.PluginFailures.Add(1, new KeyValuePair<string, object?>("plugin", Name), new KeyValuePair<string, object?>("kind", "sink"));
                    LogFailed(_logger, ex, Name, ex.Message, _options.FailedRetrySeconds);
                    failed = true;
                    retrying = false;
                    SetState(SinkState.Failed, ex.Message);
                    await Task.Delay(_options.FailedRetryDelay, _time, abort).ConfigureAwait(false);
                    LogRetryingFailed(_logger, Name);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The flush time ran out (or the host gave up waiting): what is left is handled by Finish.
        }
    }

    /// <summary>
    /// Waits <paramref name="delay"/> before the next attempt, or less when the sink says it can deliver again (an MQTT
    /// sink that reconnected): what waits in the outbox goes out as soon as the destination is back.
    /// </summary>
    private async Task WaitBeforeRetryAsync(TimeSpan delay, CancellationToken abort)
    {
        if (_availability is null)
        {
            await Task.Delay(delay, _time, abort).ConfigureAwait(false);
            return;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(abort);
        wait.CancelAfter(delay);
        try
        {
            await _availability.WaitUntilAvailableAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            // The backoff delay ran out first: the next attempt tells.
        }
    }

    /// <summary>
    /// A caption's latency runs from its window's end to its delivery, outbox time included: set as the batch is handed
    /// to the sink (again at every attempt).
    /// </summary>
    private void StampLatency()
    {
        var now = _time.GetUtcNow();
        for (var i = 0; i < _inFlight.Count; i++)
        {
            var caption = _inFlight[i].Caption;
            var latency = now > caption.End ? now - caption.End : TimeSpan.Zero;
            _batch[i] = caption with { Latency = latency };
        }
    }

    /// <summary>Takes the pending statuses, descriptions and levels and, when no batch is in flight, the next batch.</summary>
    private void TakeWork(List<SourceStatus> statuses, List<SourceDescription> descriptions, List<SourceLevel> levels)
    {
        lock (_lock)
        {
            TakeLatest(_statuses, statuses);
            TakeLatest(_descriptions, descriptions);
            TakeLatest(_levels, levels);
            if (_inFlight.Count == 0)
            {
                while (_inFlight.Count < _options.MaxBatch && _queue.TryDequeue(out var entry))
                {
                    _inFlight.Add(entry);
                    _batch.Add(entry.Caption);
                }
            }

        }
    }

    private static void TakeLatest<T>(Dictionary<string, T> pending, List<T> taken)
    {
        taken.Clear();
        if (pending.Count > 0)
        {
            taken.AddRange(pending.Values);
            pending.Clear();
        }
    }

    /// <summary>Keeps <paramref name="item"/> as the latest of its source, for a sink that takes such items.</summary>
    private void QueueLatest<T>(Dictionary<string, T> pending, string sourceId, T item, bool sinkTakesIt)
    {
        if (!sinkTakesIt || _stopRequested)
        {
            return;
        }

        lock (_lock)
        {
            pending[sourceId] = item;
        }

        _doorbell.Writer.TryWrite(true);
    }

    private Task DeliverStatusesAsync(List<SourceStatus> statuses, CancellationToken cancellationToken) =>
        _statusSink is null ? Task.CompletedTask : DeliverLatestAsync(statuses, _statuses, s => s.SourceId, _statusSink.PublishStatusAsync, cancellationToken);

    private Task DeliverDescriptionsAsync(List<SourceDescription> descriptions, CancellationToken cancellationToken) =>
        _descriptionSink is null ? Task.CompletedTask : DeliverLatestAsync(descriptions, _descriptions, d => d.SourceId, _descriptionSink.PublishDescriptionAsync, cancellationToken);

    /// <summary>
    /// Delivers the latest item of each source, in turn. When the sink is unavailable, what was not delivered goes back,
    /// unless a newer item of that source arrived meanwhile, and the exception goes on to the retry loop.
    /// </summary>
    private async Task DeliverLatestAsync<T>(List<T> items, Dictionary<string, T> pending, Func<T, string> sourceOf, Func<T, CancellationToken, Task> deliver, CancellationToken cancellationToken)
    {
        for (var i = 0; i < items.Count; i++)
        {
            try
            {
                await deliver(items[i], cancellationToken).ConfigureAwait(false);
            }
            catch (SinkUnavailableException)
            {
                lock (_lock)
                {
                    for (var j = i; j < items.Count; j++)
                    {
                        pending.TryAdd(sourceOf(items[j]), items[j]);
                    }
                }

                throw;
            }
        }

        items.Clear();
    }

    /// <summary>Levels are the latest only: one that cannot be delivered now is dropped, the next one replaces it.</summary>
    private async Task DeliverLevelsAsync(List<SourceLevel> levels, CancellationToken cancellationToken)
    {
        if (_levelSink is null)
        {
            return;
        }

        foreach (var level in levels)
        {
            await _levelSink.PublishLevelAsync(level, cancellationToken).ConfigureAwait(false);
        }

        levels.Clear();
    }

    private void Delivered()
    {
        var now = _time.GetUtcNow();
        foreach (var entry in _inFlight)
        {
            _metrics.CaptionLatency.Record(Math.Max(0, (now - entry.Caption.End).TotalSeconds), _sinkTag);
        }

        _metrics.CaptionsPublished.Add(_inFlight.Count, _sinkTag);
        if (_journal is null)
        {
            MarkDelivered();
            return;
        }

        lock (_journalLock)
        {
            // Under the journal's lock, so that no caption is appended between "the outbox is empty" and the clear, and
            // the offset is not one of a journal that a rewrite has just replaced.
            var journalEnd = _inFlight[^1].JournalEnd;
            var empty = MarkDelivered();
            JournalCommit(journalEnd, empty);
        }
    }

    /// <returns>True when nothing is left to deliver.</returns>
    private bool MarkDelivered()
    {
        lock (_lock)
        {
            _delivered += _inFlight.Count;
            _inFlight.Clear();
            _batch.Clear();
            return _queue.Count == 0;
        }
    }

    private void SetState(SinkState state, string? error)
    {
        lock (_lock)
        {
            _state = state;
            if (error is not null)
            {
                _lastError = error;
            }
        }
    }

    private void ReportDrops(bool force)
    {
        long count;
        lock (_lock)
        {
            if (_dropsNotReported == 0)
            {
                return;
            }

            if (!force && _time.GetElapsedTime(_lastDropWarning) < _dropWarningInterval)
            {
                return;
            }

            count = _dropsNotReported;
            _dropsNotReported = 0;
            _lastDropWarning = _time.GetTimestamp();
        }

        LogOutboxFull(_logger, Name, count, _options.Outbox.Capacity);
    }

    private void Finish()
    {
        int left;
        lock (_lock)
        {
            left = _inFlight.Count + _queue.Count;
            _inFlight.Clear();
            _batch.Clear();
            _queue.Clear();
            _statuses.Clear();
        }

        var journaled = false;
        lock (_journalLock)
        {
            if (_journal is not null)
            {
                journaled = true;
                _journal.Dispose();
                _journal = null;
            }
        }

        if (journaled)
        {
            if (left > 0)
            {
                LogKeptInJournal(_logger, Name, left);
            }
        }
        else if (left > 0)
        {
            lock (_lock)
            {
                _dropped += left;
            }

            _metrics.OutboxDropped.Add(left, _sinkTag);
            LogLeftAtStop(_logger, Name, left);
        }

        ReportDrops(force: true);
    }

    private void RestoreJournal(string directory)
    {
        try
        {
            _journal = new OutboxJournal(directory);
            var restored = _journal.Load();
            if (_journal.UnreadableLines > 0)
            {
                LogUnreadableJournalLines(_logger, Name, _journal.UnreadableLines);
            }

            if (restored.Count == 0)
            {
                return;
            }

            var dropped = 0;
            lock (_lock)
            {
                foreach (var entry in restored)
                {
                    if (_queue.Count >= _options.Outbox.Capacity)
                    {
                        _queue.Dequeue();
                        dropped++;
                    }

                    _queue.Enqueue(entry);
                }

                _dropped += dropped;
                _dropsNotReported += dropped;
            }

            if (dropped > 0)
            {
                _metrics.OutboxDropped.Add(dropped, _sinkTag);
            }

            LogRestored(_logger, Name, restored.Count);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            DisableJournal(ex);
        }
    }

    /// <summary>Appends one caption to the journal (fsynced); the caller holds <see cref="_journalLock"/>.</summary>
    private void JournalAppend(OutboxEntry entry)
    {
        if (_journal is null)
        {
            return;
        }

        try
        {
            // Bound the file: delivered lines stay in it until everything is delivered, so during a long outage it is
            // rewritten from what is still in the outbox, before the new caption goes after them.
            if (_journal.Lines >= 2L * _options.Outbox.Capacity)
            {
                OutboxEntry[] pending;
                lock (_lock)
                {
                    pending = [.. _inFlight, .. _queue];
                }

                _journal.Rewrite(pending);
            }

            _journal.Append([entry]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            DisableJournal(ex);
        }
    }

    private void JournalCommit(long journalEnd, bool empty)
    {
        if (_journal is null)
        {
            return;
        }

        try
        {
            if (empty)
            {
                _journal.Clear();
            }
            else if (journalEnd > 0)
            {
                _journal.Commit(journalEnd);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            DisableJournal(ex);
        }
    }

    private void DisableJournal(Exception ex)
    {
        // A full or read-only disk must not stop delivery: the outbox goes on in memory only.
        _journal?.Dispose();
        _journal = null;
        lock (_lock)
        {
            _lastError = ex.Message;
        }

        LogJournalFailed(_logger, ex, Name, ex.Message);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink}: outbox full ({Capacity} captions), dropped the {Count} oldest")]
    private static partial void LogOutboxFull(ILogger logger, string sink, long count, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink} is unavailable ({Reason}); captions wait in its outbox and are retried with backoff")]
    private static partial void LogUnavailable(ILogger logger, string sink, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink} is delivering again")]
    private static partial void LogRecovered(ILogger logger, string sink);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink} failed: {Reason}; its captions wait in its outbox and it is tried again in {RetrySeconds} s")]
    private static partial void LogFailed(ILogger logger, Exception exception, string sink, string reason, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink} failed earlier: trying it again")]
    private static partial void LogRetryingFailed(ILogger logger, string sink);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink} failed to close: {Reason}")]
    private static partial void LogDisposeFailed(ILogger logger, Exception exception, string sink, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink}: {Count} captions were still undelivered at shutdown and are lost")]
    private static partial void LogLeftAtStop(ILogger logger, string sink, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink}: {Count} undelivered captions kept in the outbox journal for the next start")]
    private static partial void LogKeptInJournal(ILogger logger, string sink, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink}: restored {Count} undelivered captions from the outbox journal")]
    private static partial void LogRestored(ILogger logger, string sink, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink}: skipped {Count} unreadable lines of the outbox journal")]
    private static partial void LogUnreadableJournalLines(ILogger logger, string sink, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink}: the outbox journal failed ({Reason}); the outbox goes on in memory only")]
    private static partial void LogJournalFailed(ILogger logger, Exception exception, string sink, string reason);
}
