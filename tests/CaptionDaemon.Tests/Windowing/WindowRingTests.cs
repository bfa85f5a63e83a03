using CaptionDaemon.Tests.Scheduling;
using CaptionDaemon.Windowing;

namespace CaptionDaemon.Tests.Windowing;

public sealed class WindowRingTests
{
    private static readonly DateTimeOffset _t0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Append_ChunksOfAnySize_EmitsWindowEveryHopOnceFull()
    {
        var windows = new List<(float[] Samples, WindowTiming Timing)>();
        var ring = new WindowRing(10, 4, 10, new ManualTimeProvider(_t0), (w, in t) => windows.Add((w.ToArray(), t)));
        var samples = Enumerable.Range(0, 30).Select(i => (float)i).ToArray();

        ring.Append(samples.AsSpan(0, 3), _t0);
        ring.Append(samples.AsSpan(3, 9), null);
        ring.Append(samples.AsSpan(12, 1), null);
        ring.Append(samples.AsSpan(13, 17), null);

        Assert.Equal([10L, 14, 18, 22, 26, 30], windows.Select(w => w.Timing.StartSample + 10));
        foreach (var (window, timing) in windows)
        {
            Assert.Equal(Enumerable.Range((int)timing.StartSample, 10).Select(i => (float)i), window);
            Assert.Equal(_t0 + TimeSpan.FromSeconds(timing.StartSample / 10.0), timing.Start);
            Assert.Equal(timing.Start + TimeSpan.FromSeconds(1), timing.End);
        }
    }

    [Fact]
    public void Append_FirstChunkWithoutTimestamp_StartsAtNowMinusItsDuration()
    {
        var time = new ManualTimeProvider(_t0);
        var windows = new List<WindowTiming>();
        var ring = new WindowRing(8, 8, 4, time, (_, in t) => windows.Add(t));

        ring.Append(new float[6], null);
        time.Advance(TimeSpan.FromSeconds(5));
        ring.Append(new float[6], null);

        // 6 samples at 4 Hz were just captured: the timeline starts 1.5 s before the first append; the second continues it.
        var timing = Assert.Single(windows);
        Assert.Equal(_t0 - TimeSpan.FromSeconds(1.5), timing.Start);
        Assert.Equal(_t0 + TimeSpan.FromSeconds(0.5), timing.End);
    }

    [Fact]
    public void Append_LaterTimestamp_ReanchorsTheTimeline()
    {
        var windows = new List<WindowTiming>();
        var ring = new WindowRing(4, 4, 4, new ManualTimeProvider(_t0), (_, in t) => windows.Add(t));

        ring.Append(new float[4], _t0);
        ring.Append(new float[4], _t0 + TimeSpan.FromMinutes(1));

        Assert.Equal(2, windows.Count);
        Assert.Equal(_t0, windows[0].Start);
        Assert.Equal(_t0 + TimeSpan.FromMinutes(1), windows[1].Start);
        Assert.Equal(_t0 + TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1), windows[1].End);
    }

    [Fact]
    public void Append_HopLongerThanWindow_CaptionsEveryHopAndSkipsTheGap()
    {
        var windows = new List<float[]>();
        var ring = new WindowRing(4, 10, 10, new ManualTimeProvider(_t0), (w, in _) => windows.Add(w.ToArray()));

        ring.Append(Enumerable.Range(0, 30).Select(i => (float)i).ToArray(), _t0);

        Assert.Equal(3, windows.Count);
        Assert.Equal([0f, 1, 2, 3], windows[0]);
        Assert.Equal([10f, 11, 12, 13], windows[1]);
        Assert.Equal([20f, 21, 22, 23], windows[2]);
    }

    [Fact]
    public void EmitPadded_StreamShorterThanWindow_EmitsOneZeroPaddedWindow()
    {
        var windows = new List<(float[] Samples, WindowTiming Timing)>();
        var ring = new WindowRing(10, 5, 10, new ManualTimeProvider(_t0), (w, in t) => windows.Add((w.ToArray(), t)));
        ring.Append([1f, 2, 3], _t0);

        Assert.True(ring.EmitPadded());
        Assert.False(ring.EmitPadded());

        var (samples, timing) = Assert.Single(windows);
        Assert.Equal([1f, 2, 3, 0, 0, 0, 0, 0, 0, 0], samples);
        Assert.Equal(_t0, timing.Start);
        Assert.Equal(_t0 + TimeSpan.FromSeconds(0.3), timing.End);
    }

    [Fact]
    public void EmitPadded_AfterAFullWindow_EmitsNothing()
    {
        var count = 0;
        var ring = new WindowRing(10, 5, 10, new ManualTimeProvider(_t0), (_, in _) => count++);
        ring.Append(new float[12], _t0);

        Assert.False(ring.EmitPadded());
        Assert.Equal(1, count);
    }
}
