namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>A clock that moves only when the test says, for behaviour that depends on elapsed time.</summary>
public sealed class ManualClock : TimeProvider
{
    private static readonly DateTimeOffset _epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => _epoch + TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
