namespace CaptionDaemon.Sources;

/// <summary>
/// Holds one live source to real time: it may deliver audio as fast as the clock runs, plus a burst of up to
/// <c>Scheduler:MaxBurstSeconds</c> ahead (a sender catching up after a pause); beyond that the host stops reading it
/// for as long as the audio is ahead. A file or pipe then waits (paced at real time, nothing lost); a push source such as
/// UDP loses what arrives meanwhile in its own receive buffer, at no cost to the daemon. Either way a flooding or
/// faster-than-real-time source costs the others nothing beyond its own real-time share. A token bucket of seconds of
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

    /// <summary>
    /// Takes <paramref name="seconds"/> of audio that has just arrived, and returns how long to hold the source before its
    /// next chunk so that it stays within real time plus the burst (zero while it does).
    /// </summary>
    public TimeSpan Take(double seconds)
    {
        var now = _time.GetTimestamp();
        _credit = Math.Min(_burstSeconds, _credit + _time.GetElapsedTime(_last, now).TotalSeconds);
        _last = now;
        _credit -= seconds;
        // The debt is repaid by the clock while the source is held.
        return _credit >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_credit);
    }
}
