using CaptionDaemon.Inference;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Incremental;
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
