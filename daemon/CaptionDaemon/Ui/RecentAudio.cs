using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Ui;

/// <summary>
/// Each source's most recent <c>Ui:KeepAudioSeconds</c> of model-rate audio, so that the page can play back the window
/// a caption describes. Off (no ring, no work) when the setting is 0, the default.
/// </summary>
internal sealed class RecentAudio
{
    private readonly ConcurrentDictionary<string, SourceAudioRing> _rings = new(StringComparer.Ordinal);
    private readonly int _sampleRate;

    public RecentAudio(IOptions<UiOptions> options, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        KeepSeconds = options.Value.KeepAudioSeconds;
        _sampleRate = sampleRate;
    }

    /// <summary><c>Ui:KeepAudioSeconds</c>; 0 keeps nothing.</summary>
    public double KeepSeconds { get; }

    public bool Enabled => KeepSeconds > 0;

    /// <summary>The source's ring, created on first use (the same one across the source's restarts); null when off.</summary>
    public SourceAudioRing? For(string sourceId) =>
        Enabled ? _rings.GetOrAdd(sourceId, static (_, self) => new SourceAudioRing((int)Math.Ceiling(self.KeepSeconds * self._sampleRate), self._sampleRate), this) : null;

    /// <summary>The source's ring if it has one.</summary>
    public bool TryGet(string sourceId, out SourceAudioRing? ring) => _rings.TryGetValue(sourceId, out ring);
}

/// <summary>Why a stretch of audio could not be read from a <see cref="SourceAudioRing"/>.</summary>
internal enum RingReadResult
{
    Ok,

    /// <summary>Some of it is older than the ring holds (or from before a restart that left a gap).</summary>
    Gone,

    /// <summary>Some of it has not been heard yet.</summary>
    NotYet,
}

/// <summary>
/// A bounded ring of one source's model-rate mono audio as 16-bit samples, with the UTC time of its samples. Written by
/// the source's reading thread (a lock per chunk, which only a page's read ever contends), read by the page.
/// </summary>
/// <remarks>
/// The ring keeps the source's timeline as its windower does: a chunk whose time does not continue the previous one (the
/// source stamped it after a gap, or restarted) re-anchors it, and a window's times are reckoned from the anchor in force
/// when it ended. So the anchors are kept, and a window is found through the one its end falls under.
/// </remarks>
internal sealed class SourceAudioRing
{
    /// <summary>A chunk whose time is further than this from where the previous one ended re-anchors the timeline.</summary>
    private static readonly TimeSpan _discontinuity = TimeSpan.FromMilliseconds(20);

    private readonly short[] _samples;
    private readonly Lock _lock = new();

    // Anchor k: sample Sample was heard at Time, and each later one 1 / rate after the one before, up to anchor k + 1.
    // Oldest first; anchors whose stretch is wholly older than the ring are dropped.
    private readonly List<(long Sample, DateTimeOffset Time)> _segments = [];
    private long _written;

    public SourceAudioRing(int capacity, int sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        _samples = new short[capacity];
        SampleRate = sampleRate;
    }

    public int SampleRate { get; }

    public int Capacity => _samples.Length;

    /// <summary>Appends model-rate samples whose first was heard at <paramref name="time"/>.</summary>
    public void Append(ReadOnlySpan<float> samples, DateTimeOffset time)
    {
        lock (_lock)
        {
            if (_segments.Count == 0 || (TimeOf(_segments[^1], _written) - time).Duration() > _discontinuity)
            {
                _segments.Add((_written, time));
            }

            if (samples.Length > _samples.Length)
            {
                // Only the chunk's last samples fit; the segment's timeline runs on through the skipped ones.
                _written += samples.Length - _samples.Length;
                samples = samples[^_samples.Length..];
            }

            var position = (int)(_written % _samples.Length);
            var first = Math.Min(samples.Length, _samples.Length - position);
            Convert(samples[..first], _samples.AsSpan(position, first));
            Convert(samples[first..], _samples.AsSpan(0, samples.Length - first));
            _written += samples.Length;

            var oldest = _written - _samples.Length;
            while (_segments.Count > 1 && _segments[1].Sample <= oldest)
                _segments.RemoveAt(0);
        }
    }

    /// <summary>Copies the audio heard from <paramref name="start"/> to <paramref name="end"/> (UTC) as 16-bit samples.</summary>
    public RingReadResult Read(DateTimeOffset start, DateTimeOffset end, out short[] samples)
    {
        samples = [];
        var count = (long)Math.Round((end - start).TotalSeconds * SampleRate);
        var tolerance = (long)(_discontinuity.TotalSeconds * SampleRate);
        lock (_lock)
        {
            for (var k = _segments.Count - 1; k >= 0; k--)
            {
                var segment = _segments[k];
                var segmentEnd = k + 1 < _segments.Count ? _segments[k + 1].Sample : _written;
                var last = SampleAt(segment, end);
                if (last < segment.Sample - tolerance)
                    continue;
                if (last > segmentEnd + tolerance)
                    return k + 1 < _segments.Count ? RingReadResult.Gone : RingReadResult.NotYet;

                // The window ended under this anchor; it may have begun before it (the windower reckons back from it too).
                last = Math.Clamp(last, segment.Sample, segmentEnd);
                var first = last - count;
                if (first < 0 || first < _written - _samples.Length)
                    return RingReadResult.Gone;
                samples = new short[count];
                for (var i = 0; i < samples.Length; i++)
                    samples[i] = _samples[(int)((first + i) % _samples.Length)];
                return RingReadResult.Ok;
            }

            return _segments.Count == 0 ? RingReadResult.NotYet : RingReadResult.Gone;
        }
    }

    private long SampleAt((long Sample, DateTimeOffset Time) segment, DateTimeOffset time) =>
        segment.Sample + (long)Math.Round((time - segment.Time).TotalSeconds * SampleRate);

    private DateTimeOffset TimeOf((long Sample, DateTimeOffset Time) segment, long sample) =>
        segment.Time + TimeSpan.FromSeconds((double)(sample - segment.Sample) / SampleRate);

    private static void Convert(ReadOnlySpan<float> from, Span<short> to)
    {
        for (var i = 0; i < from.Length; i++)
            to[i] = (short)Math.Clamp(MathF.Round(from[i] * 32767f), -32768f, 32767f);
    }
}
