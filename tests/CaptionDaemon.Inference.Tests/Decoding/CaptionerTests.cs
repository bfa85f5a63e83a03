using CaptionDaemon.Inference.Decoding;
using CaptionDaemon.Inference.Tests.Fixtures;
using static TorchSharp.torch;

namespace CaptionDaemon.Inference.Tests.Decoding;

/// <summary>Captions from ONNX Runtime on a real exported bundle, checked against the TorchSharp model it came from.</summary>
[Collection(ExportedBundleCollection.Name)]
public sealed class CaptionerTests(ExportedBundleFixture fixture)
{
    private const int MaxTokens = 8;

    // The TorchSharp searches these are compared with have no no-repeat rule (and the untrained test model repeats).
    private static readonly DecodeOptions Greedy = DecodeOptions.Greedy with { MaxTokens = MaxTokens, NoRepeatNgram = 0 };
    private static readonly DecodeOptions Beam3 = DecodeOptions.Default with { MaxTokens = MaxTokens, NoRepeatNgram = 0 };

    [Fact]
    public void Caption_GreedyBatchOfThree_EqualsTorchSharpGreedyDecode()
    {
        var audio = TestAudio.Windows(3, fixture.WindowSamples, fixture.SampleRate);
        int[][] expected;
        using (NewDisposeScope())
        {
            expected = fixture.Model.GreedyDecode(tensor(audio, [3, fixture.WindowSamples]), MaxTokens);
        }

        var results = fixture.Captioner.Caption(audio, 3, Greedy);

        Assert.Equal(3, results.Length);
        for (var w = 0; w < 3; w++)
        {
            Assert.Equal(expected[w], results[w].TokenIds);
            Assert.Equal(string.Join(' ', expected[w].Select(id => fixture.Vocabulary[id])), results[w].Text);
        }

        // Different audio gives different captions, so the comparison above is not trivially equal.
        Assert.True(expected.Select(e => string.Join(',', e)).Distinct().Count() > 1, "the three windows decoded alike");
    }

