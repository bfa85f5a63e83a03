using CaptionDaemon.Contracts;
using CaptionDaemon.Sinks;
using CaptionDaemon.Tests.Mqtt;
using Xunit.Abstractions;

namespace CaptionDaemon.Tests.Sinks;

public sealed class SinkPumpTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan _wait = TimeSpan.FromSeconds(20);
    private readonly MetricsProbe _probe = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("captiond-outbox-").FullName;

    [Fact]
    public async Task Publish_ManyCaptions_DeliveredInOrderInBatchesOfAtMostMaxBatch()
    {
        var sink = new RecordingSink("ordered");
        await using var pump = Pump(sink, new SinkPumpOptions { MaxBatch = 4 });
        for (var i = 1; i <= 10; i++)
        {
            pump.Publish(Captions.Make(i));
        }

        pump.Start();
        for (var i = 11; i <= 20; i++)
        {
            pump.Publish(Captions.Make(i));
        }

        // The pump's own count, not the sink's: the sink has a batch before the pump counts it as delivered.
        await Poll.UntilAsync(() => pump.Snapshot().Delivered == 20, _wait, "20 captions");
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), sink.Sequences);
        Assert.All(sink.Batches, b => Assert.InRange(b.Count, 1, 4));
        Assert.Equal(4, sink.Batches[0].Count); // queued before Start: a full batch
        Assert.Equal(20, _probe.Sum("captiond.captions.published", ("sink", "ordered")));
        Assert.Equal(20, _probe.Count("captiond.caption.latency", ("sink", "ordered")));
        Assert.Equal(20, pump.Snapshot().Delivered);
    }

    [Fact]
    public async Task Publish_OutboxFull_DropsOldestAndCountsThem()
    {
        var sink = new RecordingSink("small");
        await using var pump = Pump(sink, new SinkPumpOptions { Outbox = { Capacity = 5 } });

        for (var i = 1; i <= 12; i++)
        {
            pump.Publish(Captions.Make(i));
        }

        Assert.Equal(7, pump.Snapshot().Dropped);
        Assert.Equal(5, pump.Depth);
        Assert.Equal(7, _probe.Sum("captiond.sink.outbox.dropped", ("sink", "small")));
        pump.Start();
        await Poll.UntilAsync(() => sink.Sequences.Count == 5, _wait, "the 5 newest captions");
        Assert.Equal([8L, 9, 10, 11, 12], sink.Sequences);
    }

    [Fact]
    public async Task PublishAsync_UnavailableThreeTimes_SameBatchRetriedThenRunningAgain()
    {
        var sink = new RecordingSink("flaky") { FailNext = 3 };
        await using var pump = Pump(sink, new SinkPumpOptions { MaxBatch = 3 });
        for (var i = 1; i <= 3; i++)
        {
            pump.Publish(Captions.Make(i));
        }

        pump.Start();
        await Poll.UntilAsync(() => pump.Snapshot().State == SinkState.Retrying || sink.Sequences.Count > 0, _wait, "retrying");
        for (var i = 4; i <= 10; i++)
        {
            pump.Publish(Captions.Make(i));
        }

        await Poll.UntilAsync(() => pump.Snapshot().Delivered == 10, _wait, "10 captions");
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), sink.Sequences);
        Assert.Equal([1L, 2, 3], sink.Batches[0].Select(c => c.Sequence));
        var state = pump.Snapshot();
        Assert.Equal(SinkState.Running, state.State);
        Assert.Equal("flaky is down", state.LastError);
        Assert.True(sink.Attempts >= 4 + 1);
    }

    [Fact]
    public async Task PublishAsync_SinkThrows_SinkFailedCountedReportedAndNotRetriedBeforeItsTimer()
    {
        var sink = new RecordingSink("buggy") { Broken = new InvalidOperationException("index out of range in the sink") };
        await using var pump = Pump(sink, new SinkPumpOptions());
        pump.Start();

        pump.Publish(Captions.Make(1));

        await Poll.UntilAsync(() => pump.Snapshot().State == SinkState.Failed, _wait, "the sink disabled");
        Assert.Equal("index out of range in the sink", pump.Snapshot().LastError);
        Assert.Equal(1, _probe.Sum("captiond.plugin.failures", ("plugin", "buggy"), ("kind", "sink")));
        pump.Publish(Captions.Make(2));
        Assert.Equal(1, sink.Attempts);
    }

    [Fact]
    public async Task PublishAsync_FailedSinkFixedLater_TriedAgainOnTheSlowTimerAndDeliversWhatWaited()
    {
        var sink = new RecordingSink("hook") { Broken = new InvalidOperationException("403 Forbidden") };
        await using var pump = Pump(sink, new SinkPumpOptions { FailedRetrySeconds = 1 });
        pump.Start();
        pump.Publish(Captions.Make(1));
        await Poll.UntilAsync(() => pump.Snapshot().State == SinkState.Failed, _wait, "the sink failed");

        // Captions keep waiting in the (bounded) outbox while it is failed; then its endpoint is fixed.
        pump.Publish(Captions.Make(2));
        sink.Broken = null;

        await Poll.UntilAsync(() => sink.Sequences.Count == 2, _wait, "both captions delivered after the retry");
        Assert.Equal([1L, 2], sink.Sequences);
        Assert.Equal(SinkState.Running, pump.Snapshot().State);
        Assert.Equal(1, _probe.Sum("captiond.plugin.failures", ("plugin", "hook"), ("kind", "sink")));
    }

    [Fact]
    public async Task PublishStatus_SeveralPerSource_OnlyTheLatestOfEachDelivered()
    {
        var sink = new RecordingSink("states");
        await using var pump = Pump(sink, new SinkPumpOptions());
        pump.PublishStatus(new SourceStatus("a", SourceState.Starting, null, DateTimeOffset.UtcNow));
        pump.PublishStatus(new SourceStatus("a", SourceState.Online, null, DateTimeOffset.UtcNow));
        pump.PublishStatus(new SourceStatus("b", SourceState.Error, "gone", DateTimeOffset.UtcNow));

        pump.Start();

        await Poll.UntilAsync(() => sink.Statuses.Count == 2, _wait, "2 states");
        Assert.Equal([("a", SourceState.Online), ("b", SourceState.Error)], sink.Statuses.Select(s => (s.SourceId, s.State)).Order());
    }

    [Fact]
    public async Task StopAsync_UnavailableWithoutPersistence_LeftoverCountedAsDropped()
    {
        var sink = new RecordingSink("down") { Unavailable = true };
        var pump = Pump(sink, new SinkPumpOptions { FlushTimeoutSeconds = 0.2 });
        pump.Start();
        for (var i = 1; i <= 5; i++)
        {
            pump.Publish(Captions.Make(i));
        }

        await pump.DisposeAsync();

        Assert.Equal(5, pump.Snapshot().Dropped);
        Assert.Equal(5, _probe.Sum("captiond.sink.outbox.dropped", ("sink", "down")));
        Assert.True(sink.Disposed);
    }

    [Fact]
    public async Task Persist_StoppedDuringOutage_NextPumpDeliversEverythingInOrderThenCompacts()
    {
        var options = new SinkPumpOptions { FlushTimeoutSeconds = 0.2, Outbox = { Persist = true } };
        var down = new RecordingSink("durable") { Unavailable = true };
        var first = Pump(down, options);
        first.Start();
        for (var i = 1; i <= 10; i++)
        {
            first.Publish(Captions.Make(i));
        }

        await Poll.UntilAsync(() => down.Attempts > 0, _wait, "a delivery attempt");
        await first.DisposeAsync();
        Assert.Equal(0, first.Snapshot().Dropped);

        var up = new RecordingSink("durable");
        var second = Pump(up, options);
        second.Start();
        second.Publish(Captions.Make(11));
        await Poll.UntilAsync(() => up.Sequences.Count == 11, _wait, "11 captions");
        await second.DisposeAsync();

        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), up.Sequences);
        Assert.Equal(0, new FileInfo(Path.Combine(_directory, "outbox.jsonl")).Length);
        var third = new RecordingSink("durable");
        await using var again = Pump(third, options);
        again.Start();
        Assert.Equal(0, again.Depth);
    }

    [Fact]
    public async Task Persist_OverflowDuringOutage_JournalKeepsOnlyTheNewest()
    {
        var options = new SinkPumpOptions { FlushTimeoutSeconds = 0.2, Outbox = { Persist = true, Capacity = 5 } };
        var first = Pump(new RecordingSink("bounded") { Unavailable = true }, options);
        for (var i = 1; i <= 30; i++)
        {
            first.Publish(Captions.Make(i));
        }

        first.Start();
        await first.DisposeAsync();
        Assert.Equal(25, first.Snapshot().Dropped);
        Assert.True(File.ReadAllLines(Path.Combine(_directory, "outbox.jsonl")).Length <= 2 * 5);

        var up = new RecordingSink("bounded");
        await using var second = Pump(up, options);
        second.Start();
        await Poll.UntilAsync(() => up.Sequences.Count == 5, _wait, "5 captions");
        Assert.Equal([26L, 27, 28, 29, 30], up.Sequences);
    }

    [Fact]
    public async Task Persist_SinkDownAndRetrying_EveryPublishedCaptionIsInTheJournalWhenPublishReturns()
    {
        // The captions published while the pump sleeps between retries were in memory only before (issue 16).
        var options = new SinkPumpOptions { Outbox = { Persist = true } };
        var down = new RecordingSink("down") { Unavailable = true };
        await using var pump = Pump(down, options);
        options.RetryInitialDelay = TimeSpan.FromSeconds(30);
        options.RetryMaxDelay = TimeSpan.FromSeconds(30);
        pump.Start();
        pump.Publish(Captions.Make(1));
        await Poll.UntilAsync(() => pump.Snapshot().State == SinkState.Retrying, _wait, "retrying");
        for (var i = 2; i <= 6; i++)
        {
            pump.Publish(Captions.Make(i));
            // Read by another handle at once, as a restarted daemon would.
            using var journal = new OutboxJournal(Path.Combine(_directory, "copy-" + i));
            File.Copy(Path.Combine(_directory, "outbox.jsonl"), Path.Combine(_directory, "copy-" + i, "outbox.jsonl"));
            Assert.Equal(Enumerable.Range(1, i).Select(n => (long)n), journal.Load().Select(e => e.Caption.Sequence));
        }
    }

    [Fact]
    public async Task Publish_CaptionWaitsInTheOutbox_LatencyIncludesTheWait()
    {
        var sink = new RecordingSink("late") { Unavailable = true };
        await using var pump = Pump(sink, new SinkPumpOptions());
        var end = DateTimeOffset.UtcNow;
        pump.Publish(new Caption("kitchen", 1, end.AddSeconds(-10), end, "a dog barks", 0.9, "m", TimeSpan.Zero));
        pump.Start();
        await Task.Delay(1500);
        sink.Unavailable = false;
        await Poll.UntilAsync(() => sink.Sequences.Count == 1, _wait, "the caption");
        Assert.InRange(sink.Batches[0][0].Latency.TotalMilliseconds, 1400, 20_000);
    }

    [Fact]
    public async Task Publish_SinkSaysItIsAvailableAgain_DeliveredBeforeTheBackoffEnds()
    {
        var sink = new WakingSink();
        var options = new SinkPumpOptions();
        await using var pump = new SinkPump(sink, options, _directory, _probe.Metrics, new XunitLogger(output, "pump"));
        options.RetryInitialDelay = TimeSpan.FromSeconds(60);
        options.RetryMaxDelay = TimeSpan.FromSeconds(60);
        pump.Start();
        pump.Publish(Captions.Make(1));
        await Poll.UntilAsync(() => pump.Snapshot().State == SinkState.Retrying, _wait, "retrying");
        var back = System.Diagnostics.Stopwatch.StartNew();
        sink.ComeBack();
        await Poll.UntilAsync(() => pump.Snapshot().Delivered == 1, _wait, "delivery after the sink came back");
        Assert.True(back.Elapsed < TimeSpan.FromSeconds(5), $"delivered {back.Elapsed} after the sink came back");
    }

    public void Dispose()
    {
        _probe.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Unavailable until <see cref="ComeBack"/>, which also tells a waiting pump (as the MQTT sink does on reconnecting).</summary>
    private sealed class WakingSink : ICaptionSink, ISinkAvailability
    {
        private readonly TaskCompletionSource _back = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "waking";

        public void ComeBack() => _back.TrySetResult();

        public Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken) =>
            _back.Task.IsCompleted ? Task.CompletedTask : throw new SinkUnavailableException("down");

        public Task WaitUntilAvailableAsync(CancellationToken cancellationToken) => _back.Task.WaitAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private SinkPump Pump(RecordingSink sink, SinkPumpOptions options)
    {
        options.RetryInitialDelay = TimeSpan.FromMilliseconds(10);
        options.RetryMaxDelay = TimeSpan.FromMilliseconds(50);
        return new SinkPump(sink, options, _directory, _probe.Metrics, new XunitLogger(output, "pump"));
    }
}
