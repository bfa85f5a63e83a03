using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Calibration;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Incremental;

public sealed class IncrementalTrainerTests(IncrementalFixture fixture) : IClassFixture<IncrementalFixture>
{
    [Fact]
    public void Run_TwoUpdatesThroughTheBundle_BundleRunsInTheInferenceLibraryWithLineageAndTheStoredMemoryIsRehearsed()
    {
        var firstOut = fixture.NewDirectory();
        var firstBundle = fixture.NewDirectory();
        var first = Run(Options(fixture.BaseCheckpoint, firstOut, "task-b") with { ExportDirectory = firstBundle });

        using (var bundle = CaptionBundle.Load(firstBundle))
        using (var captioner = bundle.CreateCaptioner())
        {
            var window = new float[bundle.WindowSamples];
            var clip = ClothoDataset.Load(fixture.TaskB, ClothoDataset.Evaluation)[0];
            AudioDecoder.Decode(clip.AudioPath, 16000, CancellationToken.None).AsSpan(0, window.Length).CopyTo(window);
            var results = captioner.Caption(window, 1, null, CancellationToken.None);

            Assert.Single(results);
            Assert.All(results[0].TokenIds.ToArray(), id => Assert.InRange(id, 0, bundle.Vocabulary.Count - 1));
            Assert.Contains("whistle", bundle.Vocabulary);
            Assert.Contains("shrieks", bundle.Vocabulary);
            var record = bundle.Manifest.Training[IncrementalTrainer.RecordSection]!.AsObject();
            Assert.Equal("task-b", record["task"]!.GetValue<string>());
            Assert.Equal("rehearsal+all", record["method"]!.GetValue<string>());
            Assert.Equal("checkpoint", record["base"]!["kind"]!.GetValue<string>());
            Assert.Equal(64, record["base"]!["fingerprint"]!.GetValue<string>().Length);
            Assert.Equal("base", record["base"]!["task"]!.GetValue<string>());
            Assert.Contains("whistle", record["new_words"]!.AsArray().Select(w => w!.GetValue<string>()));
            Assert.Equal(bundle.Manifest.Architecture.VocabSize, record["vocab_size"]!.GetValue<int>());
            Assert.Equal(record["vocab_size_before"]!.GetValue<int>() + record["new_words"]!.AsArray().Count, record["vocab_size"]!.GetValue<int>());
            Assert.Equal("computed from the base", record["memory"]!["rehearsal_targets"]!.GetValue<string>());
            Assert.Equal(4, record["memory"]!["rehearsed_clips"]!.GetValue<int>());
            Assert.Equal(4, record["memory"]!["kept_clips"]!.GetValue<int>());
            Assert.Single(record["lineage"]!.AsArray());
            Assert.Equal(["base", "task-b"], record["tasks"]!.AsArray().Select(t => t!.GetValue<string>()));
        }

        // The memory went with the bundle: the whistle (new), tone and noise (old) categories share its 4 clips.
        var memory = RehearsalMemory.TryLoad(firstBundle);
        Assert.NotNull(memory);
        Assert.Equal(4, memory.Clips.Count);
        Assert.Equal(["noise", "tone", "whistle"], memory.Clips.Select(c => c.Category).Distinct().Order());
        Assert.Equal(["base", "task-b"], memory.Tasks);
        Assert.Equal(first.Memory.Clips.Select(c => c.Id), memory.Clips.Select(c => c.Id));

        // A calibrated base: the update carries its confidence over (else the daemon would publish every quiet window).
        var firstManifestPath = Path.Combine(firstBundle, CaptionDaemon.Inference.Bundles.BundleManifest.FileName);
        var confidence = new CaptionDaemon.Inference.Bundles.BundleConfidence { Method = "logistic", Features = ["sequence"], Weights = [1.5], Bias = -0.25, MinConfidence = 0.3 };
        (CaptionDaemon.Inference.Bundles.BundleManifest.Read(firstManifestPath) with { Confidence = confidence }).Write(firstManifestPath);
        var secondBundle = fixture.NewDirectory();
        var second = Run(Options(firstBundle, fixture.NewDirectory(), "task-b-again") with { ExportDirectory = secondBundle });

        using (var bundle = CaptionBundle.Load(secondBundle))
        {
            Assert.Equal(confidence.Weights, bundle.Manifest.Confidence!.Weights);
            Assert.Equal(confidence.Features, bundle.Manifest.Confidence.Features);
            Assert.Equal((confidence.Bias, confidence.MinConfidence), (bundle.Manifest.Confidence.Bias, bundle.Manifest.Confidence.MinConfidence));
            Assert.Equal(CaptionDaemon.Inference.Bundles.BundleManifest.Read(firstManifestPath).Name, bundle.Manifest.Training["calibration"]!["carried_from"]!.GetValue<string>());
        }

        var secondRecord = second.Training[IncrementalTrainer.RecordSection]!;
        Assert.Equal("stored with the memory", secondRecord["memory"]!["rehearsal_targets"]!.GetValue<string>());
        Assert.Equal("bundle", secondRecord["base"]!["kind"]!.GetValue<string>());
        Assert.Equal(64, secondRecord["base"]!["manifest_sha256"]!.GetValue<string>().Length);
        Assert.Equal(["base", "task-b"], secondRecord["lineage"]!.AsArray().Select(l => l!["task"]!.GetValue<string>()));
        Assert.Empty(second.NewWords);
    }

