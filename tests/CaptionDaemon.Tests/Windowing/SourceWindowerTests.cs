using System.Diagnostics.Metrics;
using CaptionDaemon.Contracts;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Tests.Scheduling;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionDaemon.Tests.Windowing;

public sealed class SourceWindowerTests : IDisposable
{
    private static readonly DateTimeOffset _t0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ModelAudio _model = new(16000, 16000, 8000, 16000); // 1 s windows every 0.5 s

    private readonly MetricsRecorder _recorder = new();
    private readonly WindowBufferPool _pool = new(_model.WindowSamples, 64);

    public void Dispose() => _recorder.Dispose();

    [Fact]
    public void Append_48kStereoWithOneTimestamp_QueuesWindowsOnTheSourceTimeline()
    {
        var queue = Queue(64);
        var windower = Windower("porch", new AudioFormat(48000, 2), queue, new SilenceGate(-70));
        var audio = ResamplerTests.Sine(440, 0.5, 48000, 48000 * 3, channels: 2);

        for (var offset = 0; offset < audio.Length; offset += 2 * 1000)
        {
            windower.Append(audio.AsSpan(offset, Math.Min(2000, audio.Length - offset)), offset == 0 ? _t0 : null);
        }

        // The resampler's look-ahead holds back the last few milliseconds until the stream ends.
        Assert.Equal(4, queue.Count);
        windower.Complete();

        var windows = Drain(queue);
        Assert.Equal(5, windows.Count);
        for (var k = 0; k < windows.Count; k++)
        {
            Assert.Equal("porch", windows[k].SourceId);
            Assert.Equal(_t0 + TimeSpan.FromSeconds(0.5 * k), windows[k].Start);
            Assert.Equal(windows[k].Start + TimeSpan.FromSeconds(1), windows[k].End);
            Assert.Equal(8000L * k, windows[k].StartSample);
            Assert.InRange(SilenceGate.RmsDbfs(windows[k].Samples), -9.1, -8.9); // the 0.5 sine: 20 log10(0.5 / sqrt 2)
        }
    }

    [Fact]
    public void Append_LiveBurstOfTwentySecondsAtOnce_NoWindowDatedAfterItsAudioArrived()
    {
        // A TCP sender that sends 20 s at once after a 1 s chunk; the clock stands still: the audio all arrived now.
        var time = new ManualTimeProvider(_t0);
        var queue = new ReadyWindowQueue(64, QueueFullMode.DropOldest, _pool, _recorder.Metrics, NullLogger.Instance, time);
        var windower = new SourceWindower("porch", new AudioFormat(16000, 1), _model, new SilenceGate(-70), queue, _pool, _recorder.Metrics, time) { LiveClock = true };
        var audio = ResamplerTests.Sine(440, 0.5, 16000, 16000 * 21, channels: 1);

        windower.Append(audio.AsSpan(0, 16000), null);
        time.Advance(TimeSpan.FromSeconds(1));
        for (var offset = 16000; offset < audio.Length; offset += 1600)
        {
            windower.Append(audio.AsSpan(offset, 1600), offset == 16000 ? time.GetUtcNow() - TimeSpan.FromSeconds(0.1) : null);
        }

        var windows = Drain(queue);
        Assert.True(windows.Count >= 30, $"{windows.Count} windows");
        Assert.All(windows, w => Assert.True(w.End <= time.GetUtcNow(), $"a window ends at {w.End:O}, after now {time.GetUtcNow():O}"));
        // Time never runs backwards from one window to the next.
        Assert.All(windows.Zip(windows.Skip(1)), p => Assert.True(p.Second.End >= p.First.End));
    }

