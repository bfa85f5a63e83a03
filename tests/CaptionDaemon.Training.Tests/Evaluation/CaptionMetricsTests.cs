using CaptionDaemon.Training.Evaluation;

namespace CaptionDaemon.Training.Tests.Evaluation;

public sealed class CaptionMetricsTests
{
    /// <summary>The published example of aac-metrics' README, quoted in PAPERS.md.</summary>
    internal static readonly string[] PublishedCandidates = ["a man is speaking", "rain falls"];

    internal static readonly string[][] PublishedReferences =
    [
        ["a man speaks.", "someone speaks.", "a man is speaking while a bird is chirping in the background"],
        ["rain is falling hard on a surface"],
    ];

    [Fact]
    public void Compute_PublishedExample_MatchesAacMetrics()
    {
        var scores = CaptionMetrics.Compute(PublishedCandidates, PublishedReferences);
        var perItem = CaptionMetrics.CiderDPerItem(PublishedCandidates, PublishedReferences);

        Assert.Equal(0.9614, scores.CiderD, 1e-4);
        Assert.Equal(1.3641, perItem[0], 1e-4);
        Assert.Equal(0.5587, perItem[1], 1e-4);
        Assert.Equal(0.4278, scores.Bleu1, 1e-4);
    }

    [Fact]
    public void Compute_PublishedExample_BleuAndRougeMatchHandArithmetic()
    {
        // Closest reference lengths: 3 for the 4-word candidate (|3-4| < |2-4|), 7 for the 2-word one: 6 words vs 10.
        // Unigram matches: a, man, is, speaking, rain = 5 of 6; bigrams "a man", "man is", "is speaking" = 3 of 4;
        // trigrams "a man is", "man is speaking" = 2 of 2; the 4-gram = 1 of 1.
        var brevity = Math.Exp(1 - (10.0 / 6.0));
        var scores = CaptionMetrics.Compute(PublishedCandidates, PublishedReferences);

        Assert.Equal(5.0 / 6 * brevity, scores.Bleu1, 1e-9);
        Assert.Equal(Math.Sqrt(5.0 / 6 * 3 / 4) * brevity, scores.Bleu2, 1e-9);
        Assert.Equal(Math.Pow(5.0 / 6 * 3 / 4 * 2 / 2, 1.0 / 3) * brevity, scores.Bleu3, 1e-9);
        Assert.Equal(Math.Pow(5.0 / 6 * 3 / 4 * 2 / 2 * 1, 1.0 / 4) * brevity, scores.Bleu4, 1e-9);
        // Item 1: the third reference contains the whole candidate (P 1, R 4/12), "a man speaks" shares "a man" (P 2/4,
        // R 2/3): best P 1, best R 2/3. Item 2: LCS "rain" (P 1/2, R 1/7).
        Assert.Equal((F(1, 2.0 / 3) + F(0.5, 1.0 / 7)) / 2, scores.RougeL, 1e-12);
    }

    [Fact]
    public void Compute_RepeatedWords_ClipsMatchesToTheReferenceCount()
    {
        // Unigrams: "a" three times but once in the reference, "b" once: 2 of 4. Bigrams: "a b" only: 1 of 3. Trigrams: 0 of 2.
        var scores = CaptionMetrics.Compute(["a a a b"], [["a b c"]]);

        Assert.Equal(0.5, scores.Bleu1, 1e-9);
        Assert.Equal(Math.Sqrt(0.5 / 3), scores.Bleu2, 1e-9);
        Assert.True(scores.Bleu3 < 1e-4, $"BLEU-3 {scores.Bleu3} with no trigram match");
    }

    [Fact]
    public void Compute_ShortCandidate_AppliesBrevityPenaltyOfClosestReference()
    {
        // Candidate of 2 words; references of 4 and 6 words: the closest is 4, so BP = exp(1 - 4/2).
        var scores = CaptionMetrics.Compute(["a dog"], [["a dog barks loudly", "a dog barks at the postman"]]);

        Assert.Equal(Math.Exp(-1), scores.Bleu1, 1e-9);
        Assert.Equal(Math.Exp(-1), scores.Bleu2, 1e-9);
    }

