using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// BLEU-1..4, ROUGE-L and CIDEr-D of candidate captions against reference sets, computed the way the captioning
/// community reports them (pycocoevalcap), on the tokens of <see cref="CaptionText.Tokenize"/>.
/// </summary>
internal static class CaptionMetrics
{
    /// <summary>Scores <paramref name="candidates"/>[i] against <paramref name="references"/>[i] for every item.</summary>
    /// <exception cref="ArgumentException">The lists differ in length, are empty, or an item has no reference.</exception>
    public static CaptionScores Compute(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references)
    {
        var (candidateTokens, referenceTokens) = Tokenize(candidates, references);
        var candidateCounts = candidateTokens.Select(t => new NGramCounts(t)).ToArray();
        var referenceCounts = referenceTokens.Select(refs => (IReadOnlyList<NGramCounts>)refs.Select(t => new NGramCounts(t)).ToArray()).ToArray();

        var bleu = CorpusBleu.Compute(candidateCounts, referenceCounts);
        var rouge = RougeL.Compute(candidateTokens, referenceTokens);
        var cider = CiderD.ScoreItems(candidateCounts, referenceCounts).Average();
        return new CaptionScores(bleu[0], bleu[1], bleu[2], bleu[3], rouge, cider);
    }

    /// <summary>The CIDEr-D of every item (their mean is <see cref="CaptionScores.CiderD"/>); useful to find weak items.</summary>
    public static double[] CiderDPerItem(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references)
    {
        var (candidateTokens, referenceTokens) = Tokenize(candidates, references);
        return CiderD.ScoreItems(
            candidateTokens.Select(t => new NGramCounts(t)).ToArray(),
            referenceTokens.Select(refs => (IReadOnlyList<NGramCounts>)refs.Select(t => new NGramCounts(t)).ToArray()).ToArray());
    }

    private static (string[][] Candidates, IReadOnlyList<string[]>[] References) Tokenize(
        IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(references);
        if (candidates.Count != references.Count)
        {
            throw new ArgumentException($"There are {candidates.Count} candidates but {references.Count} reference sets; each candidate needs its own set.", nameof(references));
        }

        if (candidates.Count == 0)
        {
            throw new ArgumentException("There is nothing to score: the corpus has no items.", nameof(candidates));
        }

        for (var i = 0; i < references.Count; i++)
        {
            if (references[i] is null || references[i].Count == 0)
            {
                throw new ArgumentException($"Item {i} has no reference caption.", nameof(references));
            }
        }

        return (
            candidates.Select(c => CaptionText.Tokenize(c ?? throw new ArgumentException("A candidate caption is null.", nameof(candidates)))).ToArray(),
            references.Select(refs => (IReadOnlyList<string[]>)refs.Select(CaptionText.Tokenize).ToArray()).ToArray());
    }
}