    [Fact]
    public void Append_OfflineFileFasterThanRealTime_KeepsItsOwnTimeline()
    {
        // Offline captioning (no live clock) dates by the file's own timeline, ahead of the clock by design.
        var queue = Queue(64);
        var windower = Windower("file", new AudioFormat(16000, 1), queue, new SilenceGate(-70));
        windower.Append(ResamplerTests.Sine(440, 0.5, 16000, 16000 * 4, channels: 1), _t0);

        var windows = Drain(queue);
        Assert.Equal(_t0 + TimeSpan.FromSeconds(0.5 * (windows.Count - 1)) + TimeSpan.FromSeconds(1), windows[^1].End);
    }

    [Fact]
    public void Complete_StreamShorterThanAWindow_QueuesOneZeroPaddedWindow()
    {
        var queue = Queue(8);
        var windower = Windower("doorbell", new AudioFormat(44100, 1), queue, new SilenceGate(null));
        windower.Append(ResamplerTests.Sine(1000, 0.5, 44100, 13230, channels: 1), _t0); // 0.3 s

        Assert.Equal(0, queue.Count);
        windower.Complete();

        var window = Assert.Single(Drain(queue));
        Assert.Equal(_t0, window.Start);
        Assert.Equal(_t0 + TimeSpan.FromSeconds(0.3), window.End);
        Assert.InRange(SilenceGate.RmsDbfs(window.Samples.AsSpan(100, 4600)), -9.1, -8.9);
        Assert.All(window.Samples.AsSpan(4801).ToArray(), s => Assert.Equal(0f, s));
    }

    [Fact]
    public void Complete_StreamOfAWindowOrMore_AddsNoPaddedWindow()
    {
        var queue = Queue(8);
        var windower = Windower("hall", AudioFormat.Mono16k, queue, new SilenceGate(null));
        windower.Append(ResamplerTests.Sine(1000, 0.5, 16000, 20000, channels: 1), _t0);

        windower.Complete();

        Assert.Single(Drain(queue));
    }

    [Fact]
    public void Append_SilentAudio_CountsWindowsAsSilentAndQueuesNone()
    {
        var queue = Queue(8);
        var windower = Windower("cellar", AudioFormat.Mono16k, queue, new SilenceGate(-70));

        windower.Append(new float[16000 * 2], _t0);

        Assert.Equal(0, queue.Count);
        Assert.Equal(3, windower.WindowsSilent);
        Assert.Equal(3, _recorder.Sum("captiond.windows.silent", ("source", "cellar")));
    }

    [Fact]
    public void Append_SteadyStateWithDrops_AllocatesNothing()
    {
        // Metrics nobody listens to, as in a daemon without an exporter (the recorder's own callback allocates).
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new DaemonMetrics(services.GetRequiredService<IMeterFactory>());
        var queue = new ReadyWindowQueue(4, QueueFullMode.DropOldest, _pool, metrics, NullLogger.Instance, TimeProvider.System);
        var windower = new SourceWindower("street", new AudioFormat(48000, 2), _model, new SilenceGate(-70), queue, _pool, metrics, TimeProvider.System);
        var chunk = ResamplerTests.Sine(300, 0.3, 48000, 960, channels: 2); // 20 ms
        for (var i = 0; i < 500; i++)
        {
            windower.Append(chunk, null);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 500; i++)
        {
            windower.Append(chunk, null);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(windower.WindowsQueued >= 35, $"{windower.WindowsQueued} windows queued");
    }

    private static List<ReadyWindow> Drain(ReadyWindowQueue queue)
    {
        var windows = new List<ReadyWindow>();
        while (queue.TryDequeue(out var window, TimeSpan.Zero, CancellationToken.None))
        {
            windows.Add(window);
        }

        return windows;
    }

    private ReadyWindowQueue Queue(int capacity) =>
        new(capacity, QueueFullMode.DropOldest, _pool, _recorder.Metrics, NullLogger.Instance, TimeProvider.System);

    private SourceWindower Windower(string id, AudioFormat format, ReadyWindowQueue queue, SilenceGate gate) =>
        new(id, format, _model, gate, queue, _pool, _recorder.Metrics, new ManualTimeProvider(_t0));
}
