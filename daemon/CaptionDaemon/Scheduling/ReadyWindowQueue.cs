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
/// The bounded queue between the windowers (many producers, one per source) and the batch scheduler (one consumer),
/// fair between sources: each source has its own lane, windows are taken from the lanes in turn, and no source holds
/// more than its share of the queue (the capacity divided among the sources that have windows waiting, rounded up).
/// </summary>
/// <remarks>
/// In <see cref="QueueFullMode.DropOldest"/> mode a source at its share drops its own oldest window (reason
/// <c>source_share</c>), and a full queue drops the oldest window of the source holding the most (reason
/// <c>queue_full</c>): a flooding source loses its own windows, and the others keep their place and their latency.
/// When inference falls behind, the freshest audio is the most useful to caption. Each drop returns the buffer to the
/// pool, counts <c>captiond.windows.dropped</c> (reason, source) and is logged at most every 10 s. Lanes hold windows by
/// value, so queueing allocates nothing once each lane has grown to its share.
/// </remarks>
internal sealed partial class ReadyWindowQueue
{
    private static readonly TimeSpan _dropLogInterval = TimeSpan.FromSeconds(10);

    private readonly int _capacity;
    private readonly Dictionary<string, Queue<ReadyWindow>> _lanesById = new(StringComparer.Ordinal);
    private readonly List<Queue<ReadyWindow>> _lanes = [];
    private readonly object _lock = new(); // a monitor: producers and the consumer wait on it
    private readonly WindowBufferPool _pool;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private int _nextLane;
    private int _activeLanes;
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
        _capacity = capacity;
        Mode = mode;
        _pool = pool;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    /// <summary>Windows the queue holds at most.</summary>
    public int Capacity => _capacity;

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

    /// <summary>Windows of <paramref name="sourceId"/> waiting now.</summary>
    public int CountOf(string sourceId)
    {
        lock (_lock)
        {
            return _lanesById.TryGetValue(sourceId, out var lane) ? lane.Count : 0;
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
        string? lastDropped = null;
        string? reason = null;
        long dropsToLog = 0;
        lock (_lock)
        {
            while (!_completed && _count == _capacity && Mode == QueueFullMode.Wait)
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

            var lane = Lane(window.SourceId);
            if (Mode == QueueFullMode.DropOldest)
            {
                var sharing = _activeLanes + (lane.Count == 0 ? 1 : 0);
                var share = (_capacity + sharing - 1) / sharing;
                // A source over its share (which shrinks as other sources queue windows) goes down to it at once.
                while (lane.Count >= share)
                {
                    lastDropped = Drop(lane, reason = "source_share");
                }

                if (_count == _capacity)
                {
                    lastDropped = Drop(Largest(), reason = "queue_full");
                }

                if (lastDropped is not null)
                {
                    var now = _timeProvider.GetTimestamp();
                    if (!_droppedBefore || _timeProvider.GetElapsedTime(_lastDropLog, now) >= _dropLogInterval)
                    {
                        dropsToLog = _dropsSinceLog;
                        _dropsSinceLog = 0;
                        _lastDropLog = now;
                        _droppedBefore = true;
                    }
                }
            }

            if (lane.Count == 0)
            {
                _activeLanes++;
            }

            lane.Enqueue(window);
            _count++;
            if (_consumerWaiting > 0 || Mode == QueueFullMode.Wait)
            {
                Monitor.PulseAll(_lock);
            }
        }

        if (dropsToLog > 0)
        {
            LogDropped(_logger, dropsToLog, _capacity, lastDropped!, reason!);
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

            window = TakeNextInTurn();
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

    private Queue<ReadyWindow> Lane(string sourceId)
    {
        if (!_lanesById.TryGetValue(sourceId, out var lane))
        {
            lane = new Queue<ReadyWindow>();
            _lanesById.Add(sourceId, lane);
            _lanes.Add(lane);
        }

        return lane;
    }

    private Queue<ReadyWindow> Largest()
    {
        var largest = _lanes[0];
        foreach (var lane in _lanes)
        {
            if (lane.Count > largest.Count)
            {
                largest = lane;
            }
        }

        return largest;
    }

    /// <summary>The oldest window of the next lane in turn that has one; the caller holds the lock and knows one waits.</summary>
    private ReadyWindow TakeNextInTurn()
    {
        for (var i = 0; i < _lanes.Count; i++)
        {
            var lane = _lanes[(_nextLane + i) % _lanes.Count];
            if (lane.Count > 0)
            {
                _nextLane = (_nextLane + i + 1) % _lanes.Count;
                return Take(lane);
            }
        }

        throw new InvalidOperationException("The ready queue counted a window that no lane holds.");
    }

    /// <summary>Drops the lane's oldest window: its buffer back to the pool, counted; the caller holds the lock.</summary>
    /// <returns>The window's source.</returns>
    private string Drop(Queue<ReadyWindow> lane, string reason)
    {
        var dropped = Take(lane);
        _pool.Return(dropped.Samples);
        _dropsSinceLog++;
        _metrics.WindowsDropped.Add(1, new("reason", reason), new("source", dropped.SourceId));
        return dropped.SourceId;
    }

    private ReadyWindow Take(Queue<ReadyWindow> lane)
    {
        var window = lane.Dequeue();
        _count--;
        if (lane.Count == 0)
        {
            _activeLanes--;
        }

        return window;
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
        Message = "Dropped {Dropped} ready window(s) since the last report (queue of {Capacity}; latest from source {SourceId}, reason {Reason}: source_share = the source had its share of the queue, queue_full = inference is behind)")]
    private static partial void LogDropped(ILogger logger, long dropped, int capacity, string sourceId, string reason);
}
