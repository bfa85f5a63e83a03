namespace CaptionDaemon.Sources;

/// <summary>
/// Holds one live source to real time: it may deliver audio as fast as the clock runs, plus a burst of up to
/// <c>Scheduler:MaxBurstSeconds</c> ahead (a sender catching up after a pause); audio beyond that is refused, so that a
/// flooding or faster-than-real-time source costs the others nothing beyond its own share. A token bucket of seconds of
/// audio, refilled by the wall clock.
/// </summary>
internal sealed class RealtimePacer
{
    private readonly double _burstSeconds;
    private readonly TimeProvider _time;
    private double _credit;
    private long _last;

    public RealtimePacer(TimeSpan burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(burst, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        _burstSeconds = burst.TotalSeconds;
        _time = time;
        _credit = _burstSeconds;
        _last = time.GetTimestamp();
    }

    /// <summary>True when a chunk of <paramref name="seconds"/> of audio that has just arrived keeps the source within real time plus the burst.</summary>
    public bool Admit(double seconds)
    {
        var now = _time.GetTimestamp();
        _credit = Math.Min(_burstSeconds, _credit + _time.GetElapsedTime(_last, now).TotalSeconds);
        _last = now;
        // A chunk longer than the whole burst is taken when the bucket is full, and repaid by the clock afterwards.
        if (_credit < Math.Min(seconds, _burstSeconds))
        {
            return false;
        }

        _credit -= seconds;
        return true;
    }
}
