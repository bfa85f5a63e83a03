using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Tests.Fixtures;

namespace CaptionDaemon.Inference.Tests.Labels;

/// <summary>A real exported bundle with labels: its label probabilities against the TorchSharp model, and the labels each caption reports.</summary>
[Collection(LabelledBundleCollection.Name)]
public sealed class LabelledBundleTests(LabelledBundleFixture fixture)
{
    private const double Tolerance = 1e-4;
    private static readonly CaptionerOptions Cpu = new() { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 };
    private static readonly DecodeOptions Greedy = DecodeOptions.Greedy with { MaxTokens = 6 };

    [Fact]
    public void Load_LabelledBundle_ManifestListsTheModelsLabelsAndTheEncoderItsProbabilities()
    {
        var manifest = fixture.Bundle.Manifest;

        Assert.Equal(LabelledBundleFixture.LabelNames, manifest.Labels.Select(l => l.Name));
        Assert.Equal(["memory", "embedding", "label_probs"], manifest.Graphs.Encoder.Outputs);
        Assert.All(manifest.Labels, l => Assert.InRange(l.Threshold, 1e-6, 1 - 1e-6));
    }

    [Fact]
    public void Caption_Batch_LabelProbabilitiesEqualTorchSharpEncodeWithLabels()
    {
        var results = fixture.Captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, Greedy);

