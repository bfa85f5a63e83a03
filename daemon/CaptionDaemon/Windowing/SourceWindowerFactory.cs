using CaptionDaemon.Contracts;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sources;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Ui;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Windowing;

/// <summary>
/// Creates a <see cref="SourceWindower"/> per source stream, sized for the running model's rate and window and the
/// configured hop and silence threshold, feeding the daemon's ready queue. Thread-safe.
/// </summary>
internal sealed class SourceWindowerFactory
{
    private readonly ReadyWindowQueue _queue;
    private readonly DaemonMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly SourceTunings? _tunings;
    private readonly SourceLevels? _levels;
    private readonly RecentAudio? _recentAudio;

    /// <param name="runtime">The model the windows are sized for.</param>
    /// <param name="queue">The daemon's ready queue.</param>
    /// <param name="options">The <c>Windowing</c> section.</param>
    /// <param name="metrics">The daemon's instruments.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="tunings">Each source's own settings (its <c>SilenceThresholdDbfs</c>); none when null.</param>
    /// <param name="levels">Where each window's level goes (metric, sinks); nowhere when null.</param>
    /// <param name="recentAudio">Where each source's recent audio is kept for the page (<c>Ui:KeepAudioSeconds</c>); nowhere when null.</param>
    public SourceWindowerFactory(
        ModelRuntime runtime,
        ReadyWindowQueue queue,
        IOptions<WindowingOptions> options,
        DaemonMetrics metrics,
        TimeProvider timeProvider,
        SourceTunings? tunings = null,
        SourceLevels? levels = null,
        RecentAudio? recentAudio = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var hop = Math.Max(1, (int)Math.Round(options.Value.HopSeconds * runtime.SampleRate));
        var content = runtime.WindowSamples;
        if (options.Value.WindowSeconds is { } seconds)
        {
            content = Math.Max(1, (int)Math.Round(seconds * runtime.SampleRate));
            if (content > runtime.WindowSamples)
            {
                throw new OptionsValidationException(WindowingOptions.SectionName, typeof(WindowingOptions), [
                    $"Windowing:WindowSeconds is {seconds} s, longer than the model's window of {(double)runtime.WindowSamples / runtime.SampleRate} s; it may only be shorter (padded with silence)."]);
            }
        }

        Model = new ModelAudio(runtime.SampleRate, runtime.WindowSamples, hop, content);
        Gate = new SilenceGate(options.Value.SilenceThresholdDbfs);
        _queue = queue;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _tunings = tunings;
        _levels = levels;
        _recentAudio = recentAudio;
    }

    /// <summary>The model rate, window and hop every windower uses.</summary>
    public ModelAudio Model { get; }

    /// <summary>The configured silence gate.</summary>
    public SilenceGate Gate { get; }

    /// <summary>The pool of window buffers.</summary>
    public WindowBufferPool Pool => _queue.Pool;

    /// <summary>
    /// A windower for one stream of a source, into the daemon's ready queue (full: drop oldest) with the configured
    /// silence gate, on a live clock (windows never dated after the moment their audio arrived). Create a new one when
    /// the source restarts its stream; sequence numbers continue regardless.
    /// </summary>
    public SourceWindower Create(string sourceId, AudioFormat format)
    {
        var gate = _tunings?.For(sourceId).SilenceThresholdDbfs is { } threshold ? new SilenceGate(threshold) : Gate;
        var windower = Create(sourceId, format, _queue, gate, _levels, _recentAudio?.For(sourceId));
        windower.LiveClock = true;
        return windower;
    }

    /// <summary>A windower into another queue, e.g. a waiting one for offline captioning, with the given gate.</summary>
    public SourceWindower Create(string sourceId, AudioFormat format, ReadyWindowQueue queue, SilenceGate gate, SourceLevels? levels = null, SourceAudioRing? recentAudio = null)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(queue);
        if (format.SampleRate < 1 || format.Channels < 1)
        {
            throw new ArgumentException($"Source '{sourceId}' announced an impossible format: {format.SampleRate} Hz, {format.Channels} channel(s).", nameof(format));
        }

        return new SourceWindower(sourceId, format, Model, gate, queue, queue.Pool, _metrics, _timeProvider, levels, recentAudio);
    }
}
