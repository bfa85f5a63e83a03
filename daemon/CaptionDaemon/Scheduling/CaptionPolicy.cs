using System.Globalization;
using CaptionDaemon.Contracts;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Sinks;
using CaptionDaemon.Sources;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>
/// Decides which window captions are published, per source: not below <c>Captions:MinConfidence</c>, or when it is
/// unset the captioning bundle's recommended value, or 0 (reason <c>low_confidence</c>), not empty (reason <c>empty</c>: the model ended without a word), and not the same text as
/// the source's last published caption (reason <c>repeat</c>, when <c>Captions:SuppressRepeats</c>) unless
/// <c>Captions:HeartbeatSeconds</c> have passed since it. Published captions get the source's next sequence number
/// and the run from <see cref="CaptionNumbering"/> (from 1, continuous across model reloads and source restarts, and
/// across daemon restarts when the numbering is kept on disk) and go to the <see cref="ICaptionOutlet"/>.
/// </summary>
/// <remarks>Called from the scheduler's thread; the lock only guards the per-source state against readers elsewhere.</remarks>
internal sealed class CaptionPolicy : ICaptionedWindowHandler
{
    private readonly CaptionPolicyOptions _options;
    private readonly ICaptionOutlet _outlet;
    private readonly DaemonMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _heartbeat;
    private readonly SourceTunings? _tunings;
    private readonly CaptionNumbering _numbering;
    private readonly Dictionary<string, SourceState> _sources = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <param name="options">The <c>Captions</c> section.</param>
    /// <param name="outlet">Where published captions go.</param>
    /// <param name="metrics">The daemon's instruments.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="tunings">Each source's own settings (<c>Sources:&lt;id&gt;:MinConfidence</c>, <c>Labels</c>, <c>LabelThresholds</c>); none when null.</param>
    /// <param name="numbering">Sequence numbers and run; a new in-memory run when null.</param>
    public CaptionPolicy(IOptions<CaptionPolicyOptions> options, ICaptionOutlet outlet, DaemonMetrics metrics, TimeProvider timeProvider, SourceTunings? tunings = null, CaptionNumbering? numbering = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(outlet);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options.Value;
        _outlet = outlet;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _heartbeat = TimeSpan.FromSeconds(_options.HeartbeatSeconds);
        _tunings = tunings;
        _numbering = numbering ?? CaptionNumbering.InMemory();
    }

    /// <summary>The sequence number of the source's last published caption (0 before the first).</summary>
    public long LastSequence(string sourceId) => _numbering.Last(sourceId);

    /// <inheritdoc/>
    public void OnCaptioned(in ReadyWindow window, CaptionResult result, string model, double? recommendedMinConfidence, IReadOnlyList<BundleLabel>? modelLabels = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var tuning = _tunings?.For(window.SourceId) ?? SourceTuning.None;
        var labels = tuning.ChoosesLabels ? ChooseLabels(result, modelLabels, tuning) : result.Labels;
        if (tuning.Labels is not null && labels.Count == 0)
        {
            // The source listens only to its labels, and heard none of them.
            Suppress("labels", window.SourceId);
            return;
        }

        if (Decide(window.SourceId, window.Start, window.End, result.Text, result.Confidence, model, labels, tuning.MinConfidence ?? _options.MinConfidence ?? recommendedMinConfidence, useConfiguredMinimum: false) is { } caption)
        {
            _outlet.Publish(caption);
        }
    }

    /// <summary>
    /// A source's labels: each label of the model (never "nothing") within the source's <c>Labels</c>, whose probability
    /// reached the source's threshold for it or else the model's, highest first. Without the model's probabilities
    /// (a bundle without labels), the model's own choice narrowed to the source's labels.
    /// </summary>
    internal static IReadOnlyList<LabelScore> ChooseLabels(CaptionResult result, IReadOnlyList<BundleLabel>? modelLabels, SourceTuning tuning)
    {
        if (modelLabels is null || result.LabelProbabilities.Count != modelLabels.Count)
        {
            return tuning.Labels is null ? result.Labels : [.. result.Labels.Where(l => tuning.Labels.Contains(l.Label))];
        }

        List<LabelScore>? chosen = null;
        for (var i = 0; i < modelLabels.Count; i++)
        {
            var label = modelLabels[i];
            if (label.Name == BundleLabel.Nothing || (tuning.Labels is not null && !tuning.Labels.Contains(label.Name)))
            {
                continue;
            }

            var threshold = tuning.LabelThresholds.TryGetValue(label.Name, out var own) ? own : label.Threshold;
            var probability = result.LabelProbabilities[i];
            if (probability >= threshold)
            {
                (chosen ??= []).Add(new LabelScore(label.Name, label.Display, probability));
            }
        }

        if (chosen is null)
        {
            return [];
        }

        // Highest first; ties in the model's order (a stable sort).
        return [.. chosen.OrderByDescending(l => l.Score)];
    }

