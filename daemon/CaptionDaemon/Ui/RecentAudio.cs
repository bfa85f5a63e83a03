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
internal sealed class SourceAudioRing
{
    /// <summary>A chunk that starts this far from where the previous one ended starts a new timeline (a restart, a jump).</summary>
    private static readonly TimeSpan _discontinuity = TimeSpan.FromMilliseconds(50);

    private readonly short[] _samples;
    private readonly Lock _lock = new();
    private long _written;

    // The timeline: sample _anchorSample was heard at _anchorTime, and every later one 1 / rate after the one before.
    // A discontinuity moves the anchor; audio from before it can no longer be placed and counts as gone.
    private long _anchorSample;
    private DateTimeOffset _anchorTime;
    private bool _anchored;

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
            if (!_anchored || (TimeOfLocked(_written) - time).Duration() > _discontinuity)
            {
                _anchorSample = _written;
                _anchorTime = time;
                _anchored = true;
            }

            if (samples.Length > _samples.Length)
            {
                _written += samples.Length - _samples.Length;
                samples = samples[^_samples.Length..];
            }

            var position = (int)(_written % _samples.Length);
            var first = Math.Min(samples.Length, _samples.Length - position);
            Convert(samples[..first], _samples.AsSpan(position, first));
            Convert(samples[first..], _samples.AsSpan(0, samples.Length - first));
            _written += samples.Length;
        }
    }

    /// <summary>Copies the audio heard from <paramref name="start"/> to <paramref name="end"/> (UTC) as 16-bit samples.</summary>
    public RingReadResult Read(DateTimeOffset start, DateTimeOffset end, out short[] samples)
    {
        samples = [];
        lock (_lock)
        {
            if (!_anchored)
                return RingReadResult.NotYet;
            var first = SampleAt(start);
            var last = SampleAt(end);
            if (first < Math.Max(_anchorSample, _written - _samples.Length))
                return RingReadResult.Gone;
            if (last > _written)
                return RingReadResult.NotYet;
            samples = new short[Math.Max(0, last - first)];
            for (var i = 0; i < samples.Length; i++)
                samples[i] = _samples[(int)((first + i) % _samples.Length)];
            return RingReadResult.Ok;
        }
    }

    private long SampleAt(DateTimeOffset time) =>
        _anchorSample + (long)Math.Round((time - _anchorTime).TotalSeconds * SampleRate);

    private DateTimeOffset TimeOfLocked(long sample) => _anchorTime + TimeSpan.FromSeconds((double)(sample - _anchorSample) / SampleRate);

    private static void Convert(ReadOnlySpan<float> from, Span<short> to)
    {
        for (var i = 0; i < from.Length; i++)
            to[i] = (short)Math.Clamp(MathF.Round(from[i] * 32767f), -32768f, 32767f);
    }
}
