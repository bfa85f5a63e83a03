using System.Text;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;

namespace CaptionDaemon.Inference.Tests.Bundles;

/// <summary>The manifest reads and writes exactly the JSON of docs/captioning-core.md.</summary>
public sealed class BundleManifestTests
{
    // The example of the contract, verbatim in its field names.
    internal const string ContractExample = """
        {
          "format": "captiond-bundle", "format_version": 1,
          "name": "student-scenes-v1", "created": "2026-11-24T10:00:00Z",
          "sample_rate": 16000, "window_seconds": 10.0, "max_caption_tokens": 20,
          "tokens": {"pad": 0, "start": 1, "end": 2, "unk": 3},
          "architecture": {"d_model": 256, "decoder_layers": 2, "heads": 4, "head_dim": 64,
                           "vocab_size": 412, "embedding_dim": 128, "mel_bins": 64},
          "graphs": {
            "encoder":      {"file": "encoder.onnx", "sha256": "aa", "inputs": ["audio"], "outputs": ["memory","embedding"]},
            "cross_kv":     {"file": "cross_kv.onnx", "sha256": "bb", "inputs": ["memory"], "outputs": ["cross_k","cross_v"]},
            "decoder_step": {"file": "decoder_step.onnx", "sha256": "cc", "inputs": ["tokens","beam_index","past_k","past_v","cross_k","cross_v"], "outputs": ["logprobs","present_k","present_v"]}
          },
          "vocab": {"file": "vocab.json", "sha256": "dd"},
          "parameters": {"encoder": 10, "decoder": 20, "total": 30},
          "training": { "method": "supervised", "data": "scenes", "metrics": {"bleu_1": 0.5, "cider_d": 0.25}, "teacher": "t1" }
        }
        """;

