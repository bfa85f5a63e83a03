namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// ROUGE-L as pycocoevalcap's <c>Rouge</c> computes it: per item, the longest common subsequence with each reference
/// gives a precision and a recall; the best precision and the best recall over the references (each maximised on its
/// own, possibly from different references) make an F-measure with beta 1.2; the corpus score is the mean over items.
/// </summary>
internal static class RougeL
{
    private const double Beta = 1.2;

    /// <summary>The mean ROUGE-L F-measure over the items.</summary>
    public static double Compute(IReadOnlyList<string[]> candidates, IReadOnlyList<IReadOnlyList<string[]>> references)
    {
        var sum = 0.0;
        for (var item = 0; item < candidates.Count; item++)
        {
            sum += Score(candidates[item], references[item]);
        }

        return sum / candidates.Count;
    }

    /// <summary>ROUGE-L of one candidate against its references; 0 for an empty candidate.</summary>
    public static double Score(string[] candidate, IReadOnlyList<string[]> references)
    {
        var bestPrecision = 0.0;
        var bestRecall = 0.0;
        foreach (var reference in references)
        {
            if (candidate.Length == 0 || reference.Length == 0)
            {
                // Nothing in common; pycocoevalcap reaches the same 0 through a one-token empty string.
                continue;
            }

            var common = LongestCommonSubsequence(candidate, reference);
            bestPrecision = Math.Max(bestPrecision, (double)common / candidate.Length);
            bestRecall = Math.Max(bestRecall, (double)common / reference.Length);
        }

        if (bestPrecision == 0 || bestRecall == 0)
        {
            return 0;
        }

        const double betaSquared = Beta * Beta;
        return (1 + betaSquared) * bestPrecision * bestRecall / (bestRecall + (betaSquared * bestPrecision));
    }

    /// <summary>Length of the longest common subsequence, by dynamic programming over two rows.</summary>
    public static int LongestCommonSubsequence(string[] a, string[] b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        foreach (var token in a)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = string.Equals(token, b[j - 1], StringComparison.Ordinal)
                    ? previous[j - 1] + 1
                    : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
