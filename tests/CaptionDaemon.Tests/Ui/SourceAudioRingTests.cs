using CaptionDaemon.Ui;

namespace CaptionDaemon.Tests.Ui;

public sealed class SourceAudioRingTests
{
    private const int Rate = 16000;
    private static readonly DateTimeOffset _t0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    /// <summary>3 s of a ramp at 16 kHz: sample i is (i % 20000) / 20000, so every stretch is recognisable.</summary>
    private static float[] Ramp(int seconds) => [.. Enumerable.Range(0, seconds * Rate).Select(i => (i % 20000) / 20000f)];

    [Fact]
    public void Read_WithinTheRing_ReturnsThoseSamplesAs16Bit()
    {
        var ring = new SourceAudioRing(2 * Rate, Rate);
        var ramp = Ramp(3);
        // Appended in chunks of 100 ms, as a source delivers them, each with its own time.
        for (var i = 0; i < ramp.Length; i += Rate / 10)
            ring.Append(ramp.AsSpan(i, Rate / 10), _t0.AddSeconds((double)i / Rate));

        Assert.Equal(RingReadResult.Ok, ring.Read(_t0.AddSeconds(1.5), _t0.AddSeconds(2.5), out var samples));
        Assert.Equal(Rate, samples.Length);
        for (var i = 0; i < samples.Length; i += 997)
            Assert.Equal((short)Math.Round(ramp[(3 * Rate / 2) + i] * 32767), samples[i]);
    }

    [Fact]
    public void Read_OlderThanTheRingOrNotYetHeard_SaysWhich()
    {
        var ring = new SourceAudioRing(2 * Rate, Rate);
        ring.Append(Ramp(3), _t0);

        Assert.Equal(RingReadResult.Gone, ring.Read(_t0.AddSeconds(0.5), _t0.AddSeconds(1.5), out _));
        Assert.Equal(RingReadResult.NotYet, ring.Read(_t0.AddSeconds(2.5), _t0.AddSeconds(3.5), out _));
    }

    [Fact]
    public void Read_AcrossARestart_FindsTheWindowOnEitherSide()
    {
        var ring = new SourceAudioRing(10 * Rate, Rate);
        var ramp = Ramp(3);
        ring.Append(ramp.AsSpan(0, 2 * Rate), _t0);
        // The source restarted (a new ffmpeg) and its time went on from a minute later.
        var later = _t0.AddMinutes(1);
        ring.Append(ramp.AsSpan(Rate, 2 * Rate), later);

        Assert.Equal(RingReadResult.Ok, ring.Read(_t0.AddSeconds(0.5), _t0.AddSeconds(1.5), out var before));
        Assert.Equal((short)Math.Round(ramp[Rate / 2] * 32767), before[0]);
        Assert.Equal(RingReadResult.Ok, ring.Read(later, later.AddSeconds(2), out var after));
        Assert.Equal(2 * Rate, after.Length);
        Assert.Equal((short)Math.Round(ramp[Rate] * 32767), after[0]);
        // A window that ended after the restart is reckoned back from it, as the windower timed it: across the restart.
        Assert.Equal(RingReadResult.Ok, ring.Read(later.AddSeconds(-0.5), later.AddSeconds(1.5), out var across));
        Assert.Equal((short)Math.Round(ramp[(3 * Rate) / 2] * 32767), across[0]);
        Assert.Equal((short)Math.Round(ramp[Rate] * 32767), across[Rate / 2]);
        // A window that would end in the gap was never heard.
        Assert.Equal(RingReadResult.Gone, ring.Read(_t0.AddSeconds(1.5), _t0.AddSeconds(2.5), out _));
    }
}
