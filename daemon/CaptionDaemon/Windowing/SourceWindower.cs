using CaptionDaemon.Contracts;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sources;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Ui;

namespace CaptionDaemon.Windowing;

/// <summary>
/// One source's path from chunks to ready windows: downmix and resample to the model rate, window ring, silence gate,
/// then a pooled copy of each window into the ready queue. Confined to the thread that reads the source: call
/// <see cref="Append"/> for every chunk, in order, and <see cref="Complete"/> when the stream ends.
/// </summary>
/// <remarks>
/// Nothing here allocates per chunk or per window once warm: the resampler's and ring's buffers are sized at
/// construction and window buffers come from the pool. The source's timeline is kept in its own (input) samples, so
/// a chunk timestamp places the chunk's first frame exactly; model-rate windows are timed from it.
/// </remarks>
internal sealed class SourceWindower
{
    private readonly Resampler _resampler;
    private readonly WindowRing _ring;
    private readonly SilenceGate _gate;
    private readonly ReadyWindowQueue _queue;
    private readonly WindowBufferPool _pool;
    private readonly DaemonMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly SourceLevels? _levels;
    private readonly SourceAudioRing? _recentAudio;
    private readonly KeyValuePair<string, object?> _sourceTag;
    private readonly float[] _scratch;
    private readonly int _channels;
    private bool _anchored;
    private DateTimeOffset _anchorTime;
    private long _anchorFrame;
    private bool _completed;
    private CancellationToken _appendToken;

    public SourceWindower(
        string sourceId,
        AudioFormat format,
        ModelAudio model,
        SilenceGate gate,
        ReadyWindowQueue queue,
        WindowBufferPool pool,
        DaemonMetrics metrics,
        TimeProvider timeProvider,
        SourceLevels? levels = null,
        SourceAudioRing? recentAudio = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceId);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (pool.WindowSamples != model.WindowSamples)
        {
            throw new ArgumentException($"The pool's buffers hold {pool.WindowSamples} samples, the model's window {model.WindowSamples}.", nameof(pool));
        }

