namespace CaptionDaemon.Training.Tagging;

/// <summary>Validation figures of a tagger: mean average precision over labels with positives, per-label AP, top-1 accuracy of the recordings.</summary>
internal sealed record TaggingScores(double MeanAveragePrecision, double Top1Accuracy, int Windows, IReadOnlyDictionary<string, double> AveragePrecision)
{
    /// <summary>The mean AP over those of <paramref name="labels"/> that have one (positives in the windows); null when none has.</summary>
    public double? MeanOver(IReadOnlySet<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var chosen = AveragePrecision.Where(p => labels.Contains(p.Key)).Select(p => p.Value).ToList();
        return chosen.Count == 0 ? null : chosen.Average();
    }
}

/// <summary>Average precision as scikit-learn's <c>average_precision_score</c> computes it (no interpolation).</summary>
internal static class TaggingMetrics
{
    /// <param name="probabilities">Per window, per label.</param>
    /// <param name="truth">Per window, the index of its one true label (<see cref="TaggingSet.Nothing"/> for quiet windows).</param>
    /// <param name="labels">Label names.</param>
    /// <param name="ignored">Per window, a label that it holds besides its true one (a scene window's background) and that
    /// is therefore neither a hit nor a false alarm for that label's AP; -1 for none. Null: no window holds one.</param>
    public static TaggingScores Score(float[][] probabilities, int[] truth, IReadOnlyList<string> labels, int[]? ignored = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(labels);
        var precision = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var label = 0; label < labels.Count; label++)
        {
            var positives = truth.Count(t => t == label);
            if (positives == 0)
            {
                continue;
            }

            var order = Enumerable.Range(0, truth.Length).Where(i => ignored is null || ignored[i] != label).OrderByDescending(i => probabilities[i][label]).ToArray();
            double hits = 0, sum = 0;
            for (var rank = 0; rank < order.Length; rank++)
            {
                if (truth[order[rank]] == label)
                {
                    hits++;
                    sum += hits / (rank + 1);
                }
            }

            precision[labels[label]] = sum / positives;
        }

        var correct = truth.Where((t, i) => ArgMax(probabilities[i]) == t).Count();
        return new TaggingScores(
            precision.Count == 0 ? 0 : precision.Values.Average(),
            truth.Length == 0 ? 0 : (double)correct / truth.Length,
            truth.Length,
            precision);
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