        var maxDiff = 0.0;
        for (var w = 0; w < results.Length; w++)
        {
            var expected = fixture.TorchProbabilities[w];
            Assert.Equal(expected.Length, results[w].LabelProbabilities.Count);
            for (var i = 0; i < expected.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - results[w].LabelProbabilities[i]));
            }
        }

        Assert.True(maxDiff <= Tolerance, $"max |ONNX - TorchSharp| = {maxDiff}");

        // Windows differ, so equal columns would mean the comparison compares nothing that depends on the audio.
        Assert.True(results.Select(r => r.LabelProbabilities[0]).Distinct().Count() > 1, "every window has the same probability of the first label");
    }

    [Fact]
    public void Caption_Batch_ReportsLabelsAtOrAboveThresholdHighestFirstNeverNothing()
    {
        var labels = fixture.Bundle.Manifest.Labels;
        var nothing = labels.Select(l => l.Name).ToList().IndexOf(BundleLabel.Nothing);

        var results = fixture.Captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, DecodeOptions.Default with { MaxTokens = 6 });

        var reported = 0;
        var nothingPassed = 0;
        foreach (var result in results)
        {
            var p = result.LabelProbabilities;
            var expected = labels
                .Select((label, i) => (label, score: p[i]))
                .Where(x => x.label.Name != BundleLabel.Nothing && x.score >= x.label.Threshold)
                .OrderByDescending(x => x.score)
                .Select(x => new LabelScore(x.label.Name, x.label.Display, x.score));
            Assert.Equal(expected, result.Labels);
            Assert.All(result.Labels.Zip(result.Labels.Skip(1)), pair => Assert.True(pair.First.Score >= pair.Second.Score));
            Assert.DoesNotContain(result.Labels, l => l.Label == BundleLabel.Nothing);

            // Where 'nothing' passed its threshold, only its exclusion keeps it out.
            nothingPassed += p[nothing] >= labels[nothing].Threshold ? 1 : 0;
            reported += result.Labels.Count;
        }

        // The fixture sets 'nothing''s threshold under its lowest TorchSharp probability; ONNX Runtime's may differ in the
        // last digits, so a saturated window can fall just under it. Most windows must pass, or the exclusion was not tested.
        Assert.True(nothingPassed * 2 > results.Length, $"'nothing' passed its threshold in {nothingPassed} of {results.Length} windows");

        // Thresholds at each label's median: some labels reported, not all of them (else the filter was not tested).
        var possible = results.Length * (labels.Count - 1);
        Assert.InRange(reported, 1, possible - 1);
    }

    [Fact]
    public void Caption_OneByOne_SameLabelsAsBatched()
    {
        var samples = fixture.WindowSamples;
        var batched = fixture.Captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, Greedy);

        for (var w = 0; w < LabelledBundleFixture.Windows; w++)
        {
            var single = fixture.Captioner.Caption(fixture.Audio.AsSpan(w * samples, samples), 1, Greedy)[0];

            Assert.Equal(batched[w].Labels.Select(l => l.Label), single.Labels.Select(l => l.Label));
            for (var i = 0; i < single.LabelProbabilities.Count; i++)
            {
                Assert.Equal(batched[w].LabelProbabilities[i], single.LabelProbabilities[i], Tolerance);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Caption_LabelledBundle_StillAllocatesNothingPerDecoderStep(bool labelFusion)
    {
        using var withWords = new BundleWithWords(fixture, fusion: labelFusion ? 5 : null);
        var captioner = withWords.Captioner;
        captioner.CompactionEnabled = false;

        var audio = fixture.Audio.AsSpan(0, 3 * fixture.WindowSamples);

        captioner.Caption(audio, 3, DecodeOptions.Default with { MaxTokens = 6 });
        var results = captioner.Caption(audio, 3, DecodeOptions.Default with { MaxTokens = 6 });

        Assert.True(captioner.LastStatistics.Steps >= 2, $"only {captioner.LastStatistics.Steps} steps ran");
        Assert.Equal(0, captioner.LastStatistics.AllocatedBytes);
        Assert.All(results, r => Assert.Equal(LabelledBundleFixture.LabelNames.Count, r.LabelProbabilities.Count));

        // Fusion works only on windows with labels: some must have them, or its per-step path did not run.
        Assert.Contains(results, r => r.Labels.Count > 0);
    }

    [Fact]
    public void Load_LabelsRemovedFromManifest_RefusedNamingLabelProbs()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m.Remove("labels"));

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(Path.Combine(copy.Path, "manifest.json") + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("lists 'label_probs' but the manifest has no labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_LabelsAndLabelProbsRemovedFromManifest_GraphStillGivesThemRefused()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m =>
        {
            m.Remove("labels");
            m["graphs"]!["encoder"]!["outputs"] = new JsonArray("memory", "embedding");
        });

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(Path.Combine(copy.Path, "encoder.onnx") + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected [label_probs]", e.Message, StringComparison.Ordinal);
        Assert.Contains("the manifest lists no labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OneLabelMoreThanTheGraphsColumns_RefusedNamingBothCounts()
    {
        using var copy = fixture.Copy();
        var count = LabelledBundleFixture.LabelNames.Count;
        ManifestEdits.Edit(copy.Path, m => m["labels"]!.AsArray().Add(new JsonObject { ["name"] = "siren", ["display"] = "Siren", ["threshold"] = 0.5 }));

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(Path.Combine(copy.Path, "encoder.onnx") + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains($"output 'label_probs' has {count} columns", e.Message, StringComparison.Ordinal);
        Assert.Contains($"the manifest lists {count + 1} labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_GatedLabelWithoutWords_RefusedNamingTheLabel()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m["labels"]![0]!["gated"] = true);
        var name = LabelledBundleFixture.LabelNames[0];

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.Contains($"labels[0] (label \"{name}\") is gated but has no words to gate", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A copy of the fixture's bundle whose labels have words of its vocabulary ('nothing' none) and the given fusion
    /// weight, loaded on the CPU with a captioner.
    /// </summary>
    private sealed class BundleWithWords : IDisposable
    {
        private readonly TemporaryDirectory _copy;

        public BundleWithWords(LabelledBundleFixture fixture, double? fusion)
        {
            _copy = fixture.Copy();
            ManifestEdits.Edit(_copy.Path, m => AddWords(m, fusion));
            Bundle = CaptionBundle.Load(_copy.Path, Cpu);
            Captioner = Bundle.CreateCaptioner();
        }

        public CaptionBundle Bundle { get; }

        public Captioner Captioner { get; }

        public void Dispose()
        {
            Captioner.Dispose();
            Bundle.Dispose();
            _copy.Dispose();
        }

        private static void AddWords(JsonObject manifest, double? fusion)
        {
            var words = new Dictionary<string, string[]>
            {
                ["dog"] = ["dog", "barks"],
                ["speech"] = ["people", "talk"],
                ["rain"] = ["rain", "falls"],
                ["music"] = ["bird", "sings"],
            };
            foreach (var label in manifest["labels"]!.AsArray())
            {
                if (words.TryGetValue((string)label!["name"]!, out var w))
                {
                    label["words"] = new JsonArray([.. w.Select(x => (JsonNode)x)]);
                }
            }

            if (fusion is { } weight)
            {
                manifest["label_fusion"] = weight;
            }
        }
    }

    [Fact]
    public void Caption_StrongLabelFusion_NamesEveryReportedLabelAndLeavesWindowsWithoutLabelsAlone()
    {
        using var withWords = new BundleWithWords(fixture, fusion: 1000);
        var (bundle, captioner) = (withWords.Bundle, withWords.Captioner);
        var options = Greedy with { MaxTokens = 8 };

        var plain = fixture.Captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, options);
        var fused = captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, options);
        var words = bundle.Manifest.Labels.ToDictionary(l => l.Name, l => l.Words ?? []);

        var changed = 0;
        for (var w = 0; w < fused.Length; w++)
        {
            var said = fused[w].Text.Split(' ');
            Assert.All(fused[w].Labels, label => Assert.True(
                words[label.Label].Intersect(said).Any(), $"window {w}: '{fused[w].Text}' does not name its label {label.Label}"));
            if (fused[w].Labels.Count == 0)
            {
                Assert.Equal(plain[w].Text, fused[w].Text);
            }

            changed += fused[w].Text == plain[w].Text ? 0 : 1;
        }

        // The untrained decoder names a label by chance at most: fusion must have changed some captions.
        Assert.True(changed > 0, "label fusion changed no caption");
    }

    [Fact]
    public void Caption_LabelFusionZeroInOptions_OverridesTheManifestsWeight()
    {
        using var withWords = new BundleWithWords(fixture, fusion: 1000);
        var (bundle, captioner) = (withWords.Bundle, withWords.Captioner);

        var plain = fixture.Captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, Greedy);
        var off = captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, Greedy with { LabelFusion = 0 });
        var fused = captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, Greedy);

        Assert.Equal(plain.Select(r => r.Text), off.Select(r => r.Text));
        Assert.NotEqual(plain.Select(r => r.Text), fused.Select(r => r.Text));
    }

    [Fact]
    public void Load_LabelWordNotInVocabulary_RefusedNamingTheWord()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m["labels"]![0]!["words"] = new JsonArray("dog", "woofs"));

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(Path.Combine(copy.Path, "manifest.json") + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("labels[0].words (label \"dog\") has \"woofs\", which is not in the vocabulary", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Load_LabelFusionNegativeOrNotANumber_Refused(double weight)
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m["label_fusion"] = double.IsNaN(weight) ? "NaN" : weight);

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.Contains("label_fusion", e.Message, StringComparison.Ordinal);
    }
}
