using System.Text.Json;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Tagging;
using CaptionDaemon.Training.Tests.Reporting;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Training;

public sealed class CaptionTrainerTests : IClassFixture<SyntheticClotho>
{
    private readonly SyntheticClotho _data;

    public CaptionTrainerTests(SyntheticClotho data) => _data = data;

    [Fact]
    public void Run_TinyModelOnSyntheticClips_LossFallsAndBestLastAndTestMetricsAreWritten()
    {
        var output = _data.NewOutputDirectory();
        using var log = new StringWriter();

        var record = new CaptionTrainer(Options(output, epochs: 8), new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Equal(8, record.History.Count);
        Assert.True(record.History[^1].TrainLoss < record.History[0].TrainLoss * 0.6, $"train loss {record.History[0].TrainLoss} -> {record.History[^1].TrainLoss}");
        Assert.All(record.History, e => Assert.True(double.IsFinite(e.Validation.CiderD)));
        var best = record.History.MaxBy(e => e.Validation.CiderD)!;
        Assert.Equal(best.Validation.CiderD, record.BestValidationCiderD);
        Assert.Equal(record.History.First(e => e.Validation.CiderD == best.Validation.CiderD).Epoch, record.BestEpoch);
        Assert.True(record.BestValidationCiderD > 0, "after 8 epochs the tiny model names at least some validation words");

        foreach (var folder in new[] { CaptionTrainer.BestDirectoryName, CaptionTrainer.LastDirectoryName })
        {
            foreach (var file in new[] { CaptionModel.WeightsFileName, CaptionModel.ConfigFileName, CaptionModel.VocabFileName, TrainingRecord.FileName })
            {
                Assert.True(File.Exists(Path.Combine(output, folder, file)), $"{folder}/{file} missing");
            }
        }

        Assert.True(File.Exists(Path.Combine(output, CaptionTrainer.LastDirectoryName, CaptionTrainer.OptimizerFileName)));
        var saved = TrainingRecord.Load(Path.Combine(output, CaptionTrainer.BestDirectoryName));
        Assert.Equal(record.BestEpoch, saved.BestEpoch);
        Assert.Equal(8, saved.History.Count);
        Assert.Equal("evaluation", saved.MetricsSplit);
        Assert.NotNull(saved.Metrics);
        Assert.Equal(2, saved.TestClips);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, CaptionTrainer.TestCaptionsFileName)).Length);
        var curves = ChartImage.Decode(File.ReadAllBytes(Path.Combine(output, TrainingCurves.FileName)));
        Assert.True(curves.CountNear(ChartStyle.Series(0)) >= 20 && curves.CountNear(ChartStyle.Series(1)) >= 20, "the loss and validation lines are in the run's chart");
        Assert.Contains("epoch 8/8  step 2/2", log.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain('\r', log.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, CaptionTrainer.BestDirectoryName, TrainingRecord.FileName)));
        Assert.Equal("test-command", json.RootElement.GetProperty("command").GetString());
        Assert.Equal(_data.Root, json.RootElement.GetProperty("data").GetString());
        Assert.True(json.RootElement.GetProperty("metrics").TryGetProperty("cider_d", out _));
    }

    [Fact]
    public void Run_OnTaggerEncoder_FrozenEpochsKeepTheTaggerAndFineTuningThenChangesIt()
    {
        var tagger = TinyTagger(["beep", "hum", "nothing"]);
        var output = _data.NewOutputDirectory();
        var options = Options(output, epochs: 1) with { ModelConfig = null, EncoderDirectory = tagger, FreezeEncoderEpochs = 1 };
        var last = Path.Combine(output, CaptionTrainer.LastDirectoryName);
        using var original = TaggerTrainer.Load(tagger);
        var originalState = original.state_dict();

        var frozenRecord = new CaptionTrainer(options, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
        using (var frozen = CaptionModel.LoadCheckpoint(last))
        {
            Assert.Equal(["beep", "hum", "nothing"], frozen.Config.Labels);
            Assert.Equal(Path.GetFullPath(tagger), frozenRecord.Encoder);
            var state = frozen.Tagger!.state_dict();
            // The caption model's tagger adds the label frame; the tagger's own layers load as they were.
            Assert.Equal(["_labelNorm.bias", "_labelNorm.weight", "_labelProjection.bias", "_labelProjection.weight"], state.Keys.Except(originalState.Keys).Order());
            static bool IsMemoryLayer(string key) => key.StartsWith("_projection", StringComparison.Ordinal);
            Assert.All(originalState.Where(p => !IsMemoryLayer(p.Key)), p => Assert.True(p.Value.equal(state[p.Key]).all().item<bool>(), $"{p.Key} changed while the encoder was frozen"));
            // Tagging never trained the memory projection, so it learns even while the rest is frozen.
            Assert.False(originalState["_projection.weight"].equal(state["_projection.weight"]).all().item<bool>(), "the memory projection did not learn while the encoder was frozen");
            frozen.eval();
            Assert.Equal(frozen.Config.EncoderFrames(16000), frozen.Encode(TorchSharp.torch.zeros(1, 16000)).Memory.shape[1]);
        }

        new CaptionTrainer(options with { Epochs = 2, Resume = true }, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
        using var tuned = CaptionModel.LoadCheckpoint(last);
        var tunedState = tuned.Tagger!.state_dict();
        var changed = originalState.Count(p => !p.Value.equal(tunedState[p.Key]).all().item<bool>());
        Assert.True(changed > originalState.Count / 2, $"fine-tuning changed only {changed} of {originalState.Count} encoder tensors");
    }

    [Fact]
    public void Run_OnTaggerEncoderWithSceneCategories_TaggingLossTeachesTheLabelsWhileFineTuning()
    {
        // The synthetic clips as a scene set: every development clip's category in scenes.jsonl (tones "beep", noise "hiss").
        var data = _data.NewOutputDirectory();
        Directory.CreateDirectory(data);
        foreach (var split in new[] { "development", "validation", "evaluation" })
        {
            File.Copy(Path.Combine(_data.Root, $"clotho_captions_{split}.csv"), Path.Combine(data, $"clotho_captions_{split}.csv"));
            Directory.CreateSymbolicLink(Path.Combine(data, split), Path.Combine(_data.Root, split));
        }

        var clips = Directory.GetFiles(Path.Combine(data, "development"), "*.wav").Order(StringComparer.Ordinal).ToArray();
        string CategoryOf(string file) => int.Parse(Path.GetFileNameWithoutExtension(file)[^2..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0 ? "beep" : "hiss";
        File.WriteAllLines(Path.Combine(data, "scenes.jsonl"), clips.Select(f =>
            $$"""{"file":"{{Path.GetFileName(f)}}","quiet":false,"events":[{"category":"{{CategoryOf(f)}}","caption":"a sound"}],"background":null}"""));
        string[] labels = ["beep", "hiss", "nothing"];
        var tagger = TinyTagger(labels, dropout: 0);

        // One frozen epoch, then nine of fine-tuning with and nine without the tagging loss, from the same frozen state.
        double LabelLoss(double weight)
        {
            var output = _data.NewOutputDirectory();
            var options = Options(output, epochs: 1) with { DataDirectory = data, ModelConfig = null, EncoderDirectory = tagger, FreezeEncoderEpochs = 1, LearningRate = 1e-2, LabelLossWeight = weight };
            new CaptionTrainer(options, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
            var record = new CaptionTrainer(options with { Epochs = 10, Resume = true }, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
            Assert.Equal(weight, record.LabelLossWeight);
            using var model = CaptionModel.LoadCheckpoint(Path.Combine(output, CaptionTrainer.LastDirectoryName));
            // Batch statistics (training mode without dropout): the randomised BatchNorms' running statistics would
            // take many more steps than these to follow the layers that the fine-tuning moved.
            model.train();
            using var noGrad = TorchSharp.torch.no_grad();
            using var audio = TorchSharp.torch.stack(clips.Select(f => TorchSharp.torch.tensor(CaptionDaemon.Training.Data.AudioDecoder.Decode(f, 16000, CancellationToken.None)[..32000])).ToArray());
            var targets = clips.Select(f => labels.Select(l => l == CategoryOf(f) ? 1f : 0f)).SelectMany(x => x).ToArray();
            var (_, _, probabilities) = model.EncodeWithLabels(audio);
            using var loss = TorchSharp.torch.nn.functional.binary_cross_entropy(probabilities, TorchSharp.torch.tensor(targets, [clips.Length, labels.Length]));
            return loss.item<float>();
        }

        var without = LabelLoss(0);
        var with = LabelLoss(10);
        Assert.True(with < 0.5 * without, $"the labels' cross-entropy after fine-tuning is {with:0.000} with the tagging loss and {without:0.000} without");
    }

    [Fact]
    public void Run_ResumeAfterInterruption_ContinuesFromSavedEpochLikeAnUninterruptedRun()
    {
        var uninterrupted = _data.NewOutputDirectory();
        var interrupted = _data.NewOutputDirectory();
        var straight = new CaptionTrainer(Options(uninterrupted, epochs: 4), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        // Stop the second run as soon as epoch 2 is reported (after its checkpoint is written), like Ctrl-C in epoch 3.
        using var cancellation = new CancellationTokenSource();
        using var watcher = new LineWatcher("epoch 2:", cancellation.Cancel);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new CaptionTrainer(Options(interrupted, epochs: 4), new TrainingProgress(watcher, isTerminal: false)).Run(cancellation.Token));
        Assert.Equal(2, TrainingRecord.Load(Path.Combine(interrupted, CaptionTrainer.LastDirectoryName)).EpochsCompleted);
        var resumed = new CaptionTrainer(Options(interrupted, epochs: 4) with { Resume = true }, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        Assert.Equal([1, 2, 3, 4], resumed.History.Select(e => e.Epoch));
        Assert.Equal(straight.GlobalStep, resumed.GlobalStep);
        // Weights, optimizer moments and per-epoch random streams are restored, so epochs 3 and 4 repeat the uninterrupted run.
        var differences = straight.History.Zip(resumed.History, (a, b) => Math.Abs(a.TrainLoss - b.TrainLoss)).ToArray();
        Assert.True(
            differences.All(d => d <= 1e-4),
            $"train losses: uninterrupted [{string.Join(", ", straight.History.Select(e => e.TrainLoss))}] (skipped steps {straight.SkippedSteps}), resumed [{string.Join(", ", resumed.History.Select(e => e.TrainLoss))}] (skipped steps {resumed.SkippedSteps})");
    }

    [Fact]
    public void Run_ResumeFromCheckpointInsideAnEpoch_ContinuesAtTheNextStepLikeAnUninterruptedRun()
    {
        var uninterrupted = _data.NewOutputDirectory();
        var interrupted = _data.NewOutputDirectory();
        var straight = new CaptionTrainer(Options(uninterrupted, epochs: 3), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        // Checkpoint after every step; stop right after the one saved inside epoch 2, as a killed process would.
        var everyStep = Options(interrupted, epochs: 3) with { CheckpointInterval = TimeSpan.Zero };
        using var cancellation = new CancellationTokenSource();
        using var watcher = new LineWatcher("checkpoint: epoch 2 step 1/2", cancellation.Cancel);
        Assert.ThrowsAny<OperationCanceledException>(() => new CaptionTrainer(everyStep, new TrainingProgress(watcher, isTerminal: false)).Run(cancellation.Token));
        var saved = TrainingRecord.Load(Path.Combine(interrupted, CaptionTrainer.LastDirectoryName));
        Assert.Equal(1, saved.EpochsCompleted);
        Assert.Equal(new PartialEpoch(2, 1, saved.InProgress!.LossSum, 1, saved.InProgress.TrainSeconds), saved.InProgress);
        Assert.Equal(3, saved.GlobalStep);

        using var log = new StringWriter();
        var resumed = new CaptionTrainer(everyStep with { Resume = true }, new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Contains("continuing epoch 2 at step 2/2", log.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 2/3  step 1/2", log.ToString(), StringComparison.Ordinal);
        Assert.Equal(straight.GlobalStep, resumed.GlobalStep);
        Assert.Null(resumed.InProgress);
        Assert.Null(TrainingRecord.Load(Path.Combine(interrupted, CaptionTrainer.LastDirectoryName)).InProgress);
        // The epoch's loss joins the steps before and after the interruption, and every step repeats the uninterrupted run.
        Assert.True(
            straight.History.Zip(resumed.History, (a, b) => Math.Abs(a.TrainLoss - b.TrainLoss)).All(d => d <= 1e-4),
            $"train losses: uninterrupted [{string.Join(", ", straight.History.Select(e => e.TrainLoss))}], resumed [{string.Join(", ", resumed.History.Select(e => e.TrainLoss))}]");
    }

    [Fact]
    public void Run_ExistingRunWithoutResume_RefusesToOverwrite()
    {
        var output = _data.NewOutputDirectory();
        Directory.CreateDirectory(Path.Combine(output, CaptionTrainer.LastDirectoryName));

        var error = Assert.Throws<TrainingException>(() => new CaptionTrainer(Options(output, epochs: 1), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run());

        Assert.Contains("--resume", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LearningRateAt_WarmupThenCosine_RisesLinearlyPeaksAndEndsAtOnePercent()
    {
        Assert.Equal(0.25, EpochLoop.LearningRateAt(0, 100, 4, 1.0), 1e-12);
        Assert.Equal(1.0, EpochLoop.LearningRateAt(3, 100, 4, 1.0), 1e-12);
        Assert.Equal(1.0, EpochLoop.LearningRateAt(4, 100, 4, 1.0), 1e-12);
        Assert.Equal(0.505, EpochLoop.LearningRateAt(52, 100, 4, 1.0), 1e-12);
        Assert.Equal(0.01, EpochLoop.LearningRateAt(100, 100, 4, 1.0), 1e-12);
    }

    internal static TrainOptions Options(string output, int epochs) => new()
    {
        DataDirectory = SharedRoot(output),
        OutputDirectory = output,
        Epochs = epochs,
        BatchSize = 4,
        LearningRate = 3e-3,
        WarmupSteps = 2,
        Seed = 7,
        Threads = 2,
        MinWordCount = 1,
        WindowSeconds = 2,
        MaxDecodeTokens = 8,
        CommandLine = "test-command",
        ModelConfig = vocabSize => new CaptionModelConfig
        {
            VocabSize = vocabSize,
            EncoderChannels = [8, 16],
            DModel = 32,
            DecoderLayers = 1,
            Heads = 4,
            FeedForward = 64,
            Dropout = 0,
            MaxTokens = 12,
        },
    };

    /// <summary>A randomly initialised tiny tagger checkpoint (what <c>tag</c> writes) with <paramref name="labels"/>.</summary>
    private string TinyTagger(IReadOnlyList<string> labels, double dropout = 0.2)
    {
        var tagger = Path.Combine(_data.NewOutputDirectory(), "tagger");
        Directory.CreateDirectory(tagger);
        TorchSharp.torch.random.manual_seed(3);
        using var encoder = new TaggingEncoder(new TaggingEncoderConfig
        {
            Size = "tiny",
            Labels = labels,
            StemChannels = 4,
            Stages = [new(8, 1, 2, true), new(12, 1, 2, true), new(16, 1, 2, false)],
            HeadChannels = 24,
            DModel = 32,
            Dropout = dropout,
        });
        Models.TinyModels.RandomiseBatchNorms(encoder, 3);
        File.WriteAllText(Path.Combine(tagger, TaggerTrainer.ConfigFileName), encoder.Config.ToJson());
        encoder.save(Path.Combine(tagger, TaggerTrainer.EncoderFileName));
        return tagger;
    }

    /// <summary>Output folders live in runs/ under the data set's root.</summary>
    private static string SharedRoot(string output) => Path.GetDirectoryName(Path.GetDirectoryName(output))!;
}
