namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>A clock that moves only when the test says, for behaviour that depends on elapsed time.</summary>
public sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
