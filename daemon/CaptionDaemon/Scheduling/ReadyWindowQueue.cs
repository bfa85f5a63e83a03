using CaptionDaemon.Telemetry;
using CaptionDaemon.Windowing;

namespace CaptionDaemon.Scheduling;

/// <summary>What <see cref="ReadyWindowQueue.Enqueue"/> does when the queue is full.</summary>
internal enum QueueFullMode
{
    /// <summary>The daemon: drop the oldest ready window (counted, logged) so that capture never waits for inference.</summary>
    DropOldest,

    /// <summary>Offline captioning: the producer waits for room, so that no window is lost.</summary>
    Wait,
}

/// <summary>
/// The bounded queue between the windowers (many producers, one per source) and the batch scheduler (one consumer).
/// Holds windows by value in a preallocated ring, so queueing allocates nothing.
/// </summary>
/// <remarks>
/// In <see cref="QueueFullMode.DropOldest"/> mode a full queue drops its oldest window: when inference falls behind,
/// the freshest audio is the most useful to caption. Each drop returns the buffer to the pool, counts
/// <c>captiond.windows.dropped</c> (reason <c>queue_full</c>, source) and is logged at most every 10 s.
/// </remarks>
internal sealed partial class ReadyWindowQueue
{
    private static readonly TimeSpan _dropLogInterval = TimeSpan.FromSeconds(10);

    private readonly ReadyWindow[] _items;
    private readonly object _lock = new(); // a monitor: producers and the consumer wait on it
    private readonly WindowBufferPool _pool;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private int _head;
    private int _count;
    private bool _completed;
    private int _consumerWaiting;
    private long _dropsSinceLog;
    private long _lastDropLog;
    private bool _droppedBefore;

    public ReadyWindowQueue(int capacity, QueueFullMode mode, WindowBufferPool pool, DaemonMetrics metrics, ILogger logger, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _items = new ReadyWindow[capacity];
        Mode = mode;
        _pool = pool;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    /// <summary>Windows the queue holds at most.</summary>
    public int Capacity => _items.Length;

    /// <summary>What happens when the queue is full.</summary>
    public QueueFullMode Mode { get; }

    /// <summary>Windows waiting now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>True once <see cref="Complete"/> was called and every window was taken.</summary>
    public bool IsDrained
    {
        get
        {
            lock (_lock)
            {
                return _completed && _count == 0;
            }
        }
    }

    /// <summary>The pool the windows' buffers go back to.</summary>
    public WindowBufferPool Pool => _pool;

    /// <summary>
    /// Adds a window; the queue owns its buffer from now on. Never blocks in <see cref="QueueFullMode.DropOldest"/> mode;
    /// waits for room in <see cref="QueueFullMode.Wait"/> mode.
    /// </summary>
    /// <returns>False when the queue was completed (the buffer went back to the pool).</returns>
    /// <exception cref="OperationCanceledException">Waiting for room was cancelled (the buffer went back to the pool).</exception>
    public bool Enqueue(in ReadyWindow window, CancellationToken cancellationToken = default)
    {
        ReadyWindow dropped = default;
        long dropsToLog = 0;
        lock (_lock)
        {
            while (!_completed && _count == _items.Length && Mode == QueueFullMode.Wait)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    _pool.Return(window.Samples);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                // Short waits so that cancellation is noticed without a registration per wait.
                Monitor.Wait(_lock, 50);
            }

            if (_completed)
            {
                _pool.Return(window.Samples);
                return false;
            }

            if (_count == _items.Length)
            {
                dropped = _items[_head];
                _items[_head] = default;
                _head = (_head + 1) % _items.Length;
                _count--;
                _dropsSinceLog++;
                var now = _timeProvider.GetTimestamp();
                if (!_droppedBefore || _timeProvider.GetElapsedTime(_lastDropLog, now) >= _dropLogInterval)
                {
                    dropsToLog = _dropsSinceLog;
                    _dropsSinceLog = 0;
                    _lastDropLog = now;
                    _droppedBefore = true;
                }
            }

            _items[(_head + _count) % _items.Length] = window;
            _count++;
            if (_consumerWaiting > 0 || Mode == QueueFullMode.Wait)
            {
                Monitor.PulseAll(_lock);
            }
        }

        if (dropped.Samples is not null)
        {
            _pool.Return(dropped.Samples);
            _metrics.WindowsDropped.Add(1, new("reason", "queue_full"), new("source", dropped.SourceId));
            if (dropsToLog > 0)
            {
                LogDropped(_logger, dropsToLog, _items.Length, dropped.SourceId);
            }
        }

        return true;
    }

    /// <summary>Takes the oldest window, waiting up to <paramref name="timeout"/> for one.</summary>
    /// <param name="window">The window; the caller owns its buffer and returns it to <see cref="Pool"/>.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until a window, completion or cancellation.</param>
    /// <param name="cancellationToken">Stops the wait (call <see cref="WakeConsumer"/> when it is cancelled).</param>
    /// <returns>False on time-out, on cancellation, or when the queue is drained.</returns>
    public bool TryDequeue(out ReadyWindow window, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        lock (_lock)
        {
            while (_count == 0)
            {
                if (_completed || cancellationToken.IsCancellationRequested)
                {
                    window = default;
                    return false;
                }

                int wait;
                if (timeout == Timeout.InfiniteTimeSpan)
                {
                    wait = Timeout.Infinite;
                }
                else
                {
                    var left = timeout - _timeProvider.GetElapsedTime(started);
                    if (left <= TimeSpan.Zero)
                    {
                        window = default;
                        return false;
                    }

                    wait = (int)Math.Ceiling(left.TotalMilliseconds);
                }

                _consumerWaiting++;
                try
                {
                    Monitor.Wait(_lock, wait);
                }
                finally
                {
                    _consumerWaiting--;
                }
            }

            window = _items[_head];
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            _count--;
            if (Mode == QueueFullMode.Wait)
            {
                Monitor.PulseAll(_lock);
            }

            return true;
        }
    }

    /// <summary>No more windows will come: the consumer takes what is left, then <see cref="TryDequeue"/> returns false.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Wakes a waiting consumer so that it sees its cancellation.</summary>
    public void WakeConsumer()
    {
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
        Message = "Inference is behind: dropped {Dropped} oldest ready window(s) since the last report (queue of {Capacity} full; latest from source {SourceId})")]
    private static partial void LogDropped(ILogger logger, long dropped, int capacity, string sourceId);
}