        SourceId = sourceId;
        _channels = format.Channels;
        _resampler = new Resampler(format.SampleRate, format.Channels, model.SampleRate);
        _ring = new WindowRing(model.ContentSamples, model.HopSamples, model.SampleRate, timeProvider, OnWindow);
        _gate = gate;
        _queue = queue;
        _pool = pool;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _levels = levels;
        _recentAudio = recentAudio;
        _sourceTag = new("source", sourceId);
        _scratch = new float[Math.Max(_resampler.MaxOutputFor(Resampler.BlockFrames), _resampler.MaxFlushOutput)];
    }

    /// <summary>The source id the windows carry.</summary>
    public string SourceId { get; }

    /// <summary>
    /// True for the daemon's live sources: audio cannot end after the moment it arrived, so a chunk whose place on the
    /// continued timeline (or whose own timestamp) would end in the future is dated to end now instead. A burst (a sender
    /// that sends 20 s at once, a file read faster than real time) is then dated by its arrival, never in the future.
    /// False for offline captioning, where a file's timeline runs ahead of the clock by design.
    /// </summary>
    public bool LiveClock { get; set; }

    /// <summary>Windows that passed the gate and were queued.</summary>
    public long WindowsQueued { get; private set; }

    /// <summary>Windows the silence gate skipped.</summary>
    public long WindowsSilent { get; private set; }

    /// <summary>Model-rate samples produced so far.</summary>
    public long ModelSamples => _ring.SamplesWritten;

    /// <summary>Adds a chunk of the source's audio.</summary>
    /// <param name="interleaved">Samples in the source's format; a whole number of frames.</param>
    /// <param name="timestamp">UTC capture time of the chunk's first frame, or null to continue the timeline.</param>
    /// <param name="cancellationToken">Stops a wait for room in a queue in <see cref="QueueFullMode.Wait"/> mode (offline captioning).</param>
    public void Append(ReadOnlySpan<float> interleaved, DateTimeOffset? timestamp, CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            throw new InvalidOperationException($"Source '{SourceId}': the stream was completed; create a new windower for a new stream.");
        }

        if (interleaved.Length % _channels != 0)
        {
            throw new ArgumentException($"Source '{SourceId}': a chunk of {interleaved.Length} samples is not a whole number of {_channels}-channel frames.", nameof(interleaved));
        }

        var frames = interleaved.Length / _channels;
        if (timestamp is { } time)
        {
            var start = time.ToUniversalTime();
            if (LiveClock)
            {
                var latest = _timeProvider.GetUtcNow() - SampleClock.Duration(frames, _resampler.InputRate);
                start = start > latest ? latest : start;
            }

            Anchor(start);
        }
        else if (!_anchored || (LiveClock && TimelineEnd(frames) > _timeProvider.GetUtcNow()))
        {
            Anchor(_timeProvider.GetUtcNow() - SampleClock.Duration(frames, _resampler.InputRate));
        }

        _appendToken = cancellationToken;
        var block = Resampler.BlockFrames * _channels;
        while (!interleaved.IsEmpty)
        {
            var take = Math.Min(block, interleaved.Length);
            var first = _resampler.OutputSamples;
            var produced = _resampler.Process(interleaved[..take], _scratch);
            interleaved = interleaved[take..];
            Deliver(first, produced);
        }
    }

    /// <summary>
    /// Ends the stream: flushes the resampler, and when the whole stream was shorter than one window, emits it once,
    /// padded with silence, so that a short file still gets a caption.
    /// </summary>
    /// <param name="cancellationToken">Stops a wait for room in a queue in <see cref="QueueFullMode.Wait"/> mode.</param>
    public void Complete(CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _appendToken = cancellationToken;
        var first = _resampler.OutputSamples;
        var produced = _resampler.Flush(_scratch);
        Deliver(first, produced);
        _ring.EmitPadded();
    }

    /// <summary>Where a chunk of <paramref name="frames"/> would end on the timeline as it runs now.</summary>
    private DateTimeOffset TimelineEnd(int frames) =>
        _anchorTime + SampleClock.Duration(_resampler.InputFrames + frames - _anchorFrame, _resampler.InputRate);

    private void Anchor(DateTimeOffset time)
    {
        _anchorTime = time;
        _anchorFrame = _resampler.InputFrames;
        _anchored = true;
    }

    private void Deliver(long firstOutput, int produced)
    {
        if (produced == 0)
        {
            return;
        }

        // Output sample k lies at input time k / outputRate from the start of the stream (the filter is zero-phase).
        var time = _anchorTime
            + SampleClock.Duration(firstOutput, _resampler.OutputRate)
            - SampleClock.Duration(_anchorFrame, _resampler.InputRate);
        var samples = _scratch.AsSpan(0, produced);
        _recentAudio?.Append(samples, time);
        _ring.Append(samples, time);
    }

    private void OnWindow(ReadOnlySpan<float> window, in WindowTiming timing)
    {
        // One pass over the window gives both the level a user tunes the gate with and the gate's decision.
        var level = SilenceGate.RmsDbfs(window);
        _levels?.Report(SourceId, level, timing.End);
        if (_gate.IsSilentLevel(level))
        {
            WindowsSilent++;
            _metrics.WindowsSilent.Add(1, _sourceTag);
            return;
        }

        // A window shorter than the model's (Windowing:WindowSeconds) fills the buffer's start; the rest is silence.
        var buffer = _pool.Rent();
        window.CopyTo(buffer);
        buffer.AsSpan(window.Length).Clear();
        WindowsQueued++;
        _queue.Enqueue(new ReadyWindow(SourceId, buffer, timing.Start, timing.End, timing.StartSample, timing.ReadyTimestamp), _appendToken);
    }
}

/// <summary>What the windowers are sized for: the model's rate and window, and the configured hop and window length.</summary>
/// <param name="SampleRate">The model's sample rate (Hz).</param>
/// <param name="WindowSamples">W, the model's input.</param>
/// <param name="HopSamples">H.</param>
/// <param name="ContentSamples">Samples of audio per window, at most W; the rest of the model's input is silence.</param>
internal readonly record struct ModelAudio(int SampleRate, int WindowSamples, int HopSamples, int ContentSamples);
