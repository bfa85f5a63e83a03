using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Tests.Fixtures;

namespace CaptionDaemon.Inference.Tests.Labels;

/// <summary>A real exported bundle with a <c>confidence</c> block: the captioner's confidence is the block's function of the window's features.</summary>
[Collection(LabelledBundleCollection.Name)]
public sealed class CalibratedConfidenceTests(LabelledBundleFixture fixture)
{
    private static readonly CaptionerOptions Cpu = new() { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 };
    private static readonly DecodeOptions Search = DecodeOptions.Default with { MaxTokens = 6 };
    private const double Bias = -0.4;
    private static readonly double[] Weights = [1.5, -0.75, 2.0];

    [Fact]
    public void Caption_CalibratedBundle_ConfidenceIsTheSigmoidOfTheFeaturesAndSequenceConfidenceIsTheUncalibratedOne()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m["confidence"] = new JsonObject
        {
            ["method"] = "logistic",
            ["features"] = new JsonArray("label_top", "label_nothing", "sequence"),
            ["weights"] = new JsonArray([.. Weights.Select(w => (JsonNode)w)]),
            ["bias"] = Bias,
            ["min_confidence"] = 0.25,
        });
        using var bundle = CaptionBundle.Load(copy.Path, Cpu);
        using var captioner = bundle.CreateCaptioner();

        var calibrated = captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, Search);
        var plain = fixture.Captioner.Caption(fixture.Audio, LabelledBundleFixture.Windows, Search);

        Assert.Equal(0.25, bundle.Manifest.Confidence!.MinConfidence);
        var nothing = LabelledBundleFixture.LabelNames.ToList().IndexOf(BundleLabel.Nothing);
        for (var w = 0; w < calibrated.Length; w++)
        {
            var r = calibrated[w];
            Assert.Equal(plain[w].Text, r.Text);
            Assert.Equal(plain[w].Confidence, r.SequenceConfidence);
            Assert.Equal(plain[w].SequenceConfidence, plain[w].Confidence);

            // The features by their definitions in docs/captioning-core.md, computed here rather than by the library.
            var p = r.LabelProbabilities;
            var top = p.Where((_, i) => i != nothing).Max();
            var z = Bias + (Weights[0] * Logit(top)) + (Weights[1] * Logit(p[nothing])) + (Weights[2] * Math.Log(r.SequenceConfidence));
            Assert.Equal(1 / (1 + Math.Exp(-z)), r.Confidence, 1e-6);
        }

        // The windows differ, so a confidence that ignored the features would show here.
        Assert.True(calibrated.Select(r => r.Confidence).Distinct().Count() > 1, "every window has the same calibrated confidence");
        Assert.Contains(calibrated, r => Math.Abs(r.Confidence - r.SequenceConfidence) > 0.01);
    }

    [Fact]
    public void Load_BlockWithAnUnknownFeature_RefusedNamingTheManifest()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m["confidence"] = JsonNode.Parse("""{"method":"logistic","features":["loudness"],"weights":[1],"bias":0}"""));

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.Equal(Path.Combine(copy.Path, "manifest.json") + ": confidence.features[0] \"loudness\" is not a feature (known: [label_top, label_nothing, sequence]).", e.Message);
    }

    private static double Logit(double p)
    {
        p = Math.Clamp(p, 1e-6, 1 - 1e-6);
        return Math.Log(p / (1 - p));
    }
}
