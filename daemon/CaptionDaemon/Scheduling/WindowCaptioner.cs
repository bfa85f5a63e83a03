using System.Diagnostics;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>The captions of a batch of windows, in the windows' order, and the model that wrote them.</summary>
/// <param name="Results">One result per window.</param>
/// <param name="Model">The bundle manifest's model name.</param>
/// <param name="Duration">Wall time of the batched run(s).</param>
/// <param name="RecommendedMinConfidence">The bundle's recommended <c>Captions:MinConfidence</c> (manifest <c>confidence.min_confidence</c>), or null.</param>
/// <param name="Labels">The bundle's labels, in the order of each result's label probabilities.</param>
internal readonly record struct CaptionedBatch(CaptionResult[] Results, string Model, TimeSpan Duration, double? RecommendedMinConfidence, IReadOnlyList<BundleLabel> Labels);

/// <summary>
/// Runs the current model on windows: copies them into one preallocated batch buffer (MaxBatch x W) and makes one
/// batched call per MaxBatch windows. The one place where inference happens, shared by the daemon's
/// <see cref="BatchScheduler"/> and offline captioning; concurrent callers take turns (the captioner and the buffer
/// are single-threaded).
/// </summary>
/// <remarks>
/// Each call starts by asking <see cref="ModelRuntime.AcquireForBatch"/> for the model, which is where a reloaded
/// bundle takes over: always between runs, never during one.
/// </remarks>
internal sealed class WindowCaptioner
{
    private readonly ModelRuntime _runtime;
    private readonly float[] _batch;
    private readonly DecodeOptions _decode;
    private readonly Lock _lock = new();

    public WindowCaptioner(ModelRuntime runtime, IOptions<SchedulerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(options);
        _runtime = runtime;
        MaxBatch = options.Value.MaxBatch;
        WindowSamples = runtime.WindowSamples;
        _batch = new float[checked(MaxBatch * WindowSamples)];
        _decode = new DecodeOptions { Beam = options.Value.Beam };
    }

    /// <summary>Windows per batched run at most.</summary>
    public int MaxBatch { get; }

    /// <summary>Samples per window.</summary>
    public int WindowSamples { get; }

    /// <summary>Captions the windows, in order, in runs of at most <see cref="MaxBatch"/>. Buffers stay with the caller.</summary>
    /// <param name="windows">Windows of <see cref="WindowSamples"/> samples each.</param>
    /// <param name="cancellationToken">Checked between decoder steps.</param>
    public CaptionedBatch Caption(ReadOnlySpan<ReadyWindow> windows, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return CaptionLocked(windows, cancellationToken);
        }
    }

    private CaptionedBatch CaptionLocked(ReadOnlySpan<ReadyWindow> windows, CancellationToken cancellationToken)
    {
        var model = _runtime.AcquireForBatch();
        var started = Stopwatch.GetTimestamp();
        if (windows.Length <= MaxBatch)
        {
            return new CaptionedBatch(Run(model, windows, cancellationToken), model.Name, Stopwatch.GetElapsedTime(started), model.RecommendedMinConfidence, model.Bundle.Manifest.Labels);
        }

        // Offline callers may hand over more than a batch; the daemon's scheduler never does.
        var results = new CaptionResult[windows.Length];
        for (var offset = 0; offset < windows.Length; offset += MaxBatch)
        {
            var part = windows.Slice(offset, Math.Min(MaxBatch, windows.Length - offset));
            Run(model, part, cancellationToken).CopyTo(results, offset);
        }

        return new CaptionedBatch(results, model.Name, Stopwatch.GetElapsedTime(started), model.RecommendedMinConfidence, model.Bundle.Manifest.Labels);
    }

    private CaptionResult[] Run(LoadedModel model, ReadOnlySpan<ReadyWindow> windows, CancellationToken cancellationToken)
    {
        var samples = WindowSamples;
        for (var i = 0; i < windows.Length; i++)
        {
            var window = windows[i].Samples;
            if (window.Length != samples)
            {
                throw new ArgumentException($"Window {i} of source '{windows[i].SourceId}' holds {window.Length} samples; the model's window is {samples}.", nameof(windows));
            }

            window.CopyTo(_batch.AsSpan(i * samples, samples));
        }

        return model.Captioner.Caption(_batch.AsSpan(0, windows.Length * samples), windows.Length, _decode, cancellationToken);
    }
}