    /// <summary>Applies the policy to one window's caption; the published caption carries <paramref name="labels"/> (none when null).</summary>
    /// <param name="sourceId">The window's source.</param>
    /// <param name="start">The window's start.</param>
    /// <param name="end">The window's end.</param>
    /// <param name="text">The caption.</param>
    /// <param name="confidence">Its confidence.</param>
    /// <param name="model">The model that captioned it.</param>
    /// <param name="labels">Its labels.</param>
    /// <param name="recommendedMinConfidence">The model's recommended minimum confidence, used when <c>Captions:MinConfidence</c> is unset.</param>
    /// <param name="useConfiguredMinimum">False when <paramref name="recommendedMinConfidence"/> is already the minimum in force (the source's, the configured or the model's).</param>
    /// <returns>The caption to publish (with its sequence number), or null when it is suppressed (counted).</returns>
    public Caption? Decide(
        string sourceId,
        DateTimeOffset start,
        DateTimeOffset end,
        string text,
        double confidence,
        string model,
        IReadOnlyList<LabelScore>? labels = null,
        double? recommendedMinConfidence = null,
        bool useConfiguredMinimum = true)
    {
        ArgumentNullException.ThrowIfNull(sourceId);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(model);
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            if (!_sources.TryGetValue(sourceId, out var state))
            {
                state = new SourceState();
                _sources.Add(sourceId, state);
            }

            var minimum = useConfiguredMinimum ? _options.MinConfidence ?? recommendedMinConfidence : recommendedMinConfidence;
            if (confidence < (minimum ?? 0))
            {
                return Suppress("low_confidence", sourceId);
            }

            if (text.Length == 0)
            {
                return Suppress("empty", sourceId);
            }

            if (_options.SuppressRepeats && string.Equals(text, state.LastText, StringComparison.Ordinal)
                && (_heartbeat <= TimeSpan.Zero || now - state.LastPublished < _heartbeat))
            {
                return Suppress("repeat", sourceId);
            }

            var sequence = _numbering.Next(sourceId);
            state.LastText = text;
            state.LastPublished = now;
            // The latency so far; the sink's pump sets it again when it delivers the caption. Never negative.
            var latency = now > end ? now - end : TimeSpan.Zero;
            return new Caption(sourceId, sequence, start, end, text, confidence, model, latency) { Labels = ToCaptionLabels(labels), Run = _numbering.Run };
        }
    }

    private static IReadOnlyList<CaptionLabel> ToCaptionLabels(IReadOnlyList<LabelScore>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return [];
        }

        var converted = new CaptionLabel[labels.Count];
        for (var i = 0; i < converted.Length; i++)
        {
            var label = labels[i];
            converted[i] = new CaptionLabel(label.Label, label.Display, ShortestDouble(label.Score));
        }

        return converted;
    }

    /// <summary>
    /// The double with the float's shortest decimal form (0.91f becomes 0.91, not 0.9100000262...), so that every sink
    /// writes the score as the model gave it without its own rounding.
    /// </summary>
    private static double ShortestDouble(float value)
    {
        Span<char> text = stackalloc char[32];
        return value.TryFormat(text, out var written, provider: CultureInfo.InvariantCulture)
            && double.TryParse(text[..written], NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : value;
    }

    private Caption? Suppress(string reason, string sourceId)
    {
        _metrics.CaptionsSuppressed.Add(1, new("reason", reason), new("source", sourceId));
        return null;
    }

    private sealed class SourceState
    {
        public string? LastText { get; set; }

        public DateTimeOffset LastPublished { get; set; }
    }
}