    [Fact]
    public void Caption_BeamThree_EqualsTheSameSearchOverTorchSharpSteps()
    {
        // Same search logic, but log-probabilities from TorchSharp's Step with the cache reordered in managed code:
        // checks the graph's beam_index gather, the ping-pong caches and the repeated memory of the ONNX path.
        const int windows = 3, beam = 3;
        var audio = TestAudio.Windows(windows, fixture.WindowSamples, fixture.SampleRate, seed: 2);
        var vocab = fixture.Vocabulary.Count;
        var search = new BeamSearch(windows * beam, MaxTokens);
        var tokens = new long[windows * beam];
        var beamIndex = new long[windows * beam];
        search.Begin(windows, beam, vocab, startToken: 1, endToken: 2, MaxTokens, alpha: 1.0, tokens, beamIndex);
        using (NewDisposeScope())
        using (no_grad())
        {
            var (memory, _) = fixture.Model.Encode(tensor(audio, [windows, fixture.WindowSamples]));
            var (crossK, crossV) = fixture.Model.CrossKeyValues(memory.repeat_interleave(beam, dim: 0));
            var (keys, values) = fixture.Model.EmptyCache(windows * beam);
            for (var step = 0; step < MaxTokens; step++)
            {
                var parents = tensor(beamIndex, ScalarType.Int64);
                var (logprobs, presentK, presentV) = fixture.Model.Step(
                    tensor(tokens, ScalarType.Int64), keys.index_select(1, parents), values.index_select(1, parents), crossK, crossV);
                (keys, values) = (presentK, presentV);
                if (search.Advance(step, logprobs.data<float>().ToArray(), tokens, beamIndex, allowCompaction: false) == SearchProgress.Finished)
                {
                    break;
                }
            }
        }

        var expected = Enumerable.Range(0, windows).Select(w => search.Result(w, fixture.Vocabulary)).ToArray();
        var actual = fixture.Captioner.Caption(audio, windows, Beam3);

        for (var w = 0; w < windows; w++)
        {
            Assert.Equal(expected[w].TokenIds, actual[w].TokenIds);
            Assert.Equal(expected[w].Score, actual[w].Score, 3);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Caption_Batched_EqualsOneByOne(int beam)
    {
        var options = DecodeOptions.Default with { Beam = beam, MaxTokens = MaxTokens };
        var audio = TestAudio.Windows(4, fixture.WindowSamples, fixture.SampleRate, seed: 5);

        var batched = fixture.Captioner.Caption(audio, 4, options);
        var single = Enumerable.Range(0, 4)
            .Select(w => fixture.Captioner.Caption(audio.AsSpan(w * fixture.WindowSamples, fixture.WindowSamples), 1, options)[0])
            .ToArray();

        for (var w = 0; w < 4; w++)
        {
            Assert.Equal(single[w].TokenIds, batched[w].TokenIds);
            Assert.Equal(single[w].Text, batched[w].Text);
            Assert.Equal(single[w].Score, batched[w].Score, 4);
        }
    }

    [Fact]
    public void Caption_BeamThree_ScoresAtLeastGreedy()
    {
        var audio = TestAudio.Windows(3, fixture.WindowSamples, fixture.SampleRate, seed: 9);

        var greedy = fixture.Captioner.Caption(audio, 3, Greedy);
        var beam = fixture.Captioner.Caption(audio, 3, Beam3);

        for (var w = 0; w < 3; w++)
        {
            Assert.True(beam[w].Score >= greedy[w].Score - 1e-6, $"window {w}: beam {beam[w].Score} < greedy {greedy[w].Score}");
        }
    }

    [Fact]
    public void Caption_BeamOne_IsGreedy()
    {
        var audio = TestAudio.Windows(2, fixture.WindowSamples, fixture.SampleRate, seed: 3);

        var greedy = fixture.Captioner.Caption(audio, 2, Greedy);
        var beamOne = fixture.Captioner.Caption(audio, 2, Greedy with { LengthPenalty = 0 });

        // The ranking exponent does not change a beam of one: same tokens, and the score is then the plain sum.
        Assert.Equal(greedy.Select(r => r.TokenIds), beamOne.Select(r => r.TokenIds));
        for (var w = 0; w < 2; w++)
        {
            var length = greedy[w].TokenIds.Count + (greedy[w].Ended ? 1 : 0);
            Assert.Equal(greedy[w].Score * length, beamOne[w].Score, 3);
        }
    }

    [Fact]
    public void Caption_MinWordsEqualToMaxTokens_DecodesExactlyThatMany()
    {
        var audio = TestAudio.Windows(2, fixture.WindowSamples, fixture.SampleRate, seed: 5);

        var results = fixture.Captioner.Caption(audio, 2, Beam3 with { MinWords = 6, MaxTokens = 6 });

        Assert.All(results, r => Assert.Equal(6, r.TokenIds.Count));
        Assert.All(results, r => Assert.False(r.Ended));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Captioner.Caption(audio, 2, Beam3 with { MinWords = 7, MaxTokens = 6 }));
    }

    [Fact]
    public void Caption_NoRepeatNgram_NoCaptionSaysARunOfThatManyWordsTwice()
    {
        var audio = TestAudio.Windows(4, fixture.WindowSamples, fixture.SampleRate, seed: 9);

        foreach (var n in new[] { 1, 2, 3 })
        {
            foreach (var result in fixture.Captioner.Caption(audio, 4, Beam3 with { NoRepeatNgram = n, MinWords = 6, MaxTokens = 6 }))
            {
                var runs = Enumerable.Range(0, result.TokenIds.Count - n + 1).Select(i => string.Join(' ', result.TokenIds.Skip(i).Take(n))).ToList();
                Assert.True(runs.Count == runs.Distinct().Count(), $"n {n}: '{result.Text}' repeats a run");
            }
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Captioner.Caption(audio, 4, Beam3 with { NoRepeatNgram = -1 }));
    }

    [Fact]
    public void Caption_Confidence_IsAProbabilityFromTheScore()
    {
        var audio = TestAudio.Windows(3, fixture.WindowSamples, fixture.SampleRate, seed: 21);

        foreach (var options in new[] { Greedy, Beam3 })
        {
            foreach (var r in fixture.Captioner.Caption(audio, 3, options))
            {
                Assert.InRange(r.Confidence, float.Epsilon, 1f);

                // alpha = 1: the score is the mean log-probability, and confidence is its exponential.
                Assert.Equal(Math.Exp(r.Score), r.Confidence, 4);
            }
        }
    }

    [Fact]
    public void Caption_SecondCallSameSize_AllocatesNothingPerDecoderStep()
    {
        using var captioner = fixture.Bundle.CreateCaptioner();
        captioner.CompactionEnabled = false;
        var audio = TestAudio.Windows(3, fixture.WindowSamples, fixture.SampleRate);

        captioner.Caption(audio, 3, Beam3);
        captioner.Caption(audio, 3, Beam3);
        var stats = captioner.LastStatistics;

        Assert.True(stats.Steps >= 2, $"only {stats.Steps} steps ran");
        Assert.Equal(0, stats.AllocatedBytes);
    }

    [Fact]
    public void Caption_BundleWithoutLabels_ResultsCarryNoLabels()
    {
        var audio = TestAudio.Windows(2, fixture.WindowSamples, fixture.SampleRate);

        var results = fixture.Captioner.Caption(audio, 2, Greedy);

        Assert.Empty(fixture.Bundle.Manifest.Labels);
        Assert.All(results, r => Assert.Empty(r.Labels));
        Assert.All(results, r => Assert.Empty(r.LabelProbabilities));
    }

    [Fact]
    public void Caption_WrongSampleCount_ThrowsWithSizes()
    {
        var e = Assert.Throws<ArgumentException>(() => fixture.Captioner.Caption(new float[fixture.WindowSamples + 1], 1, Greedy));

        Assert.Contains($"{fixture.WindowSamples + 1}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Caption_ZeroWindows_ReturnsEmpty()
    {
        Assert.Empty(fixture.Captioner.Caption([], 0, Greedy));
    }
}
