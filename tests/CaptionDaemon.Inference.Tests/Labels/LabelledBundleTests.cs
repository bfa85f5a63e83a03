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

    [Fact]
    public void Caption_LabelledBundle_StillAllocatesNothingPerDecoderStep()
    {
        using var captioner = fixture.Bundle.CreateCaptioner();
        captioner.CompactionEnabled = false;

        var audio = fixture.Audio.AsSpan(0, 3 * fixture.WindowSamples);

        captioner.Caption(audio, 3, DecodeOptions.Default with { MaxTokens = 6 });
        var results = captioner.Caption(audio, 3, DecodeOptions.Default with { MaxTokens = 6 });

        Assert.True(captioner.LastStatistics.Steps >= 2, $"only {captioner.LastStatistics.Steps} steps ran");
        Assert.Equal(0, captioner.LastStatistics.AllocatedBytes);
        Assert.All(results, r => Assert.Equal(LabelledBundleFixture.LabelNames.Count, r.LabelProbabilities.Count));
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
}