    [Fact]
    public void Compute_ReferenceLengthsTied_TakesTheShorterReference()
    {
        // 3 words between references of 2 and 4 words: pycocoevalcap takes 2, so there is no brevity penalty
        // (with 4 it would be exp(1 - 4/3) = 0.72).
        var scores = CaptionMetrics.Compute(["dog barks twice"], [["dog barks", "dog barks twice loudly"]]);

        Assert.Equal(1.0, scores.Bleu1, 1e-9);
    }

    [Fact]
    public void Compute_TwoItems_SumsCountsOverTheCorpusBeforeDividing()
    {
        // Item 1: 1 of 1 unigram matches; item 2: 0 of 3. Corpus: 1/4 (the mean of per-item precisions would be 1/2).
        // Lengths 4 vs 1 + 3 references: no brevity penalty.
        var scores = CaptionMetrics.Compute(["dog", "x y z"], [["dog"], ["a b c"]]);

        Assert.Equal(0.25, scores.Bleu1, 1e-9);
    }

    [Fact]
    public void Compute_RougeL_UsesLongestCommonSubsequenceWithBeta12()
    {
        // LCS of "a b c d" and "a c e d f" is "a c d": P 3/4, R 3/5.
        var scores = CaptionMetrics.Compute(["a b c d"], [["a c e d f"]]);

        Assert.Equal(F(0.75, 0.6), scores.RougeL, 1e-12);
        Assert.Equal(2.44 * 0.45 / 1.68, scores.RougeL, 1e-12);
    }

    [Fact]
    public void Compute_RougeL_MaximisesPrecisionAndRecallSeparatelyOverReferences()
    {
        // The short reference gives R 1 (P 1/2), the long one P 1 (R 1/2): pycocoevalcap combines the two maxima.
        var scores = CaptionMetrics.Compute(["a b c d"], [["a b", "a b c d e f g h"]]);

        Assert.Equal(1.0, scores.RougeL, 1e-12);
    }

    [Fact]
    public void Compute_OneItem_CiderDIsZero()
    {
        // log(N) = log(1) = 0 makes every tf-idf weight 0, even for a perfect candidate.
        var scores = CaptionMetrics.Compute(["a dog barks"], [["a dog barks"]]);

        Assert.Equal(0.0, scores.CiderD);
        Assert.True(scores.Bleu1 > 0.99);
    }

    [Fact]
    public void Compute_CandidatesEqualToTheirOnlyReferences_CiderDIsTen()
    {
        // Every n-gram occurs in one item of two: weight log 2 on both sides, cosine 1 for each n, no length penalty.
        var scores = CaptionMetrics.Compute(
            ["a dog barks loudly", "rain falls on roof"],
            [["a dog barks loudly"], ["rain falls on roof"]]);

        Assert.Equal(10.0, scores.CiderD, 1e-9);
    }

    [Fact]
    public void Compute_CandidateRepeatsReferenceWord_CiderDClipsTheRepeats()
    {
        // "dog dog" against "dog": unclipped, the unigram cosine would be 1; clipped, min(2w, w) * w / (2w * w) = 1/2.
        // Longer n-grams have no match. Lengths count bigrams (pycocoevalcap): 1 against 0, so the penalty is exp(-1/72).
        var perItem = CaptionMetrics.CiderDPerItem(["dog dog", "cat"], [["dog"], ["cat"]]);

        Assert.Equal(10 * (0.5 / 4) * Math.Exp(-1.0 / 72), perItem[0], 1e-9);
    }

    [Fact]
    public void Compute_EmptyCandidate_ScoresZeroWithoutFailing()
    {
        var scores = CaptionMetrics.Compute(["", "rain falls"], [["a dog barks"], ["rain falls"]]);

        Assert.Equal(0.5, scores.RougeL, 1e-12);
        Assert.True(double.IsFinite(scores.CiderD) && double.IsFinite(scores.Bleu4));
    }

    [Fact]
    public void Compute_MismatchedOrEmptyInputs_ThrowsSayingWhat()
    {
        Assert.Contains("2 candidates but 1", Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(["a", "b"], [["a"]])).Message, StringComparison.Ordinal);
        Assert.Contains("Item 0", Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(["a"], [Array.Empty<string>()])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute([], []));
    }

    private static double F(double precision, double recall) =>
        (1 + (1.2 * 1.2)) * precision * recall / (recall + (1.2 * 1.2 * precision));
}
