namespace CaptionDaemon.Windowing;

/// <summary>When a window's audio was captured and when it became ready.</summary>
/// <param name="Start">UTC time of the window's first sample.</param>
/// <param name="End">UTC time just after its last sample (of real audio, for a zero-padded window).</param>
/// <param name="StartSample">Index of the first sample in the stream.</param>
/// <param name="ReadyTimestamp">Monotonic <see cref="TimeProvider.GetTimestamp"/> when the window was complete.</param>
internal readonly record struct WindowTiming(DateTimeOffset Start, DateTimeOffset End, long StartSample, long ReadyTimestamp);

/// <summary>Receives a window from a <see cref="WindowRing"/>; the span is valid only during the call.</summary>
internal delegate void WindowReadyHandler(ReadOnlySpan<float> window, in WindowTiming timing);

/// <summary>
/// The last window of a source's model-rate audio: emits a window of W samples every H samples once W samples have
/// arrived (windows end at W, W + H, W + 2H, ...). A hop longer than the window leaves gaps between windows, which
/// saves inference when captions every so often are enough.
/// </summary>
/// <remarks>
/// The buffer is mirrored (every sample is written at i and i + W) so that the last W samples are always one
/// contiguous span and a window needs no copy to be read. The timeline maps sample indices to UTC: a span given with
/// a timestamp anchors it there; a span without one continues from the previous one; the very first span without one
/// starts the timeline at now minus its duration (it was just captured). Not thread-safe: one reader per source.
/// </remarks>
internal sealed class WindowRing
{
    private readonly float[] _mirror;
    private readonly TimeProvider _timeProvider;
    private readonly WindowReadyHandler _onWindow;
    private long _written;
    private long _nextEnd;
    private bool _anchored;
    private DateTimeOffset _anchorTime;
    private long _anchorSample;

    /// <summary>Creates an empty ring.</summary>
    /// <param name="windowSamples">W: samples per window.</param>
    /// <param name="hopSamples">H: samples between the ends of successive windows.</param>
    /// <param name="sampleRate">Samples per second (for timestamps).</param>
    /// <param name="timeProvider">Wall clock for the start of a timeline without timestamps, and the ready timestamps.</param>
    /// <param name="onWindow">Called, on the appending thread, for every window.</param>
    public WindowRing(int windowSamples, int hopSamples, int sampleRate, TimeProvider timeProvider, WindowReadyHandler onWindow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hopSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(onWindow);
        WindowSamples = windowSamples;
        HopSamples = hopSamples;
        SampleRate = sampleRate;
        _timeProvider = timeProvider;
        _onWindow = onWindow;
        _mirror = new float[2 * windowSamples];
        _nextEnd = windowSamples;
    }

    /// <summary>W.</summary>
    public int WindowSamples { get; }

    /// <summary>H.</summary>
    public int HopSamples { get; }

    /// <summary>Samples per second.</summary>
    public int SampleRate { get; }

    /// <summary>Samples appended so far.</summary>
    public long SamplesWritten => _written;

    /// <summary>Windows emitted so far (a zero-padded one included).</summary>
    public long WindowsEmitted { get; private set; }

    /// <summary>The UTC time of sample <paramref name="sampleIndex"/> on this ring's timeline (after the first append).</summary>
    public DateTimeOffset TimeOf(long sampleIndex) => _anchorTime + SampleClock.Duration(sampleIndex - _anchorSample, SampleRate);

    /// <summary>Appends samples and emits every window they complete.</summary>
    /// <param name="samples">Mono samples at <see cref="SampleRate"/>.</param>
    /// <param name="timestamp">UTC time of the first of them, or null to continue the timeline.</param>
    public void Append(ReadOnlySpan<float> samples, DateTimeOffset? timestamp)
    {
        if (timestamp is { } time)
        {
            Anchor(time.ToUniversalTime());
        }
        else if (!_anchored)
        {
            Anchor(_timeProvider.GetUtcNow() - SampleClock.Duration(samples.Length, SampleRate));
        }

        while (!samples.IsEmpty)
        {
            var take = (int)Math.Min(samples.Length, _nextEnd - _written);
            if (take > WindowSamples)
            {
                // Only the last W samples before the next window end can be part of it (hop longer than the window).
                var skip = take - WindowSamples;
                _written += skip;
                samples = samples[skip..];
                take = WindowSamples;
            }

            Write(samples[..take]);
            samples = samples[take..];
            if (_written == _nextEnd)
            {
                var start = _written - WindowSamples;
                var timing = new WindowTiming(TimeOf(start), TimeOf(_written), start, _timeProvider.GetTimestamp());
                WindowsEmitted++;
                _nextEnd += HopSamples;
                _onWindow(_mirror.AsSpan((int)(_written % WindowSamples), WindowSamples), timing);
            }
        }
    }

    /// <summary>
    /// When the stream ended before its first full window, emits the audio it had, padded with silence to one window,
    /// so that a short stream still gets a caption. Does nothing when a window was already emitted or nothing arrived.
    /// </summary>
    /// <returns>True when a padded window was emitted.</returns>
    public bool EmitPadded()
    {
        if (WindowsEmitted > 0 || _written == 0 || _written >= WindowSamples)
        {
            return false;
        }

        // Fewer than W samples were ever written, so they sit at [0, written) and the rest is still zero.
        var timing = new WindowTiming(TimeOf(0), TimeOf(_written), 0, _timeProvider.GetTimestamp());
        WindowsEmitted++;
        _onWindow(_mirror.AsSpan(0, WindowSamples), timing);
        return true;
    }

    private void Anchor(DateTimeOffset time)
    {
        _anchorTime = time;
        _anchorSample = _written;
        _anchored = true;
    }

    private void Write(ReadOnlySpan<float> samples)
    {
        var w = WindowSamples;
        var position = (int)(_written % w);
        var first = Math.Min(samples.Length, w - position);
        samples[..first].CopyTo(_mirror.AsSpan(position));
        samples[..first].CopyTo(_mirror.AsSpan(position + w));
        var rest = samples[first..];
        rest.CopyTo(_mirror);
        rest.CopyTo(_mirror.AsSpan(w));
        _written += samples.Length;
    }
}
