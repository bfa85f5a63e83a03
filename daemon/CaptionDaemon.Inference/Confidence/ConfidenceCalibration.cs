using CaptionDaemon.Inference.Bundles;

namespace CaptionDaemon.Inference.Confidence;

/// <summary>
/// A bundle's <see cref="BundleConfidence"/> block ready to run per window: the features resolved once, so a window
/// costs a few logs and no allocation.
/// </summary>
internal sealed class ConfidenceCalibration
{
    private readonly BundleConfidence _block;
    private readonly ConfidenceFeatures.Kind[] _kinds;
    private readonly int _nothing;

    private ConfidenceCalibration(BundleConfidence block, IReadOnlyList<BundleLabel> labels)
    {
        _block = block;
        _kinds = [.. block.Features.Select(ConfidenceFeatures.Parse)];
        _nothing = ConfidenceFeatures.NothingIndex(labels);
    }

    /// <summary>The calibration of a validated manifest, or null when it has no <c>confidence</c> block.</summary>
    public static ConfidenceCalibration? For(BundleManifest manifest) =>
        manifest.Confidence is { } block ? new ConfidenceCalibration(block, manifest.Labels) : null;

    /// <summary>The calibrated confidence of one window.</summary>
    /// <param name="sequenceConfidence">The caption's sequence confidence.</param>
    /// <param name="probabilities">The window's row of <c>label_probs</c> (empty for a bundle without labels).</param>
    public float Apply(float sequenceConfidence, ReadOnlySpan<float> probabilities)
    {
        Span<double> features = stackalloc double[_kinds.Length];
        for (var i = 0; i < _kinds.Length; i++)
        {
            features[i] = ConfidenceFeatures.Compute(_kinds[i], sequenceConfidence, probabilities, _nothing);
        }

        return (float)_block.Apply(features);
    }
}
