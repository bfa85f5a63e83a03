namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// CIDEr-D as pycocoevalcap's <c>Cider</c> (and aac-metrics' <c>cider_d</c>) computes it. For each n = 1..4 every
/// caption becomes a tf-idf vector: term frequency times <c>log(N) - log(max(1, df))</c>, where N is the number of items
/// of the evaluated corpus and df the number of items whose references contain the n-gram. The similarity of the
/// candidate with a reference is the clipped cosine <c>sum min(c, r) * r / (|c| |r|)</c> times a Gaussian length
/// penalty (sigma 6); an item scores 10 times the mean over n of the mean over its references. The idf comes from the
/// corpus itself, so a corpus of one item has log(N) = 0 and scores 0.
/// </summary>
internal static class CiderD
{
    private const double Sigma = 6.0;
    private const double Scale = 10.0;

    /// <summary>The CIDEr-D of every item, in order; the corpus score is their mean.</summary>
    public static double[] ScoreItems(IReadOnlyList<NGramCounts> candidates, IReadOnlyList<IReadOnlyList<NGramCounts>> references)
    {
        var documentFrequency = DocumentFrequencies(references);
        var logItems = Math.Log(candidates.Count);
        var scores = new double[candidates.Count];
        for (var item = 0; item < candidates.Count; item++)
        {
            var candidate = new TfIdf(candidates[item], documentFrequency, logItems);
            var perOrder = new double[NGramCounts.MaxOrder];
            foreach (var referenceCounts in references[item])
            {
                var reference = new TfIdf(referenceCounts, documentFrequency, logItems);
                var delta = (double)(candidate.Length - reference.Length);
                var penalty = Math.Exp(-(delta * delta) / (2 * Sigma * Sigma));
                for (var n = 0; n < NGramCounts.MaxOrder; n++)
                {
                    perOrder[n] += ClippedCosine(candidate, reference, n) * penalty;
                }
            }

            scores[item] = perOrder.Average() / references[item].Count * Scale;
        }

        return scores;
    }

    /// <summary>For every n-gram, the number of items whose reference set contains it (each item counts once).</summary>
    private static Dictionary<string, int>[] DocumentFrequencies(IReadOnlyList<IReadOnlyList<NGramCounts>> references)
    {
        var frequencies = new Dictionary<string, int>[NGramCounts.MaxOrder];
        for (var n = 0; n < NGramCounts.MaxOrder; n++)
        {
            frequencies[n] = new Dictionary<string, int>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var refs in references)
            {
                seen.Clear();
                foreach (var reference in refs)
                {
                    seen.UnionWith(reference.Of(n + 1).Keys);
                }

                foreach (var ngram in seen)
                {
                    frequencies[n][ngram] = frequencies[n].GetValueOrDefault(ngram) + 1;
                }
            }
        }

        return frequencies;
    }

    private static double ClippedCosine(TfIdf candidate, TfIdf reference, int n)
    {
        if (candidate.Norms[n] == 0 || reference.Norms[n] == 0)
        {
            // Either vector is empty or all its n-grams occur in every item (idf 0): no evidence either way.
            return 0;
        }

        var dot = 0.0;
        foreach (var (ngram, weight) in candidate.Weights[n])
        {
            if (reference.Weights[n].TryGetValue(ngram, out var referenceWeight))
            {
                // CIDEr-D's clipping: repeating an n-gram beyond the reference's count earns nothing.
                dot += Math.Min(weight, referenceWeight) * referenceWeight;
            }
        }

        return dot / (candidate.Norms[n] * reference.Norms[n]);
    }

    /// <summary>The tf-idf vectors (one per order), their norms and the length used by the length penalty.</summary>
    private sealed class TfIdf
    {
        public TfIdf(NGramCounts counts, Dictionary<string, int>[] documentFrequency, double logItems)
        {
            Weights = new Dictionary<string, double>[NGramCounts.MaxOrder];
            Norms = new double[NGramCounts.MaxOrder];
            for (var n = 0; n < NGramCounts.MaxOrder; n++)
            {
                var weights = new Dictionary<string, double>(StringComparer.Ordinal);
                var squares = 0.0;
                foreach (var (ngram, termFrequency) in counts.Of(n + 1))
                {
                    var df = Math.Max(1, documentFrequency[n].GetValueOrDefault(ngram));
                    var weight = termFrequency * (logItems - Math.Log(df));
                    weights[ngram] = weight;
                    squares += weight * weight;
                }

                Weights[n] = weights;
                Norms[n] = Math.Sqrt(squares);
            }

            // pycocoevalcap measures a caption's length for the penalty by its number of bigrams (its `length` is summed
            // where the n-gram index is 1), i.e. words - 1; this only differs from the word count by a constant, except
            // for captions of 0 or 1 word, where it is 0 in both cases. Reproduced for exact agreement.
            Length = counts.Of(2).Values.Sum();
        }

        public Dictionary<string, double>[] Weights { get; }

        public double[] Norms { get; }

        public int Length { get; }
    }
}
