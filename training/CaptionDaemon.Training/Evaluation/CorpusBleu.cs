namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// Corpus-level BLEU-1..4 as pycocoevalcap's <c>Bleu</c> computes it: clipped n-gram matches and n-gram counts summed
/// over the corpus, geometric mean of the precisions, one brevity penalty from the summed candidate length and the
/// summed "closest" reference lengths.
/// </summary>
internal static class CorpusBleu
{
    // pycocoevalcap adds these so that a zero match count gives a score of (almost) 0 rather than a division by zero or
    // log(0); they are kept for bit-for-bit agreement on corpora with no matches of some order.
    private const double Tiny = 1e-15;
    private const double Small = 1e-9;

    /// <summary>BLEU-1..4 (index 0..3) of the corpus.</summary>
    public static double[] Compute(IReadOnlyList<NGramCounts> candidates, IReadOnlyList<IReadOnlyList<NGramCounts>> references)
    {
        var order = NGramCounts.MaxOrder;
        var guess = new double[order];
        var correct = new double[order];
        double candidateLength = 0;
        double referenceLength = 0;
        for (var item = 0; item < candidates.Count; item++)
        {
            var candidate = candidates[item];
            var refs = references[item];
            candidateLength += candidate.Length;
            referenceLength += ClosestLength(candidate.Length, refs);
            for (var n = 1; n <= order; n++)
            {
                guess[n - 1] += Math.Max(0, candidate.Length - n + 1);
                foreach (var (ngram, count) in candidate.Of(n))
                {
                    // Clipping: an n-gram matches at most as often as it occurs in the one reference that has it most.
                    var maxInReference = 0;
                    foreach (var reference in refs)
                    {
                        maxInReference = Math.Max(maxInReference, reference.Of(n).GetValueOrDefault(ngram));
                    }

                    correct[n - 1] += Math.Min(count, maxInReference);
                }
            }
        }

        var ratio = (candidateLength + Tiny) / (referenceLength + Small);
        var brevityPenalty = ratio < 1 ? Math.Exp(1 - (1 / ratio)) : 1;
        var scores = new double[order];
        var product = 1.0;
        for (var n = 1; n <= order; n++)
        {
            product *= (correct[n - 1] + Tiny) / (guess[n - 1] + Small);
            scores[n - 1] = Math.Pow(product, 1.0 / n) * brevityPenalty;
        }

        return scores;
    }

    /// <summary>The reference length nearest to the candidate's; on a tie the shorter one (pycocoevalcap's "closest").</summary>
    private static int ClosestLength(int candidateLength, IReadOnlyList<NGramCounts> references)
    {
        var best = references[0].Length;
        foreach (var reference in references)
        {
            var distance = Math.Abs(reference.Length - candidateLength);
            var bestDistance = Math.Abs(best - candidateLength);
            if (distance < bestDistance || (distance == bestDistance && reference.Length < best))
            {
                best = reference.Length;
            }
        }

        return best;
    }
}
