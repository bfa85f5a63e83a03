namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// Expected calibration error: how far a confidence is from the share of captions that are right at that confidence.
/// The confidences fall into equal-width bins over [0, 1] (bin b holds [b/B, (b+1)/B), the last one also 1); ECE is the
/// sum over bins of (windows in the bin / all windows) x |mean confidence - share right|. 0 is perfect calibration.
/// </summary>
internal static class CalibrationError
{
    /// <summary>The number of bins the reports use.</summary>
    public const int DefaultBins = 10;

    /// <summary>ECE of <paramref name="confidences"/> against whether each caption was right.</summary>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, or a confidence is outside [0, 1].</exception>
    public static double Expected(IReadOnlyList<double> confidences, IReadOnlyList<bool> right, int bins = DefaultBins)
    {
        ArgumentNullException.ThrowIfNull(confidences);
        ArgumentNullException.ThrowIfNull(right);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (confidences.Count != right.Count || confidences.Count == 0)
        {
            throw new ArgumentException($"Need as many outcomes as confidences, at least one (got {confidences.Count} confidences, {right.Count} outcomes).", nameof(right));
        }

        var count = new int[bins];
        var confidence = new double[bins];
        var correct = new int[bins];
        for (var i = 0; i < confidences.Count; i++)
        {
            var c = confidences[i];
            if (!(c is >= 0 and <= 1))
            {
                throw new ArgumentException($"Confidence {c} at {i} is outside [0, 1].", nameof(confidences));
            }

            var bin = Math.Min((int)(c * bins), bins - 1);
            count[bin]++;
            confidence[bin] += c;
            correct[bin] += right[i] ? 1 : 0;
        }

        var error = 0.0;
        for (var b = 0; b < bins; b++)
        {
            if (count[b] > 0)
            {
                error += Math.Abs((confidence[b] / count[b]) - ((double)correct[b] / count[b])) * count[b] / confidences.Count;
            }
        }

        return error;
    }
}
