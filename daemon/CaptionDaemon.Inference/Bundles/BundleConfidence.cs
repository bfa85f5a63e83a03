using System.Text.Json.Serialization;

namespace CaptionDaemon.Inference.Bundles;

/// <summary>
/// The manifest's optional <c>confidence</c> block: how a caption's confidence is computed from what one encoder and
/// decoder run gives, fitted on a validation split by <c>captiond-train calibrate</c>:
/// <c>{"method": "logistic", "features": ["label_top", "label_nothing", "sequence"], "weights": [..], "bias": ..,
/// "min_confidence": ..}</c>. Confidence = sigmoid(bias + sum of weights[i] x feature[i]), the features as
/// <see cref="ConfidenceFeatures"/> defines them. Without the block a caption's confidence is its sequence confidence
/// (the geometric mean of its tokens' probabilities), as for every bundle before calibration.
/// </summary>
public sealed record BundleConfidence
{
    /// <summary>The one <see cref="Method"/> this library reads: logistic regression on <see cref="Features"/>.</summary>
    public const string Logistic = "logistic";

    /// <summary>How the confidence is computed; <see cref="Logistic"/>.</summary>
    public required string Method { get; init; }

    /// <summary>The features, in the order of <see cref="Weights"/>: names of <see cref="ConfidenceFeatures"/>, each at most once.</summary>
    public required IReadOnlyList<string> Features { get; init; }

    /// <summary>One finite weight per feature.</summary>
    public required IReadOnlyList<double> Weights { get; init; }

    /// <summary>The intercept (finite).</summary>
    public required double Bias { get; init; }

    /// <summary>
    /// The <c>Captions:MinConfidence</c> the calibration recommends, in [0, 1], or null: the smallest confidence that
    /// keeps quiet windows' false alarms at or under 5% on the validation split. The daemon uses it when its
    /// configuration leaves <c>Captions:MinConfidence</c> unset; <c>eval --recordings</c> reports false alarms at it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MinConfidence { get; init; }

    /// <summary>sigmoid(<see cref="Bias"/> + sum of <see cref="Weights"/>[i] x <paramref name="features"/>[i]), in [0, 1].</summary>
    /// <param name="features">The values of <see cref="Features"/>, in order (see <see cref="ConfidenceFeatures"/>).</param>
    public double Apply(ReadOnlySpan<double> features)
    {
        if (features.Length != Weights.Count)
        {
            throw new ArgumentException($"Expected {Weights.Count} feature values, got {features.Length}.", nameof(features));
        }

        var z = Bias;
        for (var i = 0; i < features.Length; i++)
        {
            z += Weights[i] * features[i];
        }

        return ConfidenceFeatures.Sigmoid(z);
    }
}
