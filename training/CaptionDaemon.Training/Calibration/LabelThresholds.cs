using CaptionDaemon.Inference.Bundles;

namespace CaptionDaemon.Training.Calibration;

/// <summary>How a label's threshold was chosen.</summary>
/// <param name="Name">The label.</param>
/// <param name="Threshold">The threshold, in (0, 1).</param>
/// <param name="Positives">Validation windows of the label's category.</param>
/// <param name="F1">The F1 on the validation windows at the threshold; null when the threshold was not fitted.</param>
internal sealed record LabelThreshold(string Name, double Threshold, int Positives, double? F1);

/// <summary>
/// Per-label thresholds from validation windows: for each label with at least <see cref="MinPositives"/> windows of
/// its category, the threshold that maximises F1 over all the windows (recordings of other categories and quiet
/// windows are negatives), placed midway between the lowest probability reported and the next lower one, so that it
/// is not fitted to the last digit of one window; ties go to the higher threshold (fewer false labels). Labels with
/// fewer positives get <see cref="Fallback"/>; <c>nothing</c>, never reported, keeps its threshold. A chosen threshold
/// is never below <see cref="Floor"/>: on a val split with a handful of positives per label the F1 optimum often sits
/// at a probability of 0.01 or less, which on the test split reported 'wolf' for 91 of 1,234 recordings (label precision
/// 30%); a label the tagger gives less than a quarter is not one it heard.
/// </summary>
internal static class LabelThresholds
{
    public const int MinPositives = 3;

    public const double Fallback = 0.5;

    /// <summary>The lowest threshold F1 may choose.</summary>
    public const double Floor = 0.25;

    /// <param name="labels">The bundle's labels (names and current thresholds), in the order of the probabilities.</param>
    /// <param name="probabilities">Per window, the label probabilities in the order of <paramref name="labels"/>.</param>
    /// <param name="categories">Per window, its category, or null for a quiet window (negative for every label).</param>
    public static IReadOnlyList<LabelThreshold> Choose(IReadOnlyList<BundleLabel> labels, IReadOnlyList<IReadOnlyList<float>> probabilities, IReadOnlyList<string?> categories)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(categories);
        if (probabilities.Count != categories.Count)
        {
            throw new ArgumentException($"{probabilities.Count} rows of probabilities for {categories.Count} windows.", nameof(categories));
        }

        var chosen = new List<LabelThreshold>(labels.Count);
        for (var l = 0; l < labels.Count; l++)
        {
            var label = labels[l];
            var positives = categories.Count(c => string.Equals(c, label.Name, StringComparison.Ordinal));
            if (label.Name == BundleLabel.Nothing)
            {
                chosen.Add(new LabelThreshold(label.Name, label.Threshold, positives, null));
                continue;
            }

            if (positives < MinPositives)
            {
                chosen.Add(new LabelThreshold(label.Name, Fallback, positives, null));
                continue;
            }

            var ranked = probabilities
                .Select((p, w) => (P: (double)p[l], Positive: string.Equals(categories[w], label.Name, StringComparison.Ordinal)))
                .OrderByDescending(x => x.P)
                .ToArray();
            var (bestF1, bestThreshold) = (-1.0, Fallback);
            var truePositives = 0;
            for (var k = 0; k < ranked.Length; k++)
            {
                truePositives += ranked[k].Positive ? 1 : 0;

                // Cut only between distinct probabilities: windows with equal probabilities are reported together.
                if (k + 1 < ranked.Length && ranked[k + 1].P == ranked[k].P)
                {
                    continue;
                }

                var reported = k + 1;
                var f1 = 2.0 * truePositives / (reported + positives);
                if (f1 > bestF1)
                {
                    var below = k + 1 < ranked.Length ? ranked[k + 1].P : 0;
                    (bestF1, bestThreshold) = (f1, (ranked[k].P + below) / 2);
                }
            }

            chosen.Add(new LabelThreshold(label.Name, Math.Clamp(bestThreshold, Floor, 1 - 1e-6), positives, bestF1));
        }

        return chosen;
    }
}
