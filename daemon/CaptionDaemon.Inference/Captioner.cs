using System.Diagnostics;
using System.Numerics;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Decoding;
using CaptionDaemon.Inference.Labels;
using CaptionDaemon.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionDaemon.Inference;

/// <summary>
/// Captions batches of audio windows with a <see cref="CaptionBundle"/>: one encoder run for the whole batch, one
/// cross-attention precompute, then all windows decoded together, step by step (greedy or beam search) with a
/// key/value cache in preallocated buffers.
/// </summary>
/// <remarks>
/// A captioner is not thread-safe: use it from one thread at a time (create one per decoding thread; they share the
/// bundle's sessions). It keeps its buffers between calls, sized for the largest batch x beam seen so far, so that
/// steady-state decoding allocates nothing per token.
/// </remarks>
public sealed class Captioner : IDisposable
{
    private static readonly string[] AudioInput = ["audio"];
    private static readonly string[] MemoryOutput = ["memory"];
    private static readonly string[] MemoryAndLabelsOutputs = ["memory", BundleContract.LabelProbabilities];

    private readonly CaptionBundle _bundle;
    private readonly RunOptions _runOptions = new();
    private readonly LabelFusion _fusion;
    private readonly LabelGate _gate;
    private DecodeWorkspace? _workspace;
    private BeamSearch? _search;

    // The last batch's label_probs [count, labels], grown to the largest batch seen.
    private float[] _labelProbabilities = [];
    private bool _disposed;

    internal Captioner(CaptionBundle bundle)
    {
        _bundle = bundle;
        _fusion = new LabelFusion(bundle.LabelWordTokens, bundle.LabelSelector);
        _gate = new LabelGate(bundle.Manifest.Labels, bundle.LabelWordTokens, bundle.LabelSelector);
    }

    /// <summary>The bundle this captioner runs.</summary>
    public CaptionBundle Bundle => _bundle;

    /// <summary>Drop the rows of finished windows once they are half of the batch (CPU only). On by default.</summary>
    internal bool CompactionEnabled { get; set; } = true;

    /// <summary>Figures of the last <see cref="Caption"/> call, for measurements and tests.</summary>
    internal DecodeStatistics LastStatistics { get; private set; }