    [Fact]
    public void Run_TaggerBaseAndANewCategory_LearnsItsLabelKeepsTheTaggerAndCarriesTheBaseThresholds()
    {
        // A calibrated base bundle on a tiny tagger (labels beep, static, nothing), captioning task A.
        var baseRun = fixture.NewDirectory();
        var tagger = TinyModels.TaggerCheckpoint(Path.Combine(fixture.NewDirectory(), "tagger"), width: 1, seed: 6);
        new CaptionTrainer(
            fixture.BaseOptions(baseRun) with { ModelConfig = null, EncoderDirectory = tagger, Epochs = 1 },
            new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
        var baseCheckpoint = Path.Combine(baseRun, CaptionTrainer.BestDirectoryName);
        var baseBundle = fixture.NewDirectory();
        BundleExporter.ExportCheckpoint(baseCheckpoint, baseBundle, "tagger-base", 2.0, 8, overwrite: false, "test");
        var manifestPath = Path.Combine(baseBundle, BundleManifest.FileName);
        var confidence = new BundleConfidence { Method = "logistic", Features = ["label_top", "sequence"], Weights = [2, 1], Bias = -1, MinConfidence = 0.2 };
        var thresholds = new Dictionary<string, double> { ["beep"] = 0.3, ["static"] = 0.6, ["nothing"] = 0.9 };
        ConfidenceCalibrator.WithCalibration(BundleManifest.Read(manifestPath), confidence, thresholds, new JsonObject()).Write(manifestPath);
        var update = fixture.NewDirectory();

        var result = Run(Options(baseBundle, fixture.NewDirectory(), "task-b") with { ExportDirectory = update, Kd = new HashSet<string>(), BaseDataDirectory = fixture.TaskA });

        var grown = result.Training[IncrementalTrainer.RecordSection]!["new_labels"]!.AsArray();
        var fit = Assert.Single(grown)!;
        Assert.Equal("whistle", fit["label"]!.GetValue<string>());
        Assert.Equal(6, fit["positives"]!.GetValue<int>());
        // The 4 memory clips, the 6 development clips of the base's data and the quiet windows.
        Assert.Equal(4 + 6 + LabelGrowth.QuietNegatives, fit["negatives"]!.GetValue<int>());
        Assert.InRange(fit["training_recall"]!.GetValue<double>(), 0, 1);

        // The tagger itself was not trained: every weight but the new classifier row is the base's.
        using (var before = CaptionModel.LoadCheckpoint(baseCheckpoint))
        using (var after = CaptionModel.LoadCheckpoint(result.ModelDirectory))
        {
            var old = before.Tagger!.state_dict();
            var updated = after.Tagger!.state_dict();
            static bool IsMemoryLayer(string key) => key.StartsWith("_projection", StringComparison.Ordinal) || key.StartsWith("_label", StringComparison.Ordinal);
            // The classifier's old rows are its first ones.
            static TorchSharp.torch.Tensor Leading(TorchSharp.torch.Tensor t, long[] shape) => shape.Length == 0 ? t : t.narrow(0, 0, shape[0]);
            Assert.All(old.Where(p => !IsMemoryLayer(p.Key)), p =>
                Assert.True(p.Value.equal(Leading(updated[p.Key], p.Value.shape)).all().item<bool>(), $"{p.Key} changed"));
        }

        using var bundle = CaptionBundle.Load(update);
        Assert.Equal(["beep", "static", "nothing", "whistle"], bundle.Manifest.Labels.Select(l => l.Name));
        Assert.Equal([0.3, 0.6, 0.9, 0.5], bundle.Manifest.Labels.Select(l => l.Threshold));
        Assert.Equal("Whistle", bundle.Manifest.Labels[3].Display);
        Assert.Equal(["whistle"], bundle.Manifest.Labels[3].Words!);
        // The taught label gates its words; the base's labels do not.
        Assert.Equal([false, false, false, true], bundle.Manifest.Labels.Select(l => l.Gated));
        Assert.Equal(["whistle"], result.Training[IncrementalTrainer.RecordSection]![IncrementalTrainer.TaughtLabelsKey]!.AsArray().Select(l => l!.GetValue<string>()));
        using var captioner = bundle.CreateCaptioner();
        var samples = bundle.WindowSamples;
        float Whistle(CaptionedClip clip)
        {
            var window = new float[samples];
            AudioDecoder.Decode(clip.AudioPath, 16000, CancellationToken.None).AsSpan(0, samples).CopyTo(window);
            return captioner!.Caption(window, 1, null, CancellationToken.None)[0].LabelProbabilities[3];
        }

        // Held-out clips: task B's evaluation whistles against task A's evaluation tones and noise.
        var whistles = ClothoDataset.Load(fixture.TaskB, ClothoDataset.Evaluation).Select(Whistle).ToArray();
        var others = ClothoDataset.Load(fixture.TaskA, ClothoDataset.Evaluation).Select(Whistle).ToArray();
        Assert.True(whistles.Min() > 2 * others.Max(), $"{fit.ToJsonString()} whistle probabilities {string.Join(", ", whistles)} against {string.Join(", ", others)}");
    }

    [Fact]
    public void Run_MemoryZero_FinetunesAndKeepsNoMemory()
    {
        var result = Run(Options(fixture.BaseCheckpoint, fixture.NewDirectory(), "task-b") with { Memory = MemoryBudget.None, Kd = new HashSet<string>() });

        var record = result.Training[IncrementalTrainer.RecordSection]!;
        Assert.Equal("finetune", record["method"]!.GetValue<string>());
        Assert.Equal(0, record["memory"]!["rehearsed_clips"]!.GetValue<int>());
        Assert.Empty(result.Memory.Clips);
        Assert.True(File.Exists(Path.Combine(result.ModelDirectory, TrainingRecord.FileName)));
        Assert.Empty(RehearsalMemory.TryLoad(result.ModelDirectory)!.Clips);
    }

    [Fact]
    public void Run_ExistingOutputWithoutForce_Refuses()
    {
        var output = fixture.NewDirectory();
        Directory.CreateDirectory(Path.Combine(output, IncrementalTrainer.ModelDirectoryName));

        Assert.Throws<TrainingException>(() => Run(Options(fixture.BaseCheckpoint, output, "task-b")));
    }

    [Fact]
    public void Options_KdWithoutMemory_IsRejected()
    {
        var options = Options(fixture.BaseCheckpoint, fixture.NewDirectory(), "task-b") with { Memory = MemoryBudget.None };

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("--kd", error.Message, StringComparison.Ordinal);
    }

    private IncrementalOptions Options(string baseDirectory, string output, string task) => new()
    {
        BaseDirectory = baseDirectory,
        NewDataDirectory = fixture.TaskB,
        OutputDirectory = output,
        Task = task,
        Memory = MemoryBudget.Parse("4"),
        MemorySelection = MemorySelection.Herding,
        Kd = IncrementalOptions.ParseKd("audio,token,seq"),
        TokenTopK = 3,
        Epochs = 1,
        BatchSize = 4,
        LearningRate = 3e-3,
        Threads = 2,
        MinWordCount = 1,
        MaxDecodeTokens = 8,
        CommandLine = "test-incremental",
    };

    private static IncrementalResult Run(IncrementalOptions options) =>
        new IncrementalTrainer(options, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
}
