using CaptionDaemon.Telemetry;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>
/// The single consumer of the ready queue: on its own long-running thread, waits for a window, gathers up to
/// <c>Scheduler:MaxBatch</c> windows or until <c>Scheduler:MaxWaitMilliseconds</c> after the first was ready, captions
/// them in one batched run and hands each result to its <see cref="ICaptionedWindowHandler"/> (the caption policy).
/// </summary>
/// <remarks>
/// The batch array and the model's input buffer are preallocated; window buffers go back to the pool after every
/// batch. A failed run is logged with the batch's sources and its windows are counted as dropped (reason
/// <c>inference_error</c>); the loop goes on with the next batch. Windows still queued at shutdown are counted as
/// dropped (reason <c>shutdown</c>).
/// </remarks>
internal sealed partial class BatchScheduler : IHostedService, IDisposable
{
    private readonly ReadyWindowQueue _queue;
    private readonly WindowCaptioner _captioner;
    private readonly ICaptionedWindowHandler _handler;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ReadyWindow[] _batch;
    private readonly TimeSpan _maxWait;
    private CancellationTokenSource? _stopping;
    private Task? _loop;
    private long _batches;
    private long _windows;

    public BatchScheduler(
        ReadyWindowQueue queue,
        WindowCaptioner captioner,
        ICaptionedWindowHandler handler,
        IOptions<SchedulerOptions> options,
        DaemonMetrics metrics,
        ILogger<BatchScheduler> logger,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _queue = queue;
        _captioner = captioner;
        _handler = handler;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _batch = new ReadyWindow[Math.Min(options.Value.MaxBatch, captioner.MaxBatch)];
        _maxWait = TimeSpan.FromMilliseconds(options.Value.MaxWaitMilliseconds);
    }

    /// <summary>Batched runs that finished (failed ones included).</summary>
    public long BatchesRun => Interlocked.Read(ref _batches);

    /// <summary>Windows captioned successfully.</summary>
    public long WindowsCaptioned => Interlocked.Read(ref _windows);

    /// <summary>Starts the inference thread.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The batch scheduler is already running.");
        }

        _stopping = new CancellationTokenSource();
        var token = _stopping.Token;
        _loop = Task.Factory.StartNew(() => RunUntilStopped(token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>Stops the inference thread (a run in progress is cancelled between decoder steps).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null || _loop is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _queue.WakeConsumer();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stopping?.Dispose();

    /// <summary>
    /// Runs the loop on the calling thread until <paramref name="cancellationToken"/> is cancelled or the queue is
    /// completed and drained. For offline captioning, which owns its queue and thread; the daemon uses
    /// <see cref="StartAsync"/>.
    /// </summary>
    public void Run(CancellationToken cancellationToken)
    {
        using var wake = cancellationToken.UnsafeRegister(static q => ((ReadyWindowQueue)q!).WakeConsumer(), _queue);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!_queue.TryDequeue(out var first, Timeout.InfiniteTimeSpan, cancellationToken))
            {
                if (_queue.IsDrained)
                {
                    return;
                }

                continue;
            }

            _batch[0] = first;
            var count = 1;
            while (count < _batch.Length)
            {
                // The wait counts from when the first window was ready: a window that already waited in a backlog
                // goes out with whatever else is queued, without further delay.
                var left = _maxWait - _timeProvider.GetElapsedTime(first.ReadyTimestamp);
                if (!_queue.TryDequeue(out var next, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken))
                {
                    break;
                }

                _batch[count++] = next;
            }

            RunBatch(_batch.AsSpan(0, count), cancellationToken);
        }
    }

    private static string Sources(ReadOnlySpan<ReadyWindow> windows)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var window in windows)
        {
            ids.Add(window.SourceId);
        }

        return string.Join(", ", ids);
    }

    private void RunUntilStopped(CancellationToken cancellationToken)
    {
        try
        {
            Run(cancellationToken);
        }
        catch (Exception e)
        {
            // A bug in the loop itself: say so loudly; the host's health check sees captions stop.
            LogLoopFailed(_logger, e);
        }
        finally
        {
            // Windows still queued when the daemon stops are lost; count them rather than lose them silently.
            while (_queue.TryDequeue(out var left, TimeSpan.Zero, CancellationToken.None))
            {
                _metrics.WindowsDropped.Add(1, new("reason", "shutdown"), new("source", left.SourceId));
                _queue.Pool.Return(left.Samples);
            }
        }
    }

    private void RunBatch(Span<ReadyWindow> windows, CancellationToken cancellationToken)
    {
        try
        {
            CaptionedBatch captioned;
            try
            {
                captioned = _captioner.Caption(windows, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                CountDropped(windows, "shutdown");
                return;
            }
            catch (Exception e)
            {
                // One failed run (a runtime error, a bundle disposed under us) must not stop the captioning of later windows.
                LogInferenceFailed(_logger, e, windows.Length, Sources(windows));
                CountDropped(windows, "inference_error");
                return;
            }
            finally
            {
                Interlocked.Increment(ref _batches);
            }

            _metrics.InferenceDuration.Record(captioned.Duration.TotalSeconds);
            _metrics.BatchSize.Record(windows.Length);
            for (var i = 0; i < windows.Length; i++)
            {
                _metrics.WindowsProcessed.Add(1, new KeyValuePair<string, object?>("source", windows[i].SourceId));
                Interlocked.Increment(ref _windows);
                try
                {
                    _handler.OnCaptioned(windows[i], captioned.Results[i], captioned.Model, captioned.RecommendedMinConfidence, captioned.Labels);
                }
                catch (Exception e)
                {
                    // A failing policy or outlet must not cost the other windows of the batch their captions.
                    LogHandlerFailed(_logger, e, windows[i].SourceId);
                }
            }
        }
        finally
        {
            for (var i = 0; i < windows.Length; i++)
            {
                _queue.Pool.Return(windows[i].Samples);
                windows[i] = default;
            }
        }
    }

    private void CountDropped(ReadOnlySpan<ReadyWindow> windows, string reason)
    {
        foreach (var window in windows)
        {
            _metrics.WindowsDropped.Add(1, new("reason", reason), new("source", window.SourceId));
        }
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "Inference failed for a batch of {Windows} window(s) from {Sources}; the windows are dropped and captioning goes on")]
    private static partial void LogInferenceFailed(ILogger logger, Exception exception, int windows, string sources);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "Handing on the caption of a window of {SourceId} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string sourceId);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Critical, Message = "The batch scheduler stopped on an unexpected error; no more captions will be produced")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