    [Fact]
    public void Parse_ContractExample_ReadsEveryField()
    {
        var m = BundleManifest.Parse(Encoding.UTF8.GetBytes(ContractExample), "example");

        Assert.Equal("student-scenes-v1", m.Name);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero), m.Created);
        Assert.Equal(160000, m.WindowSamples);
        Assert.Equal(20, m.MaxCaptionTokens);
        Assert.Equal(2, m.Tokens.End);
        Assert.Equal(64, m.Architecture.HeadDim);
        Assert.Equal(412, m.Architecture.VocabSize);
        Assert.Equal(64, m.Architecture.MelBins);
        Assert.Equal("bb", m.Graphs.CrossKv.Sha256);
        Assert.Equal(["tokens", "beam_index", "past_k", "past_v", "cross_k", "cross_v"], m.Graphs.DecoderStep.Inputs);
        Assert.Equal("dd", m.Vocab.Sha256);
        Assert.Equal(30, m.Parameters.Total);
        Assert.Equal("t1", m.Training["teacher"]!.GetValue<string>());
        Assert.Equal(0.25, m.Training["metrics"]!["cider_d"]!.GetValue<double>());
    }

    [Fact]
    public void ToUtf8Json_RoundTrip_WritesContractFieldNames()
    {
        var m = BundleManifest.Parse(Encoding.UTF8.GetBytes(ContractExample), "example");

        var written = JsonNode.Parse(m.ToUtf8Json())!.AsObject();
        var expected = JsonNode.Parse(ContractExample)!.AsObject();

        Assert.Equal(Keys(expected), Keys(written));
        Assert.Equal(Keys(expected["graphs"]!["cross_kv"]!.AsObject()), Keys(written["graphs"]!["cross_kv"]!.AsObject()));
        Assert.Equal(Keys(expected["architecture"]!.AsObject()), Keys(written["architecture"]!.AsObject()));
        Assert.True(JsonNode.DeepEquals(expected["training"], written["training"]));
        Assert.True(JsonNode.DeepEquals(written, JsonNode.Parse(BundleManifest.Parse(m.ToUtf8Json(), "round trip").ToUtf8Json())));
    }

    [Theory]
    [InlineData("format", "missing field 'format'")]
    [InlineData("format_version", "missing field 'format_version'")]
    [InlineData("vocab", "vocab")]
    [InlineData("max_caption_tokens", "max_caption_tokens")]
    public void Parse_MissingField_NamesField(string field, string expected)
    {
        var json = JsonNode.Parse(ContractExample)!.AsObject();
        json.Remove(field);

        var e = Assert.Throws<BundleException>(() => BundleManifest.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "dir/manifest.json"));

        Assert.StartsWith("dir/manifest.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestedFieldMissing_NamesField()
    {
        var json = JsonNode.Parse(ContractExample)!.AsObject();
        json["graphs"]!["decoder_step"]!.AsObject().Remove("sha256");

        var e = Assert.Throws<BundleException>(() => BundleManifest.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "m.json"));

        Assert.Contains("sha256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NullName_IsRefused()
    {
        var json = JsonNode.Parse(ContractExample)!.AsObject();
        json["name"] = null;

        var e = Assert.Throws<BundleException>(() => BundleManifest.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "m.json"));

        Assert.Contains("name", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"captiond-bundle\"", "2", "unsupported format_version 2")]
    [InlineData("\"onnx-model\"", "1", "unknown format \"onnx-model\"")]
    public void Parse_WrongFormatOrVersion_SaysWhich(string format, string version, string expected)
    {
        var json = JsonNode.Parse(ContractExample)!.AsObject();
        json["format"] = JsonNode.Parse(format);
        json["format_version"] = JsonNode.Parse(version);

        var e = Assert.Throws<BundleException>(() => BundleManifest.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "m.json"));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingFile_NamesFile()
    {
        var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "manifest.json");

        var e = Assert.Throws<BundleException>(() => BundleManifest.Read(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ComputeSha256_KnownContent_IsLowerHex()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "abc");
            Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", BundleManifest.ComputeSha256(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Parse_Labels_ReadsNameDisplayAndThresholdInOrder()
    {
        var m = BundleManifest.Parse(WithLabels(Labelled()), "m.json");

        Assert.Equal(["dog", "nothing", "rain"], m.Labels.Select(l => l.Name));
        Assert.Equal(["Dog", "Nothing notable", "Rain"], m.Labels.Select(l => l.Display));
        Assert.Equal([0.5, 0.3, 0.25], m.Labels.Select(l => l.Threshold));
        BundleValidator.CheckManifest(m, "m.json");
    }

    [Fact]
    public void Parse_NoLabelsOrNull_EmptyAndNotWritten()
    {
        var absent = BundleManifest.Parse(Encoding.UTF8.GetBytes(ContractExample), "m.json");
        var json = JsonNode.Parse(ContractExample)!.AsObject();
        json["labels"] = null;
        var nullLabels = BundleManifest.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "m.json");

        Assert.Empty(absent.Labels);
        Assert.Empty(nullLabels.Labels);
        Assert.False(JsonNode.Parse(absent.ToUtf8Json())!.AsObject().ContainsKey("labels"));
        Assert.False(JsonNode.Parse((absent with { Labels = [] }).ToUtf8Json())!.AsObject().ContainsKey("labels"));
    }

    [Fact]
    public void ToUtf8Json_WithLabels_RoundTripsThem()
    {
        var m = BundleManifest.Parse(WithLabels(Labelled()), "m.json");

        var written = JsonNode.Parse(m.ToUtf8Json())!.AsObject();
        var again = BundleManifest.Parse(m.ToUtf8Json(), "round trip");

        Assert.True(JsonNode.DeepEquals(Labelled()["labels"], written["labels"]), written["labels"]!.ToJsonString());
        Assert.Equal(m.Labels, again.Labels);
    }

    [Theory]
    [InlineData("name", "\"\"", "labels[1].name is empty")]
    [InlineData("name", "\"dog\"", "labels[1].name \"dog\" appears more than once")]
    [InlineData("display", "\" \"", "labels[1].display (label \"nothing\") is empty")]
    [InlineData("threshold", "0", "labels[1].threshold (label \"nothing\") must be in (0, 1) (is 0)")]
    [InlineData("threshold", "1", "must be in (0, 1) (is 1)")]
    [InlineData("threshold", "-0.5", "must be in (0, 1) (is -0.5)")]
    public void CheckManifest_BadLabel_NamesLabelAndField(string field, string value, string expected)
    {
        var json = Labelled();
        json["labels"]![1]![field] = JsonNode.Parse(value);
        var m = BundleManifest.Parse(WithLabels(json), "dir/manifest.json");

        var e = Assert.Throws<BundleException>(() => BundleValidator.CheckManifest(m, "dir/manifest.json"));

        Assert.StartsWith("dir/manifest.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("threshold")]
    [InlineData("display")]
    [InlineData("name")]
    public void Parse_LabelFieldMissing_NamesField(string field)
    {
        var json = Labelled();
        json["labels"]![0]!.AsObject().Remove(field);

        var e = Assert.Throws<BundleException>(() => BundleManifest.Parse(WithLabels(json), "m.json"));

        Assert.StartsWith("m.json: invalid manifest", e.Message, StringComparison.Ordinal);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LabelsNotAnArray_Refused()
    {
        var json = Labelled();
        json["labels"] = "dog";

        var e = Assert.Throws<BundleException>(() => BundleManifest.Parse(WithLabels(json), "m.json"));

        Assert.Contains("labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckManifest_LabelsWithoutLabelProbsOutput_SaysTheEncoderMustGiveThem()
    {
        var json = Labelled();
        json["graphs"]!["encoder"]!["outputs"] = new JsonArray("memory", "embedding");
        var m = BundleManifest.Parse(WithLabels(json), "m.json");

        var e = Assert.Throws<BundleException>(() => BundleValidator.CheckManifest(m, "m.json"));

        Assert.Equal("m.json: the manifest lists 3 labels but graphs.encoder.outputs [memory, embedding] has no 'label_probs'.", e.Message);
    }

    [Fact]
    public void CheckManifest_LabelProbsWithoutLabels_Refused()
    {
        var json = Labelled();
        json.Remove("labels");
        var m = BundleManifest.Parse(WithLabels(json), "m.json");

        var e = Assert.Throws<BundleException>(() => BundleValidator.CheckManifest(m, "m.json"));

        Assert.Equal("m.json: graphs.encoder.outputs lists 'label_probs' but the manifest has no labels.", e.Message);
    }

    [Fact]
    public void CheckManifest_ContractExampleWithoutLabels_Passes()
    {
        BundleValidator.CheckManifest(BundleManifest.Parse(Encoding.UTF8.GetBytes(ContractExample), "m.json"), "m.json");
    }

    /// <summary>The contract example with three labels and the encoder's <c>label_probs</c> output.</summary>
    internal static JsonObject Labelled()
    {
        var json = JsonNode.Parse(ContractExample)!.AsObject();
        json["graphs"]!["encoder"]!["outputs"] = new JsonArray("memory", "embedding", "label_probs");
        json["labels"] = JsonNode.Parse("""
            [{"name": "dog", "display": "Dog", "threshold": 0.5},
             {"name": "nothing", "display": "Nothing notable", "threshold": 0.3},
             {"name": "rain", "display": "Rain", "threshold": 0.25}]
            """);
        return json;
    }

    private static byte[] WithLabels(JsonObject json) => Encoding.UTF8.GetBytes(json.ToJsonString());

    private static string[] Keys(JsonObject o) => [.. o.Select(p => p.Key).Order(StringComparer.Ordinal)];
}
