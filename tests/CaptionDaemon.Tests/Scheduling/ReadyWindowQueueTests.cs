using CaptionDaemon.Scheduling;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Tests.Scheduling;

public sealed class ReadyWindowQueueTests : IDisposable
{
    private readonly MetricsRecorder _recorder = new();
    private readonly WindowBufferPool _pool = new(4, 16);
    private readonly ManualTimeProvider _time = new(DateTimeOffset.UnixEpoch);
    private readonly CapturingLogger<ReadyWindowQueue> _logger = new();

    public void Dispose() => _recorder.Dispose();

    [Fact]
    public void Enqueue_FullInDropOldestMode_DropsTheOldestCountsAndReturnsItsBuffer()
    {
        var queue = new ReadyWindowQueue(3, QueueFullMode.DropOldest, _pool, _recorder.Metrics, _logger, _time);

        var windows = Enumerable.Range(0, 5).Select(i => Window(i % 2 == 0 ? "a" : "b", i)).ToArray();
        foreach (var window in windows)
        {
            Assert.True(queue.Enqueue(window));
        }

        Assert.Equal([2L, 3, 4], Drain(queue).Select(w => w.StartSample));
        Assert.Equal(1, _recorder.Sum("captiond.windows.dropped", ("reason", "queue_full"), ("source", "a")));
        Assert.Equal(1, _recorder.Sum("captiond.windows.dropped", ("reason", "queue_full"), ("source", "b")));
        Assert.Equal(2, _pool.Available);
    }

    [Fact]
    public void Enqueue_OneSourceFloods_ItDropsItsOwnWindowsAndTheOtherKeepsItsPlaceAndTurn()
    {
        var queue = new ReadyWindowQueue(8, QueueFullMode.DropOldest, new WindowBufferPool(4, 64), _recorder.Metrics, _logger, _time);

        // The flood fills the whole queue while it is alone, then a real-time source's window arrives, then more flood.
        for (var i = 0; i < 100; i++)
        {
            queue.Enqueue(Window("flood", i, queue.Pool));
        }

        queue.Enqueue(Window("calm", 1000, queue.Pool));
        for (var i = 100; i < 200; i++)
        {
            queue.Enqueue(Window("flood", i, queue.Pool));
        }

        // Bounded by its share: half of the queue once two sources wait.
        Assert.Equal(4, queue.CountOf("flood"));
        Assert.Equal(1, queue.CountOf("calm"));
        // The calm source's window is taken within the first two, however much the flood sent.
        var firstTwo = Drain(queue).Take(2).Select(w => w.SourceId).ToList();
        Assert.Contains("calm", firstTwo);
        Assert.Equal(0, _recorder.Sum("captiond.windows.dropped", ("source", "calm")));
        Assert.Equal(196, _recorder.Sum("captiond.windows.dropped", ("source", "flood")));
    }

    [Fact]
    public void Enqueue_ManyDrops_LogsAtMostEveryTenSeconds()
    {
        var queue = new ReadyWindowQueue(1, QueueFullMode.DropOldest, _pool, _recorder.Metrics, _logger, _time);

        for (var i = 0; i < 20; i++)
        {
            queue.Enqueue(Window("a", i));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Drops at t = 1..19 s: reported at 1 s (the first), 11 s (ten since), and the rest waits for the next report.
        Assert.Equal(19, _recorder.Sum("captiond.windows.dropped"));
        var warnings = _logger.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("Dropped 1 ready", warnings[0].Message, StringComparison.Ordinal);
        Assert.Contains("Dropped 10 ready", warnings[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enqueue_WaitModeWithSlowConsumer_LosesNothingAndKeepsOrder()
    {
        var queue = new ReadyWindowQueue(2, QueueFullMode.Wait, _pool, _recorder.Metrics, _logger, TimeProvider.System);
        var maxCount = 0;
        var producer = Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                queue.Enqueue(Window("file", i));
                maxCount = Math.Max(maxCount, queue.Count);
            }

            queue.Complete();
        });

        var received = new List<long>();
        while (queue.TryDequeue(out var window, TimeSpan.FromSeconds(10), CancellationToken.None))
        {
            received.Add(window.StartSample);
            _pool.Return(window.Samples);
            Thread.SpinWait(1000);
        }

        await producer;
        Assert.True(queue.IsDrained);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), received);
        Assert.InRange(maxCount, 1, 2);
        Assert.Equal(0, _recorder.Sum("captiond.windows.dropped"));
    }

    [Fact]
    public void Enqueue_WaitModeFullAndCancelled_ThrowsAndReturnsTheBuffer()
    {
        var queue = new ReadyWindowQueue(1, QueueFullMode.Wait, _pool, _recorder.Metrics, _logger, TimeProvider.System);
        queue.Enqueue(Window("file", 0));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Throws<OperationCanceledException>(() => queue.Enqueue(Window("file", 1), cancelled.Token));

        Assert.Equal(1, queue.Count);
        Assert.Equal(1, _pool.Available);
    }

    [Fact]
    public void TryDequeue_Completed_TakesWhatIsLeftThenReportsDrained()
    {
        var queue = new ReadyWindowQueue(4, QueueFullMode.DropOldest, _pool, _recorder.Metrics, _logger, TimeProvider.System);
        queue.Enqueue(Window("a", 0));
        queue.Complete();

        Assert.False(queue.Enqueue(Window("a", 1)));
        Assert.True(queue.TryDequeue(out _, Timeout.InfiniteTimeSpan, CancellationToken.None));
        Assert.False(queue.TryDequeue(out _, Timeout.InfiniteTimeSpan, CancellationToken.None));
        Assert.True(queue.IsDrained);
    }

    [Fact]
    public async Task TryDequeue_WaitingAndWoken_ReturnsOnCancellation()
    {
        var queue = new ReadyWindowQueue(4, QueueFullMode.DropOldest, _pool, _recorder.Metrics, _logger, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var consumer = Task.Run(() => queue.TryDequeue(out _, Timeout.InfiniteTimeSpan, stop.Token));

        await stop.CancelAsync();
        queue.WakeConsumer();

        Assert.False(await consumer.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private ReadyWindow Window(string source, long index, WindowBufferPool? pool = null) =>
        new(source, (pool ?? _pool).Rent(), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, index, 0);

    private List<ReadyWindow> Drain(ReadyWindowQueue queue)
    {
        var windows = new List<ReadyWindow>();
        while (queue.TryDequeue(out var window, TimeSpan.Zero, CancellationToken.None))
        {
            windows.Add(window);
        }

        return windows;
    }
}
