namespace CaptionDaemon.Inference;

/// <summary>The caption of one audio window.</summary>
/// <param name="Text">The words up to (not including) <c>&lt;end&gt;</c>, joined by single spaces.</param>
/// <param name="Confidence">
/// How likely the caption names what was heard, in [0, 1]: for a bundle with a <c>confidence</c> block (calibrated by
/// <c>captiond-train calibrate</c>) the block's logistic function of the window's features, otherwise
/// <see cref="SequenceConfidence"/>. <c>Captions:MinConfidence</c> applies to it.
/// </param>
/// <param name="TokenIds">The word ids of <paramref name="Text"/> (no <c>&lt;start&gt;</c>, no <c>&lt;end&gt;</c>).</param>
/// <param name="Score">The length-normalised log-probability the search ranked the caption by (see <see cref="DecodeOptions.LengthPenalty"/>).</param>
/// <param name="Ended">True when the model emitted <c>&lt;end&gt;</c>; false when the caption was cut at the maximum length.</param>
public sealed record CaptionResult(string Text, float Confidence, IReadOnlyList<int> TokenIds, double Score, bool Ended)
{
    /// <summary>
    /// exp(mean log-probability of the emitted tokens, <c>&lt;end&gt;</c> included), in [0, 1]: how sure the decoder
    /// was of its words, which is not how likely they are right (an uncalibrated model captions digital silence at 0.87).
    /// Equal to <see cref="Confidence"/> unless the bundle is calibrated.
    /// </summary>
    public float SequenceConfidence { get; init; } = Confidence;

    /// <summary>
    /// The labels of the window: each label of the bundle whose probability is at least its threshold, except
    /// <c>nothing</c>, highest probability first. Empty when none passes or the bundle has no labels.
    /// </summary>
    public IReadOnlyList<LabelScore> Labels { get; init; } = [];

    /// <summary>
    /// The encoder's probability of every label of the bundle, in the order of the manifest's <c>labels</c> (for
    /// calibrating thresholds); empty when the bundle has no labels.
    /// </summary>
    public IReadOnlyList<float> LabelProbabilities { get; init; } = [];
}
