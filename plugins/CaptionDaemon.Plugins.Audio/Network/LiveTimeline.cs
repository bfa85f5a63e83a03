namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>
/// Timestamps for live audio. The host continues a source's timeline from chunk to chunk when a chunk has no
/// timestamp, which is right while audio flows and wrong after a gap (a sender that paused, a stream that reconnected):
/// then the captions would be dated too early by the length of the gap. So the first chunk after a (re)start and any
/// chunk that arrives later than the audio so far accounts for (beyond a tolerance for network jitter) carries the
/// wall-clock time of its first sample; every other chunk carries none.
/// </summary>
internal sealed class LiveTimeline
{
    private static readonly TimeSpan _tolerance = TimeSpan.FromSeconds(1);
    private readonly double _framesPerSecond;
    private readonly int _channels;
    private readonly TimeProvider _time;
    private DateTimeOffset? _end;

    public LiveTimeline(int sampleRate, int channels, TimeProvider time)
    {
        _framesPerSecond = sampleRate;
        _channels = channels;
        _time = time;
    }

    /// <summary>The next chunk starts a new stretch of audio (a new connection or process): stamp it.</summary>
    public void Restart() => _end = null;

    /// <summary>The timestamp for a chunk of <paramref name="samples"/> interleaved samples that has just arrived, or null.</summary>
    public DateTimeOffset? Stamp(int samples)
    {
        var now = _time.GetUtcNow();
        var duration = TimeSpan.FromSeconds(samples / _channels / _framesPerSecond);
        if (_end is { } end && now - (end + duration) <= _tolerance)
        {
            // A source that delivers faster than real time (a file read at full speed) stays ahead of the clock.
            _end = end + duration;
            return null;
        }
        _end = now;
        return now - duration;
    }
}
