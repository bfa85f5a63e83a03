using System.Text.Json;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tagging;
using CaptionDaemon.Training.Tests.Data;
using CaptionDaemon.Training.Training;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Tagging;

[Collection(TestSoundsCollection.Name)]
public sealed class TaggerTrainerTests : IDisposable
{
    private readonly TestSoundsFixture _sounds;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "captiond-tagger-" + Guid.NewGuid().ToString("N"));

    public TaggerTrainerTests(TestSoundsFixture sounds) => _sounds = sounds;

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Forward_TenSecondWindows_GivesMemoryEmbeddingAndOneLogitPerLabel()
    {
        var config = Tiny(["dog", "speech", TaggingSet.Nothing]);
        using var encoder = new TaggingEncoder(config);
        encoder.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var samples = 10 * config.Frontend.SampleRate;

        var output = encoder.forward(randn([2, samples]));

        Assert.Equal([2, encoder.MemoryFrames(samples), config.DModel], output.Memory.shape);
        Assert.Equal(62, encoder.MemoryFrames(samples));
        Assert.Equal([2, config.HeadChannels], output.Embedding.shape);
        Assert.Equal([2, 3], output.Logits.shape);
        Assert.True(output.Logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void Forward_WithGradients_DepthwiseLayersMatchFloat64Gradients()
    {
        // The depthwise layers' input gradients come from SafeConvolution's grouped path; check them against float64.
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(6, 6, 3, padding: 1, groups: 6, bias: false);
        var x = randn([2, 6, 7, 11]).requires_grad_(true);
        var upstream = randn([2, 6, 7, 11]);
        SafeConvolution.Forward(conv, x).backward([upstream]);

        var w64 = conv.weight.detach().to_type(ScalarType.Float64);
        var expected = nn.functional.conv_transpose2d(upstream.to_type(ScalarType.Float64), w64, padding: [1, 1], groups: 6);
        var difference = (expected - x.grad!.to_type(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(difference < 1e-5, $"max |diff| of the input gradient {difference}");
    }

    [Fact]
    public void Run_TinySetOfRealRecordings_LossFallsAndMetricsAreWritten()
    {
        var sounds = TinySoundsFolder();
        var output = Path.Combine(_root, "run");

        // Without augmentation the targets are one-hot over 4 labels (a sixteenth 'nothing'): predicting the label
        // frequencies alone gives a mean BCE of about 0.52, so a loss well below that needs the audio.
        var options = Options(sounds, output, epochs: 8) with { Augment = false, LearningRate = 1e-2 };
        var (record, history) = new TaggerTrainer(options, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        Assert.Equal(8, history.Epochs.Count);
        var (first, last) = (history.Epochs[0].TrainLoss, history.Epochs[^1].TrainLoss);
        Assert.True(last < first * 0.6 && last < 0.45, $"train loss {first} -> {last}");
        Assert.Equal(0, record.SkippedSteps);
        Assert.All(history.Epochs, e => Assert.InRange(e.MeanAveragePrecision, 0, 1));
        // All three categories are everyday sounds (group ENV): the everyday mAP is over the same labels less "nothing".
        Assert.All(history.Epochs, e => Assert.InRange(e.EverydayMeanAveragePrecision!.Value, 0.01, 1));
        Assert.Contains(TaggingSet.Nothing, history.AveragePrecision.Keys);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, TaggerTrainer.MetricsFileName)));
        Assert.Equal(8, metrics.RootElement.GetProperty("epochs").GetArrayLength());
        using var best = TaggerTrainer.Load(Path.Combine(output, CaptionTrainer.BestDirectoryName));
        Assert.Equal(["fire", "footsteps", "grunt", TaggingSet.Nothing], best.Config.Labels);
    }

    [Fact]
    public void Run_ResumeFromCheckpointInsideAnEpoch_ContinuesAtTheSameStepLikeAnUninterruptedRun()
    {
        var sounds = TinySoundsFolder();
        var straight = new TaggerTrainer(Options(sounds, Path.Combine(_root, "straight"), epochs: 2), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        var interrupted = Path.Combine(_root, "interrupted");
        var everyStep = Options(sounds, interrupted, epochs: 2) with { CheckpointInterval = TimeSpan.Zero };
        using var cancellation = new CancellationTokenSource();
        using var watcher = new CaptionDaemon.Training.Tests.Training.LineWatcher("checkpoint: epoch 2 step 1/", cancellation.Cancel);
        Assert.ThrowsAny<OperationCanceledException>(() => new TaggerTrainer(everyStep, new TrainingProgress(watcher, isTerminal: false)).Run(cancellation.Token));
        var saved = TrainingRecord.Load(Path.Combine(interrupted, CaptionTrainer.LastDirectoryName));
        Assert.Equal(1, saved.EpochsCompleted);
        Assert.Equal(straight.Record.StepsPerEpoch + 1, saved.GlobalStep);

        using var log = new StringWriter();
        var resumed = new TaggerTrainer(everyStep with { Resume = true }, new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Contains("continuing epoch 2 at step 2/", log.ToString(), StringComparison.Ordinal);
        Assert.Equal(straight.Record.GlobalStep, resumed.Record.GlobalStep);
        var losses = straight.History.Epochs.Zip(resumed.History.Epochs, (a, b) => Math.Abs(a.TrainLoss - b.TrainLoss)).ToArray();
        Assert.True(
            losses.Length == 2 && losses.All(d => d <= 1e-4),
            $"train losses: uninterrupted [{string.Join(", ", straight.History.Epochs.Select(e => e.TrainLoss))}], resumed [{string.Join(", ", resumed.History.Epochs.Select(e => e.TrainLoss))}]");
    }

    [Fact]
    public void Run_ResumeWithAnotherBalanceExponent_IsRefusedAndTheRecordKeepsTheRunsOwn()
    {
        var sounds = TinySoundsFolder();
        var output = Path.Combine(_root, "balanced");
        var options = Options(sounds, output, epochs: 1) with { BalanceExponent = 1.0 };
        new TaggerTrainer(options, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
        Assert.Equal(1.0, TrainingRecord.Load(Path.Combine(output, CaptionTrainer.LastDirectoryName)).BalanceExponent);

        var resumed = options with { Resume = true, Epochs = 2, BalanceExponent = TaggingSet.DefaultBalanceExponent };
        var ex = Assert.Throws<TrainingException>(() => new TaggerTrainer(resumed, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run());

        Assert.Contains("--balance-exponent 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WithSceneWindowsTimbreAndBalancedPackages_ValidatesOnSceneWindowsTooAndResumesOnlyWithTheSameSettings()
    {
        var sounds = TinySoundsFolder();
        var output = Path.Combine(_root, "scenes");
        var options = Options(sounds, output, epochs: 1) with { SceneProbability = 0.5, TimbreProbability = 0.5, BalancePackages = true };
        var (record, history) = new TaggerTrainer(options, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        var saved = TrainingRecord.Load(Path.Combine(output, CaptionTrainer.LastDirectoryName));
        Assert.Equal(0.5, saved.SceneWindows);
        Assert.Equal(0.5, saved.Timbre);
        Assert.True(saved.BalancePackages);
        Assert.Contains("scene windows p 0.5", record.Augmentation, StringComparison.Ordinal);
        Assert.Contains("timbre p 0.5", record.Augmentation, StringComparison.Ordinal);
        var epoch = Assert.Single(history.Epochs);
        Assert.InRange(epoch.SceneMeanAveragePrecision!.Value, 0.01, 1);
        Assert.NotEqual(epoch.MeanAveragePrecision, epoch.SceneMeanAveragePrecision!.Value);

        var withoutScenes = options with { Resume = true, Epochs = 2, SceneProbability = 0 };
        var ex = Assert.Throws<TrainingException>(() => new TaggerTrainer(withoutScenes, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run());
        Assert.Contains("--scene-windows 0.5", ex.Message, StringComparison.Ordinal);
        var withoutTimbre = options with { Resume = true, Epochs = 2, TimbreProbability = 0 };
        ex = Assert.Throws<TrainingException>(() => new TaggerTrainer(withoutTimbre, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run());
        Assert.Contains("--timbre 0.5", ex.Message, StringComparison.Ordinal);
        var withoutPackages = options with { Resume = true, Epochs = 2, BalancePackages = false };
        ex = Assert.Throws<TrainingException>(() => new TaggerTrainer(withoutPackages, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run());
        Assert.Contains("--balance-packages", ex.Message, StringComparison.Ordinal);
    }

    private static TaggingEncoderConfig Tiny(IReadOnlyList<string> labels) => new()
    {
        Size = "tiny",
        Labels = labels,
        StemChannels = 8,
        Stages = [new(12, 1, 2, true), new(16, 1, 2, true), new(24, 1, 2, true), new(32, 1, 2, false)],
        HeadChannels = 48,
        DModel = 32,
    };

    private static TaggerOptions Options(string sounds, string output, int epochs) => new()
    {
        SoundsDirectory = sounds,
        OutputDirectory = output,
        EncoderConfig = Tiny,
        Epochs = epochs,
        BatchSize = 8,
        ClipsPerEpoch = 24,
        WindowSeconds = 1.5,
        LearningRate = 3e-3,
        Threads = 2,
        CheckpointInterval = null,
    };

    /// <summary>
    /// Three categories of the real test package, eight recordings each for training and two for validation, in a
    /// sounds folder of their own (index.jsonl with splits, the fixture's audio linked).
    /// </summary>
    private string TinySoundsFolder()
    {
        var folder = Path.Combine(_root, "sounds");
        if (Directory.Exists(folder))
        {
            return folder;
        }

        Directory.CreateDirectory(folder);
        Directory.CreateSymbolicLink(Path.Combine(folder, "audio"), Path.Combine(_sounds.Directory, "audio"));
        var entries = SoundIndex.Load(_sounds.Directory)
            .Where(e => e.Category is "footsteps" or "grunt" or "fire")
            .GroupBy(e => e.Category)
            .SelectMany(g => g.OrderBy(e => e.Id, StringComparer.Ordinal).Take(10).Select((e, i) => e with { Split = i < 8 ? "train" : "val" }))
            .ToArray();
        SoundIndex.Write(folder, entries);
        return folder;
    }
}
