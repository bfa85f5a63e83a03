using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Tests.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Export;

/// <summary>A checkpoint of a tiny model trained for a few seconds to recite two captions, saved once for the class.</summary>
public sealed class TrainedCheckpointFixture : IDisposable
{
    public static readonly string[] Vocabulary = ["<pad>", "<start>", "<end>", "<unk>", "a", "tone", "beeps", "softly", "noise", "hisses", "loudly", "here"];

    public TrainedCheckpointFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("captiond-export-").FullName;
        Checkpoint = Path.Combine(Directory, "checkpoint");
        using var scope = NewDisposeScope();
        random.manual_seed(31);
        using var model = new CaptionModel(TinyModels.Config(Vocabulary.Length));
        Audio = [
            TinyModels.SinesAndNoise(16000, 1, 440).Select(x => x * 2).ToArray(),
            randn(16000).mul(0.3).data<float>().ToArray(),
        ];
        var audio = stack(Audio.Select(a => tensor(a)));
        var inputs = tensor(new long[,] { { 1, 4, 5, 6, 7 }, { 1, 8, 9, 10, 11 } });
        var targets = tensor(new long[,] { { 4, 5, 6, 7, 2 }, { 8, 9, 10, 11, 2 } });
        TinyModels.Train(model, audio, inputs, targets, steps: 50);
        model.eval();
        model.SaveCheckpoint(Checkpoint, Vocabulary);
        File.WriteAllText(Path.Combine(Checkpoint, BundleExporter.TrainingSummaryFileName), """{"method": "supervised", "data": "two synthetic clips"}""");
        File.WriteAllText(Path.Combine(Checkpoint, BundleExporter.NoticeFileName), "Synthetic test audio.\n");
        Expected = model.GreedyDecode(audio, 8);
    }

    public string Directory { get; }

    public string Checkpoint { get; }

    public float[][] Audio { get; }

    /// <summary>TorchSharp greedy captions of <see cref="Audio"/>.</summary>
    public int[][] Expected { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class BundleExporterTests(TrainedCheckpointFixture fixture) : IClassFixture<TrainedCheckpointFixture>
{
    [Fact]
    public void ExportCommand_Checkpoint_WritesBundleThatTheInferenceLibraryLoadsAndDecodesLikeTorchSharp()
    {
        var bundleDir = Path.Combine(fixture.Directory, "bundle-cli");

        var exitCode = ExportCommand.Create().Parse(["--checkpoint", fixture.Checkpoint, "--out", bundleDir, "--name", "tiny-test", "--window-seconds", "1", "--max-tokens", "8"]).Invoke();

        Assert.Equal(0, exitCode);
        using var bundle = CaptionBundle.Load(bundleDir, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        using var captioner = bundle.CreateCaptioner();
        var windows = fixture.Audio.SelectMany(a => a).ToArray();
        var results = captioner.Caption(windows, 2, DecodeOptions.Greedy);

        Assert.Equal([4, 5, 6, 7], fixture.Expected[0]);      // the model learnt its captions ...
        Assert.Equal([8, 9, 10, 11], fixture.Expected[1]);
        Assert.Equal(fixture.Expected[0], results[0].TokenIds);   // ... and the bundle says the same through ONNX Runtime
        Assert.Equal(fixture.Expected[1], results[1].TokenIds);
        Assert.Equal("a tone beeps softly", results[0].Text);
        Assert.Equal("tiny-test", bundle.Manifest.Name);
    }

    [Fact]
    public void Export_Checkpoint_ManifestRecordsChecksumsSizesParametersAndTrainingSummary()
    {
        var bundleDir = Path.Combine(fixture.Directory, "bundle-manifest");
        using var model = CaptionModel.LoadCheckpoint(fixture.Checkpoint);

        var manifest = BundleExporter.ExportCheckpoint(fixture.Checkpoint, bundleDir, null, 1.0, null, overwrite: false, "captiond-train export (test)");
        var reread = BundleManifest.Read(Path.Combine(bundleDir, BundleManifest.FileName));

        Assert.Equal("checkpoint", reread.Name);
        Assert.Equal(15, reread.MaxCaptionTokens);                  // min(20, MaxTokens 16 - 1)
        Assert.Equal(1.0, reread.WindowSeconds);
        Assert.Equal(new BundleArchitecture { DModel = 32, DecoderLayers = 2, Heads = 4, HeadDim = 8, VocabSize = 12, EmbeddingDim = 8, MelBins = 64 }, reread.Architecture);
        var counts = model.CountParameters();
        Assert.Equal(new BundleParameters { Encoder = counts.Encoder, Decoder = counts.Decoder, Total = counts.Total }, reread.Parameters);
        foreach (var (file, sha) in new[]
        {
            (reread.Graphs.Encoder.File, reread.Graphs.Encoder.Sha256),
            (reread.Graphs.CrossKv.File, reread.Graphs.CrossKv.Sha256),
            (reread.Graphs.DecoderStep.File, reread.Graphs.DecoderStep.Sha256),
            (reread.Vocab.File, reread.Vocab.Sha256),
        })
        {
            Assert.Equal(BundleManifest.ComputeSha256(Path.Combine(bundleDir, file)), sha);
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Checkpoint, "vocab.json")), File.ReadAllBytes(Path.Combine(bundleDir, "vocab.json")));
        Assert.True(File.Exists(Path.Combine(bundleDir, "NOTICE")));
        Assert.Equal("supervised", reread.Training["method"]!.GetValue<string>());       // from the checkpoint's training.json
        Assert.Equal("captiond-train export (test)", reread.Training["export_command"]!.GetValue<string>());
        Assert.Equal(manifest.Graphs.DecoderStep.Inputs, ["tokens", "beam_index", "past_k", "past_v", "cross_k", "cross_v"]);
        Assert.Equal(["NOTICE", "cross_kv.onnx", "decoder_step.onnx", "encoder.onnx", "manifest.json", "vocab.json"],
            Directory.GetFiles(bundleDir).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Export_CheckpointInTheTempFolder_ManifestRecordsItUnderTmpAndNamesNoMachinePath()
    {
        var bundleDir = Path.Combine(fixture.Directory, "bundle-portable");
        var command = $"captiond-train export --checkpoint {fixture.Checkpoint} --out {bundleDir}";

        BundleExporter.ExportCheckpoint(fixture.Checkpoint, bundleDir, null, 1.0, null, overwrite: false, command);

        var text = File.ReadAllText(Path.Combine(bundleDir, BundleManifest.FileName));
        Assert.DoesNotContain(fixture.Directory, text, StringComparison.Ordinal);
        var training = BundleManifest.Read(Path.Combine(bundleDir, BundleManifest.FileName)).Training;
        var checkpoint = training["checkpoint"]!.GetValue<string>();
        Assert.StartsWith(RecordedPaths.TempRoot + "/", checkpoint, StringComparison.Ordinal);
        Assert.Equal(Path.GetFullPath(fixture.Checkpoint), RecordedPaths.Current.Resolve(checkpoint));
        Assert.Equal($"captiond-train export --checkpoint {checkpoint} --out {RecordedPaths.Current.Record(bundleDir)}", training["export_command"]!.GetValue<string>());
    }

    [Fact]
    public void Export_TaggerCheckpoint_ManifestListsTheLabelsInColumnOrderWithDisplayNamesAndTheBundleLoads()
    {
        var checkpoint = Path.Combine(fixture.Directory, "tagger-checkpoint");
        var bundleDir = Path.Combine(fixture.Directory, "bundle-tagger");
        random.manual_seed(4);
        var tagger = TaggingEncoderConfig.Named("small", ["dog", "church_organ", "speech", "tea_kettle", "nothing"]) with
        {
            StemChannels = 4,
            Stages = [new(8, 1, 2, true), new(12, 1, 2, true), new(12, 1, 2, false)],
            HeadChannels = 16,
            DModel = 32,
        };
        using (var model = new CaptionModel(CaptionModelConfig.OnTagger(tagger, TrainedCheckpointFixture.Vocabulary.Length) with { DecoderLayers = 1, FeedForward = 64 }))
        {
            model.eval();
            model.SaveCheckpoint(checkpoint, TrainedCheckpointFixture.Vocabulary);
        }

        var manifest = BundleExporter.ExportCheckpoint(checkpoint, bundleDir, "tagger-test", 1.0, null, overwrite: false, "test", labelFusion: 2.5);

        Assert.Equal(2.5, manifest.LabelFusion);
        Assert.Equal(2.5, BundleManifest.Read(Path.Combine(bundleDir, BundleManifest.FileName)).LabelFusion);
        Assert.Equal(["dog", "church_organ", "speech", "tea_kettle", "nothing"], manifest.Labels.Select(l => l.Name));
        Assert.Equal(["Dog", "Church organ", "Speech", "Tea kettle", "Nothing notable"], manifest.Labels.Select(l => l.Display));
        Assert.All(manifest.Labels, l => Assert.Equal(BundleManifestFactory.DefaultLabelThreshold, l.Threshold));
        Assert.Equal(["memory", "embedding", "label_probs"], manifest.Graphs.Encoder.Outputs);
        using var bundle = CaptionBundle.Load(bundleDir, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        using var captioner = bundle.CreateCaptioner();
        var result = captioner.Caption(fixture.Audio[0], 1, DecodeOptions.Greedy)[0];
        Assert.Equal(5, result.LabelProbabilities.Count);
        Assert.DoesNotContain(result.Labels, l => l.Label == "nothing");
    }

    [Fact]
    public void Export_ExistingNonEmptyFolder_RefusesUnlessOverwriting()
    {
        var bundleDir = Path.Combine(fixture.Directory, "bundle-existing");
        Directory.CreateDirectory(bundleDir);
        File.WriteAllText(Path.Combine(bundleDir, "keep.txt"), "not a bundle");

        Assert.Throws<IOException>(() => BundleExporter.ExportCheckpoint(fixture.Checkpoint, bundleDir, "x", 1.0, null, overwrite: false, "test"));
        Assert.True(File.Exists(Path.Combine(bundleDir, "keep.txt")));

        BundleExporter.ExportCheckpoint(fixture.Checkpoint, bundleDir, "x", 1.0, null, overwrite: true, "test");
        Assert.False(File.Exists(Path.Combine(bundleDir, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(bundleDir, BundleManifest.FileName)));
        Assert.Empty(Directory.GetDirectories(fixture.Directory, "bundle-existing.partial-*"));
    }

    [Fact]
    public void Export_MaxTokensBeyondPositionalTable_IsRejectedBeforeWriting()
    {
        var bundleDir = Path.Combine(fixture.Directory, "bundle-too-long");

        Assert.Throws<ArgumentException>(() => BundleExporter.ExportCheckpoint(fixture.Checkpoint, bundleDir, "x", 1.0, 16, overwrite: false, "test"));
        Assert.False(Directory.Exists(bundleDir));
    }

    [Fact]
    public void Words_Category_SynonymWordsInTheVocabularyWithoutFunctionWords()
    {
        var names = CaptionDaemon.Training.Evaluation.CategoryNames.LoadBundled();
        var vocabulary = new HashSet<string>(["a", "is", "glass", "breaking", "shatters", "dog", "barks", "tea", "kettle"], StringComparer.Ordinal);

        // glass_break's synonyms include "glass is breaking": "is" names nothing.
        Assert.Equal(["breaking", "glass", "shatters"], BundleManifestFactory.Words(names.Find("glass_break"), "glass_break", vocabulary));
        Assert.Equal(["barks", "dog"], BundleManifestFactory.Words(names.Find("dog"), "dog", vocabulary));

        // A label the table lacks is named by its own name's words; one with no word in the vocabulary by none.
        Assert.Equal(["kettle", "tea"], BundleManifestFactory.Words(null, "tea_kettle", vocabulary));
        Assert.Null(BundleManifestFactory.Words(names.Find("sheep"), "sheep", vocabulary));
    }
}
