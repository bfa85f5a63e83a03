using System.Text;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;

namespace CaptionDaemon.Inference.Tests.Bundles;

/// <summary>The manifest's <c>confidence</c> block: read, written and checked as docs/captioning-core.md says.</summary>
public sealed class BundleConfidenceTests
{
    private const string Block = """
        {"method": "logistic", "features": ["label_top", "label_nothing", "sequence"],
         "weights": [0.8, -1.25, 0.5], "bias": -0.3, "min_confidence": 0.42}
        """;

    [Fact]
    public void Parse_ConfidenceBlock_ReadsEveryField()
    {
        var m = Parse(WithBlock(Block));

        var c = Assert.IsType<BundleConfidence>(m.Confidence);
        Assert.Equal(BundleConfidence.Logistic, c.Method);
        Assert.Equal(["label_top", "label_nothing", "sequence"], c.Features);
        Assert.Equal([0.8, -1.25, 0.5], c.Weights);
        Assert.Equal(-0.3, c.Bias);
        Assert.Equal(0.42, c.MinConfidence);
        BundleValidator.CheckManifest(m, "m.json");
    }

    [Fact]
    public void ToUtf8Json_ConfidenceBlock_RoundTripsAndIsLeftOutWhenAbsent()
    {
        var m = Parse(WithBlock(Block));
        var withoutMin = m with { Confidence = m.Confidence! with { MinConfidence = null } };
        var absent = Parse(BundleManifestTests.Labelled());

        var written = JsonNode.Parse(m.ToUtf8Json())!.AsObject();

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Block), written["confidence"]), written["confidence"]!.ToJsonString());
        var again = BundleManifest.Parse(m.ToUtf8Json(), "again").Confidence!;
        Assert.Equal((m.Confidence!.Method, m.Confidence.Bias, m.Confidence.MinConfidence), (again.Method, again.Bias, again.MinConfidence));
        Assert.Equal(m.Confidence.Features, again.Features);
        Assert.Equal(m.Confidence.Weights, again.Weights);
        Assert.False(JsonNode.Parse(withoutMin.ToUtf8Json())!["confidence"]!.AsObject().ContainsKey("min_confidence"));
        Assert.Null(absent.Confidence);
        Assert.False(JsonNode.Parse(absent.ToUtf8Json())!.AsObject().ContainsKey("confidence"));
    }

    [Theory]
    [InlineData("method")]
    [InlineData("features")]
    [InlineData("weights")]
    [InlineData("bias")]
    public void Parse_BlockFieldMissing_NamesField(string field)
    {
        var block = JsonNode.Parse(Block)!.AsObject();
        block.Remove(field);

        var e = Assert.Throws<BundleException>(() => Parse(WithBlock(block.ToJsonString())));

        Assert.StartsWith("m.json: invalid manifest", e.Message, StringComparison.Ordinal);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<Func<BundleConfidence, BundleConfidence>, string> BadBlocks => new()
    {
        { c => c with { Method = "temperature" }, "confidence.method \"temperature\" is not known (this library reads \"logistic\")" },
        { c => c with { Features = [], Weights = [] }, "confidence.features is empty" },
        { c => c with { Features = ["label_top", "loudness", "sequence"] }, "confidence.features[1] \"loudness\" is not a feature" },
        { c => c with { Features = ["sequence", "label_top", "sequence"] }, "confidence.features[2] \"sequence\" appears more than once" },
        { c => c with { Weights = [0.8, -1.25] }, "confidence.weights has 2 values for 3 features" },
        { c => c with { Weights = [0.8, double.NaN, 0.5] }, "confidence.weights[1] (feature \"label_nothing\") must be finite" },
        { c => c with { Bias = double.PositiveInfinity }, "confidence.bias must be finite" },
        { c => c with { MinConfidence = 1.5 }, "confidence.min_confidence must be in [0, 1] (is 1.5)" },
        { c => c with { MinConfidence = -0.1 }, "confidence.min_confidence must be in [0, 1] (is -0.1)" },
    };

    [Theory]
    [MemberData(nameof(BadBlocks))]
    public void CheckManifest_BadBlock_NamesFileFieldAndProblem(Func<BundleConfidence, BundleConfidence> spoil, string expected)
    {
        var m = Parse(WithBlock(Block));
        m = m with { Confidence = spoil(m.Confidence!) };

        var e = Assert.Throws<BundleException>(() => BundleValidator.CheckManifest(m, "dir/manifest.json"));

        Assert.StartsWith("dir/manifest.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckManifest_LabelFeatureWithoutTheLabels_SaysWhichLabelIsMissing()
    {
        var labelled = Parse(WithBlock(Block));
        var noNothing = labelled with { Labels = [.. labelled.Labels.Where(l => l.Name != BundleLabel.Nothing)] };
        var onlyNothing = labelled with { Labels = [.. labelled.Labels.Where(l => l.Name == BundleLabel.Nothing)] };
        var unlabelled = Parse(JsonNode.Parse(BundleManifestTests.ContractExample)!.AsObject()) with
        {
            Confidence = new BundleConfidence { Method = "logistic", Features = ["sequence", "label_top"], Weights = [1, 1], Bias = 0 },
        };

        var e1 = Assert.Throws<BundleException>(() => BundleValidator.CheckManifest(noNothing, "m.json"));
        var e2 = Assert.Throws<BundleException>(() => BundleValidator.CheckManifest(onlyNothing, "m.json"));
        var e3 = Assert.Throws<BundleException>(() => BundleValidator.CheckManifest(unlabelled, "m.json"));

        Assert.Contains("confidence.features[1] \"label_nothing\" needs the encoder's label probabilities, but the manifest has no label \"nothing\"", e1.Message, StringComparison.Ordinal);
        Assert.Contains("confidence.features[0] \"label_top\" needs the encoder's label probabilities, but the manifest has no label other than \"nothing\"", e2.Message, StringComparison.Ordinal);
        Assert.Contains("confidence.features[1] \"label_top\"", e3.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckManifest_SequenceOnlyWithoutLabels_Passes()
    {
        var m = Parse(JsonNode.Parse(BundleManifestTests.ContractExample)!.AsObject()) with
        {
            Confidence = new BundleConfidence { Method = "logistic", Features = ["sequence"], Weights = [2], Bias = 1 },
        };

        BundleValidator.CheckManifest(m, "m.json");
        Assert.Equal(["sequence"], ConfidenceFeatures.Available(m.Labels));
    }

    [Fact]
    public void Apply_Features_IsTheSigmoidOfTheAffineSum()
    {
        var c = Parse(WithBlock(Block)).Confidence!;

        // z = -0.3 + 0.8 x 2 - 1.25 x 1 + 0.5 x (-3) = -1.45
        Assert.Equal(1 / (1 + Math.Exp(1.45)), c.Apply([2, 1, -3]), 12);
        Assert.Throws<ArgumentException>(() => c.Apply([2, 1]));
    }

    private static JsonObject WithBlock(string block)
    {
        var json = BundleManifestTests.Labelled();
        json["confidence"] = JsonNode.Parse(block);
        return json;
    }

    private static BundleManifest Parse(JsonObject json) => BundleManifest.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "m.json");
}
