using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Tests.Fixtures;

namespace CaptionDaemon.Inference.Tests.Bundles;

/// <summary>Loading real exported bundles, and refusing each kind of corrupted one with a message that says what is wrong.</summary>
[Collection(ExportedBundleCollection.Name)]
public sealed class CaptionBundleLoadTests(ExportedBundleFixture fixture)
{
    private static readonly CaptionerOptions Cpu = new() { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 };

    [Fact]
    public void Load_ExportedBundle_ExposesManifestVocabularyAndProvider()
    {
        using var bundle = CaptionBundle.Load(fixture.Directory, Cpu);

        Assert.Equal(ExecutionProvider.Cpu, bundle.ExecutionProvider);
        Assert.Equal(BundleManifest.FormatId, bundle.Manifest.Format);
        Assert.Equal(fixture.Vocabulary, bundle.Vocabulary);
        Assert.Equal(fixture.Model.Config.VocabSize, bundle.Manifest.Architecture.VocabSize);
        Assert.Equal(fixture.Model.Config.DModel, bundle.Manifest.Architecture.DModel);
        Assert.Equal(fixture.WindowSamples, bundle.WindowSamples);
        Assert.Equal(Path.GetFullPath(fixture.Directory), bundle.Directory);
    }

    [Fact]
    public void Load_ManifestMissingField_NamesManifestAndField()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m.Remove("max_caption_tokens"));

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.Contains(Path.Combine(copy.Path, "manifest.json"), e.Message, StringComparison.Ordinal);
        Assert.Contains("max_caption_tokens", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WrongFormatVersion_SaysUnsupportedVersion()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m => m["format_version"] = 2);

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.Contains("manifest.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("unsupported format_version 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FlippedByteInGraph_ReportsChecksumMismatchOfThatFile()
    {
        using var copy = fixture.Copy();
        var graph = Path.Combine(copy.Path, "decoder_step.onnx");
        var bytes = File.ReadAllBytes(graph);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(graph, bytes);

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(graph + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256 mismatch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingGraphFile_NamesTheFile()
    {
        using var copy = fixture.Copy();
        var graph = Path.Combine(copy.Path, "cross_kv.onnx");
        File.Delete(graph);

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(graph + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RenamedGraphOutput_ReportsMissingAndUnexpectedNames()
    {
        using var copy = fixture.Copy();
        var graph = Path.Combine(copy.Path, "decoder_step.onnx");

        // Same length, every occurrence (node output and graph output): still a valid graph, with output "logprobX".
        var bytes = File.ReadAllBytes(graph);
        var renamed = ReplaceAll(bytes, "logprobs"u8, "logprobX"u8);
        Assert.True(renamed > 0);
        File.WriteAllBytes(graph, bytes);
        ManifestEdits.Edit(copy.Path, m => m["graphs"]!["decoder_step"]!["sha256"] = BundleManifest.ComputeSha256(graph));

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(graph + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("graph outputs differ", e.Message, StringComparison.Ordinal);
        Assert.Contains("missing [logprobs]", e.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected [logprobX]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_VocabularySizeMismatch_NamesVocabFileAndSizes()
    {
        using var copy = fixture.Copy();
        var vocabPath = Path.Combine(copy.Path, "vocab.json");
        var vocab = JsonNode.Parse(File.ReadAllText(vocabPath))!;
        vocab["tokens"]!.AsArray().RemoveAt(vocab["tokens"]!.AsArray().Count - 1);
        File.WriteAllText(vocabPath, vocab.ToJsonString());
        ManifestEdits.Edit(copy.Path, m => m["vocab"]!["sha256"] = BundleManifest.ComputeSha256(vocabPath));

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(vocabPath + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{fixture.Vocabulary.Count - 1} tokens", e.Message, StringComparison.Ordinal);
        Assert.Contains($"vocab_size is {fixture.Vocabulary.Count}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ArchitectureDisagreesWithGraph_NamesAxis()
    {
        using var copy = fixture.Copy();
        var d = fixture.Model.Config.DModel;
        ManifestEdits.Edit(copy.Path, m =>
        {
            m["architecture"]!["d_model"] = d * 2;
            m["architecture"]!["head_dim"] = d * 2 / fixture.Model.Config.Heads;
        });

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.Contains("encoder.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains($"the manifest's architecture says {d * 2} (DModel)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_LabelsAddedToABundleWithoutLabelProbs_RefusedNamingTheMissingOutput()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m =>
        {
            m["labels"] = new JsonArray(new JsonObject { ["name"] = "dog", ["display"] = "Dog", ["threshold"] = 0.5 });
            m["graphs"]!["encoder"]!["outputs"] = new JsonArray("memory", "embedding", "label_probs");
        });

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.StartsWith(Path.Combine(copy.Path, "encoder.onnx") + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("missing [label_probs]", e.Message, StringComparison.Ordinal);
        Assert.Contains("the manifest lists 1 labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SwappedSpecialTokenIds_Refused()
    {
        using var copy = fixture.Copy();
        ManifestEdits.Edit(copy.Path, m =>
        {
            m["tokens"]!["start"] = 2;
            m["tokens"]!["end"] = 1;
        });

        var e = Assert.Throws<BundleException>(() => CaptionBundle.Load(copy.Path, Cpu));

        Assert.Contains("vocab.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("<start>", e.Message, StringComparison.Ordinal);
    }

    private static int ReplaceAll(byte[] data, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        var count = 0;
        for (var i = data.AsSpan().IndexOf(from); i >= 0;)
        {
            to.CopyTo(data.AsSpan(i));
            count++;
            var next = data.AsSpan(i + from.Length).IndexOf(from);
            i = next < 0 ? -1 : i + from.Length + next;
        }

        return count;
    }
}
