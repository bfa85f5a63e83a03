using CaptionDaemon.Plugins.Audio.Network;
using CaptionDaemon.Plugins.Audio.Tests.TestSupport;

namespace CaptionDaemon.Plugins.Audio.Tests.Network;

public sealed class LiveTimelineTests
{
    [Fact]
    public void Stamp_FirstChunk_IsDatedAtItsFirstSample()
    {
        var clock = new ManualClock();
        var timeline = new LiveTimeline(16000, 2, clock);

        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromSeconds(0.5), timeline.Stamp(16000));
    }

    [Fact]
    public void Stamp_AudioArrivingAtItsOwnPaceOrFaster_LeavesTheTimelineToTheHost()
    {
        var clock = new ManualClock();
        var timeline = new LiveTimeline(16000, 1, clock);
        timeline.Stamp(1600);

        clock.Advance(TimeSpan.FromSeconds(0.1));
        var onTime = timeline.Stamp(1600);
        // Jitter: 0.9 s late is within the tolerance.
        clock.Advance(TimeSpan.FromSeconds(1.0));
        var late = timeline.Stamp(1600);
        var burst = timeline.Stamp(16000);

        Assert.Null(onTime);
        Assert.Null(late);
        Assert.Null(burst);
    }

    [Fact]
    public void Stamp_AfterAGap_DatesTheChunkAgain()
    {
        var clock = new ManualClock();
        var timeline = new LiveTimeline(8000, 1, clock);
        timeline.Stamp(800);

        clock.Advance(TimeSpan.FromSeconds(5));
        var afterGap = timeline.Stamp(800);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        var next = timeline.Stamp(800);

        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromSeconds(0.1) - TimeSpan.FromSeconds(0.1), afterGap);
        Assert.Null(next);
    }

    [Fact]
    public void Stamp_AfterRestart_DatesTheChunkAgain()
    {
        var clock = new ManualClock();
        var timeline = new LiveTimeline(16000, 1, clock);
        timeline.Stamp(1600);

        timeline.Restart();

        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromSeconds(0.1), timeline.Stamp(1600));
    }
}
