using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Decoding;
using CaptionDaemon.Inference.Labels;

namespace CaptionDaemon.Inference.Tests.Labels;

/// <summary>Label fusion on hand-written probabilities and log-probabilities, where each bonus is known.</summary>
public sealed class LabelFusionTests
{
    private const int Vocab = 8; // 0 pad, 1 start, 2 end, 3 unk, 4..7 words
    private const int End = 2;

    private static BundleLabel Label(string name, double threshold = 0.5) => new() { Name = name, Display = name, Threshold = threshold };

    private static (BeamSearch Search, long[] Tokens, long[] BeamIndex) Begin(int windows, int beam = 1, int maxTokens = 6)
    {
        var search = new BeamSearch(capacity: windows * beam, maxLength: maxTokens);
        var tokens = new long[windows * beam];
        var beamIndex = new long[windows * beam];
        search.Begin(windows, beam, Vocab, startToken: 1, endToken: End, maxTokens, alpha: 1.0, tokens, beamIndex);
        return (search, tokens, beamIndex);
    }

    [Fact]
    public void Apply_ReportedLabel_AddsWeightTimesProbabilityToItsWordsUntilTheCaptionHasOne()
    {
        // dog's words are 4 and 5; rain (word 6) is under its threshold; 'nothing' passes but is never fused.
        var fusion = new LabelFusion([[4, 5], [6], [7]], new LabelSelector([Label("dog"), Label("rain"), Label(BundleLabel.Nothing)]));
        fusion.Prepare([0.8f, 0.3f, 0.9f], count: 1, weight: 2.0);
        var (search, tokens, beamIndex) = Begin(windows: 1);
        var logprobs = new float[Vocab];

        fusion.Apply(logprobs, Vocab, step: 0, search);

        Assert.Equal([0, 0, 0, 0, 1.6f, 1.6f, 0, 0], logprobs);

        // The search takes word 4 (the largest): dog is named, so the next step gets no bonus.
        search.Advance(0, logprobs, tokens, beamIndex, allowCompaction: false);
        Assert.Equal(4, tokens[0]);
        Array.Clear(logprobs);
        fusion.Apply(logprobs, Vocab, step: 1, search);

        Assert.All(logprobs, lp => Assert.Equal(0f, lp));
    }

    [Fact]
    public void Apply_WordOfTwoReportedLabels_GetsTheLargerBonusNotTheSum()
    {
        var fusion = new LabelFusion([[4, 5], [5]], new LabelSelector([Label("guitar"), Label("acoustic_guitar")]));
        fusion.Prepare([0.6f, 0.9f], count: 1, weight: 1.0);
        var (search, _, _) = Begin(windows: 1);
        var logprobs = new float[Vocab];

        fusion.Apply(logprobs, Vocab, step: 0, search);

        Assert.Equal(0.6f, logprobs[4], 1e-6f);
        Assert.Equal(0.9f, logprobs[5], 1e-6f);
    }

    [Fact]
    public void Apply_TwoWindows_EachRowGetsItsOwnWindowsBonuses()
    {
        var fusion = new LabelFusion([[4], [6]], new LabelSelector([Label("dog"), Label("rain")]));
        fusion.Prepare([0.9f, 0.1f, 0.2f, 0.7f], count: 2, weight: 1.0);
        var (search, _, _) = Begin(windows: 2, beam: 2);
        var logprobs = new float[4 * Vocab];

        fusion.Apply(logprobs, Vocab, step: 0, search);

        for (var row = 0; row < 4; row++)
        {
            var lp = logprobs.AsSpan(row * Vocab, Vocab);
            Assert.Equal(row < 2 ? 0.9f : 0f, lp[4], 1e-6f);
            Assert.Equal(row < 2 ? 0f : 0.7f, lp[6], 1e-6f);
        }
    }

    [Fact]
    public void WordTokens_WordNotInVocabulary_RefusedNamingLabelAndWord()
    {
        string[] vocabulary = ["<pad>", "<start>", "<end>", "<unk>", "a", "dog", "barks"];
        BundleLabel[] labels = [Label("dog") with { Words = ["dog", "barks"] }, Label("cat") with { Words = ["meows"] }];

        var e = Assert.Throws<BundleException>(() => LabelFusion.WordTokens(labels, vocabulary, "/models/x/manifest.json"));

        Assert.Equal("/models/x/manifest.json: labels[1].words (label \"cat\") has \"meows\", which is not in the vocabulary.", e.Message);
        Assert.Equal([[5, 6]], LabelFusion.WordTokens(labels[..1], vocabulary, "m"));
    }

    [Fact]
    public void Search_WithBonus_RanksByTheBiasedScoreButTheSequenceConfidenceIsTheModelsOwn()
    {
        // The decoder prefers word 4 (p .5) to word 5 (p .3); the tagger's label 'dog' (word 5, probability .8, weight 2)
        // adds 1.6 to word 5, which then wins; the caption ends next with certainty.
        string[] vocabulary = ["<pad>", "<start>", "<end>", "<unk>", "cat", "dog", "rain", "wind"];
        var fusion = new LabelFusion([[5]], new LabelSelector([Label("dog")]));
        fusion.Prepare([0.8f], count: 1, weight: 2.0);
        var (search, tokens, beamIndex) = Begin(windows: 1);
        var logprobs = new float[Vocab];
        Array.Fill(logprobs, float.NegativeInfinity);
        (logprobs[4], logprobs[5], logprobs[End]) = ((float)Math.Log(0.5), (float)Math.Log(0.3), (float)Math.Log(0.2));

        fusion.Apply(logprobs, Vocab, step: 0, search);
        Assert.Equal(1.6f, fusion.Bonus(0, 5), 1e-6f);
        Assert.Equal(0f, fusion.Bonus(0, 4));
        search.Advance(0, logprobs, tokens, beamIndex, allowCompaction: false, fusion);
        Array.Fill(logprobs, float.NegativeInfinity);
        logprobs[End] = 0;
        fusion.Apply(logprobs, Vocab, step: 1, search);
        var progress = search.Advance(1, logprobs, tokens, beamIndex, allowCompaction: false, fusion);

        Assert.Equal(SearchProgress.Finished, progress);
        var result = search.Result(0, vocabulary);
        Assert.Equal("dog", result.Text);
        Assert.Equal(Math.Sqrt(0.3), result.SequenceConfidence, 1e-5); // exp(mean of ln .3 and ln 1), no bonus in it
    }
}
