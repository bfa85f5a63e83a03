namespace CaptionDaemon.Inference.Bundles;

/// <summary>
/// The features a <see cref="BundleConfidence"/> block may name, each computed from one window's encoder and decoder
/// run. Probabilities are clamped to [<see cref="Floor"/>, 1 - <see cref="Floor"/>] before their logit and the sequence
/// confidence to [<see cref="Floor"/>, 1] before its log, so every feature is finite (a sigmoid output of exactly 0 or 1
/// is common in float32).
/// </summary>
/// <remarks>The captioner and the trainer's <c>calibrate</c> compute them here, so what was fitted is what runs.</remarks>
public static class ConfidenceFeatures
{
    /// <summary>logit of the highest probability among the labels other than <c>nothing</c> ("something is there").</summary>
    public const string LabelTop = "label_top";

    /// <summary>logit of the probability of the label <c>nothing</c> ("nothing notable").</summary>
    public const string LabelNothing = "label_nothing";

    /// <summary>ln of the sequence confidence: the mean log-probability of the caption's tokens, <c>&lt;end&gt;</c> included.</summary>
    public const string Sequence = "sequence";

    /// <summary>The clamp of probabilities and of the sequence confidence.</summary>
    public const double Floor = 1e-6;

    /// <summary>Every feature name, in the order <c>calibrate</c> writes them.</summary>
    public static IReadOnlyList<string> All { get; } = [LabelTop, LabelNothing, Sequence];

    /// <summary>
    /// The features a bundle with <paramref name="labels"/> can compute, in the order of <see cref="All"/>:
    /// <see cref="LabelTop"/> needs a label other than <c>nothing</c>, <see cref="LabelNothing"/> the label <c>nothing</c>,
    /// <see cref="Sequence"/> is always there.
    /// </summary>
    public static IReadOnlyList<string> Available(IReadOnlyList<BundleLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var nothing = NothingIndex(labels);
        var features = new List<string>(3);
        if (labels.Count > (nothing >= 0 ? 1 : 0))
        {
            features.Add(LabelTop);
        }

        if (nothing >= 0)
        {
            features.Add(LabelNothing);
        }

        features.Add(Sequence);
        return features;
    }

    /// <summary>The value of <paramref name="feature"/> for one caption of a bundle with <paramref name="labels"/>.</summary>
    /// <param name="feature">A name of <see cref="All"/>.</param>
    /// <param name="result">The caption (its <see cref="CaptionResult.SequenceConfidence"/> and <see cref="CaptionResult.LabelProbabilities"/>).</param>
    /// <param name="labels">The bundle's labels, in the order of the probabilities.</param>
    /// <exception cref="ArgumentException">The feature is unknown or the bundle's labels cannot give it.</exception>
    public static double Value(string feature, CaptionResult result, IReadOnlyList<BundleLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(labels);
        if (result.LabelProbabilities.Count != labels.Count)
        {
            throw new ArgumentException($"The caption has {result.LabelProbabilities.Count} label probabilities, the bundle {labels.Count} labels.", nameof(result));
        }

        if (!Available(labels).Contains(feature, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Feature '{feature}' is not one of [{string.Join(", ", Available(labels))}] for these labels.", nameof(feature));
        }

        var probabilities = result.LabelProbabilities is float[] array ? array : [.. result.LabelProbabilities];
        return Compute(Parse(feature), result.SequenceConfidence, probabilities, NothingIndex(labels));
    }

    internal enum Kind
    {
        LabelTop,
        LabelNothing,
        Sequence,
    }

    internal static Kind Parse(string feature) => feature switch
    {
        LabelTop => Kind.LabelTop,
        LabelNothing => Kind.LabelNothing,
        Sequence => Kind.Sequence,
        _ => throw new ArgumentException($"Unknown confidence feature '{feature}'.", nameof(feature)),
    };

    internal static int NothingIndex(IReadOnlyList<BundleLabel> labels)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i].Name == BundleLabel.Nothing)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>One feature; <paramref name="nothing"/> is the index of <c>nothing</c> among the probabilities, or -1.</summary>
    internal static double Compute(Kind kind, float sequenceConfidence, ReadOnlySpan<float> probabilities, int nothing)
    {
        switch (kind)
        {
            case Kind.Sequence:
                return Math.Log(Math.Clamp((double)sequenceConfidence, Floor, 1.0));
            case Kind.LabelNothing:
                return Logit(probabilities[nothing]);
            default:
                var top = double.NegativeInfinity;
                for (var i = 0; i < probabilities.Length; i++)
                {
                    // NaN compares false and is skipped; a row of NaNs leaves the floor.
                    if (i != nothing && probabilities[i] > top)
                    {
                        top = probabilities[i];
                    }
                }

                return Logit(top);
        }
    }

    /// <summary>ln(p / (1 - p)) of <paramref name="probability"/> clamped to [Floor, 1 - Floor] (NaN to the floor).</summary>
    internal static double Logit(double probability)
    {
        var p = double.IsNaN(probability) ? Floor : Math.Clamp(probability, Floor, 1 - Floor);
        return Math.Log(p / (1 - p));
    }

    /// <summary>1 / (1 + e^-z), without overflow for large |z|.</summary>
    internal static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));
}
