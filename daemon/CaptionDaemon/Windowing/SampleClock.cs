namespace CaptionDaemon.Windowing;

/// <summary>Converts sample counts to time exactly (integer ticks, no drift over months of audio).</summary>
internal static class SampleClock
{
    /// <summary>The duration of <paramref name="samples"/> samples at <paramref name="sampleRate"/> (may be negative).</summary>
    public static TimeSpan Duration(long samples, int sampleRate)
    {
        if (samples < 0)
        {
            return -Duration(-samples, sampleRate);
        }

        // Split so that samples * TicksPerSecond cannot overflow.
        var whole = samples / sampleRate;
        var rest = samples - (whole * sampleRate);
        return TimeSpan.FromTicks((whole * TimeSpan.TicksPerSecond) + (rest * TimeSpan.TicksPerSecond / sampleRate));
    }
}