    /// <summary>
    /// Captions <paramref name="count"/> windows laid out one after another in <paramref name="windows"/>, each
    /// <see cref="CaptionBundle.WindowSamples"/> mono samples at the bundle's sample rate.
    /// </summary>
    /// <param name="windows">count x window samples, float32 in [-1, 1].</param>
    /// <param name="count">Number of windows.</param>
    /// <param name="options">Search settings; <see cref="DecodeOptions.Default"/> (beam 3) when null.</param>
    /// <param name="cancellationToken">Checked between decoder steps.</param>
    /// <returns>One caption per window, in order.</returns>
    public CaptionResult[] Caption(ReadOnlySpan<float> windows, int count, DecodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var sessions = _bundle.Sessions; // throws once the bundle is disposed
        options ??= DecodeOptions.Default;
        var manifest = _bundle.Manifest;
        var arch = manifest.Architecture;
        var beam = options.Beam;
        var maxTokens = options.MaxTokens ?? manifest.MaxCaptionTokens;
        if (beam < 1 || 2 * beam > arch.VocabSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), beam, $"Beam must be between 1 and {arch.VocabSize / 2} (half the vocabulary).");
        }

        if (maxTokens < 1 || maxTokens > manifest.MaxCaptionTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(options), maxTokens, $"MaxTokens must be between 1 and the bundle's max_caption_tokens ({manifest.MaxCaptionTokens}).");
        }

        if (options.MinWords < 0 || options.MinWords > maxTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MinWords, $"MinWords must be between 0 and MaxTokens ({maxTokens}).");
        }

        var fusion = options.LabelFusion ?? manifest.LabelFusion ?? 0;
        if (!double.IsFinite(fusion) || fusion < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), fusion, "LabelFusion must be finite and not negative.");
        }

        if (options.NoRepeatNgram < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.NoRepeatNgram, "NoRepeatNgram must be 0 (off) or a positive word count.");
        }

        if (!double.IsFinite(options.LengthPenalty) || options.LengthPenalty < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LengthPenalty, "LengthPenalty must be finite and not negative.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var samples = _bundle.WindowSamples;
        if (windows.Length != (long)count * samples)
        {
            throw new ArgumentException($"Expected {count} windows x {samples} samples = {(long)count * samples} samples, got {windows.Length}.", nameof(windows));
        }

        if (count == 0)
        {
            return [];
        }

        var total = Stopwatch.StartNew();
        var hyps = checked(count * beam);
        var ws = EncodeIntoWorkspace(sessions, windows, count, beam, hyps);
        var encoded = total.Elapsed;
        var search = _search!;
        var fuse = fusion > 0 && _bundle.LabelSelector.Count > 0;
        if (fuse)
        {
            _fusion.Prepare(_labelProbabilities.AsSpan(0, count * _bundle.LabelSelector.Count), count, fusion);
        }

        if (_gate.Active)
        {
            _gate.Prepare(_labelProbabilities.AsSpan(0, count * _bundle.LabelSelector.Count), count);
        }

        var plan = ws.Plan(hyps);
        plan.RunCrossKv(_runOptions);
        search.Begin(count, beam, arch.VocabSize, manifest.Tokens.Start, manifest.Tokens.End, maxTokens, options.LengthPenalty,
            ws.Tokens.Span, ws.BeamIndex.Span, options.MinWords, options.NoRepeatNgram);
        var decodeStart = total.Elapsed;

        var allowCompaction = CompactionEnabled && !ws.OnDevice;
        StepPlan? previous = null;
        var steps = 0;
        var compactions = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var step = 0; step < maxTokens; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (previous is null)
            {
                plan.RunStep(step, _runOptions);
            }
            else
            {
                plan.RunTransitionStep(step, previous, _runOptions);
                previous = null;
            }

            steps++;
            var logprobs = ws.Logprobs.Span[..(search.Rows * arch.VocabSize)];
            if (fuse)
            {
                _fusion.Apply(logprobs, arch.VocabSize, step, search);
            }

            if (_gate.Active)
            {
                _gate.Apply(logprobs, arch.VocabSize, search);
            }

            var progress = search.Advance(step, logprobs, ws.Tokens.Span, ws.BeamIndex.Span, allowCompaction, fuse ? _fusion : null);
            if (progress == SearchProgress.Finished)
            {
                break;
            }

            if (progress == SearchProgress.Compacted)
            {
                ws.CompactCross(search.PreviousSlots, search.KeptSlots, beam);
                previous = plan;
                plan = ws.Plan(search.Rows);
                compactions++;
            }
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        var decoded = total.Elapsed;

        var results = new CaptionResult[count];
        var selector = _bundle.LabelSelector;
        var calibration = _bundle.Calibration;
        var labels = selector.Count;
        for (var w = 0; w < count; w++)
        {
            if (labels == 0)
            {
                results[w] = search.Result(w, _bundle.Vocabulary, calibration: calibration);
                continue;
            }

            var probabilities = _labelProbabilities.AsSpan(w * labels, labels);
            results[w] = search.Result(w, _bundle.Vocabulary, selector.Select(probabilities), probabilities.ToArray(), calibration);
        }

        LastStatistics = new DecodeStatistics(count, beam, steps, compactions, allocated, encoded, decoded - decodeStart, total.Elapsed);
        return results;
    }

    /// <summary>Releases the decoding buffers and their ONNX Runtime bindings.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _workspace?.Dispose();
        _runOptions.Dispose();
    }

    /// <summary>
    /// Runs the encoder on the batch and writes each window's memory beam times into the workspace, and its label
    /// probabilities (same run) into <see cref="_labelProbabilities"/> when the bundle has labels.
    /// </summary>
    private unsafe DecodeWorkspace EncodeIntoWorkspace(BundleSessions sessions, ReadOnlySpan<float> windows, int count, int beam, int hyps)
    {
        fixed (float* audio = windows)
        {
            // The OrtValue borrows the caller's samples for the duration of the (synchronous) run: no copy.
            using var input = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [count, _bundle.WindowSamples], (IntPtr)audio, (long)windows.Length * sizeof(float));
            var labels = _bundle.LabelSelector.Count;
            using var outputs = sessions.Encoder.Run(_runOptions, AudioInput, [input], labels == 0 ? MemoryOutput : MemoryAndLabelsOutputs);
            if (labels > 0)
            {
                CopyLabelProbabilities(outputs[1], count, labels);
            }

            var memory = outputs[0];
            var shape = memory.GetTensorTypeAndShape().Shape;
            var arch = _bundle.Manifest.Architecture;
            if (shape.Length != 3 || shape[0] != count || shape[2] != arch.DModel)
            {
                throw new InvalidOperationException(
                    $"encoder.onnx returned memory of shape [{string.Join(",", shape)}], expected [{count},frames,{arch.DModel}].");
            }

            var frames = checked((int)shape[1]);
            var ws = EnsureWorkspace(sessions, hyps, frames);
            var source = memory.GetTensorDataAsSpan<float>();
            var row = frames * arch.DModel;
            var target = ws.Memory.Span;
            for (var w = 0; w < count; w++)
            {
                var window = source.Slice(w * row, row);
                for (var j = 0; j < beam; j++)
                {
                    window.CopyTo(target.Slice(((w * beam) + j) * row, row));
                }
            }

            return ws;
        }
    }

    private void CopyLabelProbabilities(OrtValue probabilities, int count, int labels)
    {
        var shape = probabilities.GetTensorTypeAndShape().Shape;
        if (shape.Length != 2 || shape[0] != count || shape[1] != labels)
        {
            throw new InvalidOperationException(
                $"encoder.onnx returned {BundleContract.LabelProbabilities} of shape [{string.Join(",", shape)}], expected [{count},{labels}].");
        }

        var values = count * labels;
        if (_labelProbabilities.Length < values)
        {
            _labelProbabilities = new float[values];
        }

        probabilities.GetTensorDataAsSpan<float>().CopyTo(_labelProbabilities);
    }

    private DecodeWorkspace EnsureWorkspace(BundleSessions sessions, int hyps, int frames)
    {
        var manifest = _bundle.Manifest;
        if (_workspace is { } ws && ws.Capacity >= hyps && ws.Dims.Frames == frames)
        {
            ws.TrimPlans();
            return ws;
        }

        _workspace?.Dispose();
        _workspace = null;
        var capacity = checked((int)BitOperations.RoundUpToPowerOf2((uint)hyps));
        var a = manifest.Architecture;
        var dims = new DecoderDims(a.DecoderLayers, a.Heads, a.HeadDim, a.DModel, a.VocabSize, frames, manifest.MaxCaptionTokens);
        _workspace = new DecodeWorkspace(capacity, dims, sessions.CrossKv, sessions.DecoderStep, sessions.Provider, _bundle.CudaDeviceId);
        _search = new BeamSearch(capacity, manifest.MaxCaptionTokens);
        return _workspace;
    }
}

/// <summary>
/// Figures of one <see cref="Captioner.Caption"/> call: batch, beam, decoder steps run, compactions, managed bytes this
/// thread allocated during the decoder steps, and the time of the encoder (with the memory copy), of the decoder steps
/// (cross_kv excluded) and of the whole call.
/// </summary>
internal readonly record struct DecodeStatistics(
    int Windows, int Beam, int Steps, int Compactions, long AllocatedBytes, TimeSpan Encode, TimeSpan Decode, TimeSpan Total);
