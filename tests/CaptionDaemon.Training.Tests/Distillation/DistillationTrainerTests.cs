using System.CommandLine;
using CaptionDaemon.Inference;
using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tagging;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Tests.Training;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class DistillationTrainerTests(DistillationFixture fixture) : IClassFixture<DistillationFixture>
{
    [Fact]
    public void Run_AllLossesScarceLabelsAndAudioOnly_WritesACheckpointThatExportsToABundleTheInferenceLibraryRuns()
    {
        var output = fixture.NewDirectory();
        var cache = fixture.NewDirectory();
        var unlabelled = Path.Combine(fixture.Root, "validation");
        using var log = new StringWriter();
        var options = new DistillOptions
        {
            Train = DistillationFixture.StudentTrainOptions(fixture.Root, output),
            TeacherDirectory = fixture.TeacherRun,
            TargetsCacheDirectory = cache,
            SequenceWeight = 1,
            EncoderKd = EncoderDistillation.Contrastive,
            EncoderSharedDim = 16,
            TokenWeight = 0.5,
            TokenTopK = 3,
            LabelledFraction = 0.5,
            UnlabelledFromRest = true,
            UnlabelledDirectory = unlabelled,
            EncoderPretrainEpochs = 1,
        };

        var record = new DistillationTrainer(options, new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Equal("sup+seq+tok+contrastive+enc-pretrain+audio-only", record.Method);
        Assert.Equal(4, record.TrainClips);
        Assert.Equal(4 + 4, record.Distillation!["audio_only_clips"]!.GetValue<int>());
        // Eight audio-only clips in batches of two: the epoch follows the larger pool.
        Assert.Equal(4, record.StepsPerEpoch);
        Assert.Equal(0, record.SkippedSteps);
        var terms = record.Distillation["last_epoch_terms"]!.AsObject();
        foreach (var term in new[] { "supervised", "sequence", "encoder", "token" })
        {
            Assert.True(terms[term]!.GetValue<double>() > 0, $"{term} term was not computed: {terms}");
        }

        Assert.Equal(2, record.Distillation["targets"]!.AsArray().Count);
        Assert.Contains("encoder pre-training epoch 1", log.ToString(), StringComparison.Ordinal);
        foreach (var file in new[] { CaptionModel.WeightsFileName, CaptionModel.ConfigFileName, CaptionModel.VocabFileName, TrainingRecord.FileName })
        {
            Assert.True(File.Exists(Path.Combine(output, CaptionTrainer.BestDirectoryName, file)), $"best/{file} missing");
        }

        // The student takes the teacher's vocabulary, so the teacher's captions are in its token ids.
        Assert.Equal(
            File.ReadAllText(Path.Combine(fixture.TeacherCheckpoint, CaptionModel.VocabFileName)),
            File.ReadAllText(Path.Combine(output, CaptionTrainer.BestDirectoryName, CaptionModel.VocabFileName)));

        var bundleDirectory = Path.Combine(fixture.NewDirectory(), "student-bundle");
        var exitCode = ExportCommand.Create().Parse(["--checkpoint", Path.Combine(output, CaptionTrainer.BestDirectoryName), "--out", bundleDirectory, "--window-seconds", "2"]).Invoke();
        Assert.Equal(0, exitCode);
        using var bundle = CaptionBundle.Load(bundleDirectory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
        using var captioner = bundle.CreateCaptioner();
        var captions = captioner.Caption(new float[2 * bundle.WindowSamples], 2);
        Assert.Equal(2, captions.Length);

        var training = bundle.Manifest.Training;
        Assert.Equal("sup+seq+tok+contrastive+enc-pretrain+audio-only", training["method"]!.GetValue<string>());
        Assert.Equal(0.5, training["distillation"]!["labelled_fraction"]!.GetValue<double>());
        Assert.Equal(fixture.TeacherRecord.Metrics!.CiderD, training["teacher"]!["metrics"]!["cider_d"]!.GetValue<double>(), 9);
        Assert.Equal(64, training["teacher"]!["identity"]!.GetValue<string>().Length);
        Assert.NotNull(training["metrics"]!["cider_d"]);
        // The KD heads are training-only: the exported student has exactly the student's parameters.
        using var student = CaptionModel.LoadCheckpoint(Path.Combine(output, CaptionTrainer.BestDirectoryName));
        Assert.Equal(student.CountParameters().Total, bundle.Manifest.Parameters.Total);
    }

    [Fact]
    public void Run_TaggerStudentAndTaggerTeacher_StartsFromTheTaggerKeepsItWhileFrozenAndDistilsTheEncoderOnceUnfrozen()
    {
        // The teacher: 'train --encoder' on a tagger twice as wide as the student's, so the pooled embeddings differ in size (48 against 24).
        var teacherTagger = TinyModels.TaggerCheckpoint(Path.Combine(fixture.NewDirectory(), "teacher-tagger"), width: 2, seed: 5);
        var studentTagger = TinyModels.TaggerCheckpoint(Path.Combine(fixture.NewDirectory(), "student-tagger"), width: 1, seed: 6);
        var teacherRun = fixture.NewDirectory();
        new CaptionTrainer(
            DistillationFixture.StudentTrainOptions(fixture.Root, teacherRun) with { ModelConfig = null, EncoderDirectory = teacherTagger, MinWordCount = 1 },
            new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
        var output = fixture.NewDirectory();
        var cache = fixture.NewDirectory();
        DistillOptions Options(int epochs, bool resume = false) => new()
        {
            Train = DistillationFixture.StudentTrainOptions(fixture.Root, output, epochs) with { ModelConfig = null, EncoderDirectory = studentTagger, FreezeEncoderEpochs = 1, Resume = resume },
            TeacherDirectory = teacherRun,
            TargetsCacheDirectory = cache,
            EncoderKd = EncoderDistillation.Mse,
            EncoderSharedDim = 8,
        };
        using var original = TaggerTrainer.Load(studentTagger);
        var originalState = original.state_dict();
        static bool IsMemoryLayer(string key) => key.StartsWith("_projection", StringComparison.Ordinal) || key.StartsWith("_label", StringComparison.Ordinal);
        var last = Path.Combine(output, CaptionTrainer.LastDirectoryName);
        using var log = new StringWriter();

        var frozenRecord = new DistillationTrainer(Options(epochs: 1), new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Equal(Path.GetFullPath(studentTagger), frozenRecord.Encoder);
        Assert.Equal(1, frozenRecord.FreezeEncoderEpochs);
        Assert.Contains("L_enc trains only the KD projection heads", log.ToString(), StringComparison.Ordinal);
        Assert.Contains("epoch 1 (encoder frozen):", log.ToString(), StringComparison.Ordinal);
        Assert.True(frozenRecord.Distillation!["last_epoch_terms"]!["encoder"]!.GetValue<double>() > 0);
        using (var frozen = CaptionModel.LoadCheckpoint(last))
        {
            Assert.Equal(["beep", "static", "nothing"], frozen.Config.Labels);
            Assert.Equal(24, frozen.Config.EmbeddingDim);
            var state = frozen.Tagger!.state_dict();
            // The tagger's weights were loaded, and L_sup, L_seq and L_enc left them alone while the encoder was frozen.
            Assert.All(originalState.Where(p => !IsMemoryLayer(p.Key)), p => Assert.True(p.Value.equal(state[p.Key]).all().item<bool>(), $"{p.Key} differs from the tagger's"));
        }

        // The student learns in the teacher's vocabulary.
        Assert.Equal(
            File.ReadAllText(Path.Combine(teacherRun, CaptionTrainer.BestDirectoryName, CaptionModel.VocabFileName)),
            File.ReadAllText(Path.Combine(last, CaptionModel.VocabFileName)));

        var tunedRecord = new DistillationTrainer(Options(epochs: 2, resume: true), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        Assert.Equal(2, tunedRecord.History.Count);
        using var tuned = CaptionModel.LoadCheckpoint(last);
        var tunedState = tuned.Tagger!.state_dict();
        var changed = originalState.Count(p => !IsMemoryLayer(p.Key) && !p.Value.equal(tunedState[p.Key]).all().item<bool>());
        Assert.True(changed > originalState.Count / 2, $"the unfrozen epoch changed only {changed} of {originalState.Count} encoder tensors");
    }

    [Fact]
    public void Run_TaggerStudentWithEncoderPretrainingAndEveryEpochFrozen_OnlyThePretrainingMovesTheTagger()
    {
        var studentTagger = TinyModels.TaggerCheckpoint(Path.Combine(fixture.NewDirectory(), "student-tagger"), width: 1, seed: 6);
        var output = fixture.NewDirectory();
        var options = new DistillOptions
        {
            Train = DistillationFixture.StudentTrainOptions(fixture.Root, output) with { ModelConfig = null, EncoderDirectory = studentTagger, FreezeEncoderEpochs = 1 },
            TeacherDirectory = fixture.TeacherRun,
            TargetsCacheDirectory = fixture.NewDirectory(),
            SequenceWeight = 0,
            EncoderKd = EncoderDistillation.Contrastive,
            EncoderSharedDim = 8,
            EncoderPretrainEpochs = 1,
        };
        using var log = new StringWriter();

        var record = new DistillationTrainer(options, new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Equal("sup+contrastive+enc-pretrain", record.Method);
        Assert.Contains("encoder pre-training epoch 1", log.ToString(), StringComparison.Ordinal);
        Assert.Contains("warning: the encoder is frozen in every epoch", log.ToString(), StringComparison.Ordinal);
        // The one epoch of the full loss is frozen, so every change to the tagger's own layers is the pre-training's.
        using var original = TaggerTrainer.Load(studentTagger);
        using var student = CaptionModel.LoadCheckpoint(Path.Combine(output, CaptionTrainer.LastDirectoryName));
        // Weights, not BatchNorm statistics: forward passes in training mode alone would move those.
        var weights = student.Tagger!.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var changed = original.named_parameters().Count(p => !p.name.StartsWith("_projection", StringComparison.Ordinal) && !p.parameter.equal(weights[p.name]).all().item<bool>());
        Assert.True(changed > 0, "encoder pre-training left the tagger's weights as they were");
    }

    [Fact]
    public void FrozenEncoderNote_EveryEpochFrozen_WarnsThatEncoderKdNeverReachesTheEncoder()
    {
        Assert.Null(DistillationTrainer.FrozenEncoderNote(frozenEpochs: 2, epochs: 4, encoderKd: false));
        Assert.Null(DistillationTrainer.FrozenEncoderNote(frozenEpochs: 0, epochs: 4, encoderKd: true));
        Assert.Contains("from epoch 3", DistillationTrainer.FrozenEncoderNote(frozenEpochs: 2, epochs: 4, encoderKd: true), StringComparison.Ordinal);
        Assert.StartsWith("warning: ", DistillationTrainer.FrozenEncoderNote(frozenEpochs: 4, epochs: 4, encoderKd: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SupervisedOnlyBaseline_NeedsNoTeacherTargets()
    {
        var output = fixture.NewDirectory();
        var cache = fixture.NewDirectory();
        var options = new DistillOptions
        {
            Train = DistillationFixture.StudentTrainOptions(fixture.Root, output),
            TeacherDirectory = fixture.TeacherRun,
            TargetsCacheDirectory = cache,
            SequenceWeight = 0,
            EncoderKd = EncoderDistillation.None,
        };

        var record = new DistillationTrainer(options, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        Assert.Equal("sup", record.Method);
        Assert.Empty(record.Distillation!["targets"]!.AsArray());
        Assert.Empty(Directory.GetFiles(cache, "targets-*"));
        Assert.Equal(4, record.StepsPerEpoch);
        Assert.True(File.Exists(Path.Combine(output, CaptionTrainer.BestDirectoryName, CaptionModel.WeightsFileName)));
    }

    [Fact]
    public void Run_SameSeedTwice_ReusesTargetsAndGivesTheSameLosses()
    {
        var cache = fixture.NewDirectory();
        DistillOptions Options(string output) => new()
        {
            Train = DistillationFixture.StudentTrainOptions(fixture.Root, output),
            TeacherDirectory = fixture.TeacherRun,
            TargetsCacheDirectory = cache,
            EncoderKd = EncoderDistillation.Mse,
            EncoderSharedDim = 8,
            LabelledFraction = 0.5,
        };
        using var firstLog = new StringWriter();
        using var secondLog = new StringWriter();

        var first = new DistillationTrainer(Options(fixture.NewDirectory()), new TrainingProgress(firstLog, isTerminal: false)).Run();
        var second = new DistillationTrainer(Options(fixture.NewDirectory()), new TrainingProgress(secondLog, isTerminal: false)).Run();

        Assert.Contains("computing teacher targets", firstLog.ToString(), StringComparison.Ordinal);
        Assert.Contains("teacher targets of 8 clips read from", secondLog.ToString(), StringComparison.Ordinal);
        Assert.Equal("sup+seq+mse", first.Method);
        // Equal up to float summation order (libtorch's threads): a tolerance, not rounding to 5 decimals, which failed
        // on 5.9980845 against 5.9980850.
        Assert.Equal(first.History[0].TrainLoss, second.History[0].TrainLoss, 1e-5);
    }

    [Fact]
    public void Run_ResumeFromCheckpointInsideAnEpoch_ContinuesLikeAnUninterruptedRunWithTheKdHeads()
    {
        var cache = fixture.NewDirectory();
        DistillOptions Options(string output) => new()
        {
            Train = DistillationFixture.StudentTrainOptions(fixture.Root, output, epochs: 3) with { CheckpointInterval = TimeSpan.Zero },
            TeacherDirectory = fixture.TeacherRun,
            TargetsCacheDirectory = cache,
            EncoderKd = EncoderDistillation.Mse,
            EncoderSharedDim = 8,
            LabelledFraction = 0.5,
            UnlabelledFromRest = true,
        };
        var straight = new DistillationTrainer(Options(fixture.NewDirectory()), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        // Stop right after the checkpoint saved inside epoch 2, as a killed process would.
        var interrupted = fixture.NewDirectory();
        using var cancellation = new CancellationTokenSource();
        using var watcher = new LineWatcher("checkpoint: epoch 2 step 1/", cancellation.Cancel);
        Assert.ThrowsAny<OperationCanceledException>(() => new DistillationTrainer(Options(interrupted), new TrainingProgress(watcher, isTerminal: false)).Run(cancellation.Token));
        var last = Path.Combine(interrupted, CaptionTrainer.LastDirectoryName);
        var saved = TrainingRecord.Load(last);
        Assert.Equal(1, saved.EpochsCompleted);
        Assert.Equal(2, saved.InProgress!.Epoch);
        Assert.Equal(4, saved.InProgress.TermSums!.Length);
        Assert.True(File.Exists(Path.Combine(last, DistillationTrainer.KdHeadsFileName)));

        using var log = new StringWriter();
        var resumed = new DistillationTrainer(Options(interrupted) with { Train = Options(interrupted).Train with { Resume = true } }, new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Contains("continuing epoch 2 at step 2/", log.ToString(), StringComparison.Ordinal);
        Assert.Equal(straight.GlobalStep, resumed.GlobalStep);
        Assert.Equal(3, resumed.History.Count);
        // Every step after the interruption repeats the uninterrupted run: weights, KD heads, optimizer moments and random streams all came back.
        Assert.True(
            straight.History.Zip(resumed.History, (a, b) => Math.Abs(a.TrainLoss - b.TrainLoss)).All(d => d <= 1e-4),
            $"train losses: uninterrupted [{string.Join(", ", straight.History.Select(e => e.TrainLoss))}], resumed [{string.Join(", ", resumed.History.Select(e => e.TrainLoss))}]");
        Assert.Equal(straight.Distillation!["last_epoch_terms"]!["encoder"]!.GetValue<double>(), resumed.Distillation!["last_epoch_terms"]!["encoder"]!.GetValue<double>(), 4);
    }

    [Fact]
    public void Run_ResumeWithOtherLosses_RefusesToContinueADifferentRun()
    {
        var output = fixture.NewDirectory();
        DistillOptions Options(double seqKd) => new()
        {
            Train = DistillationFixture.StudentTrainOptions(fixture.Root, output),
            TeacherDirectory = fixture.TeacherRun,
            TargetsCacheDirectory = Path.Combine(output, "targets"),
            EncoderKd = EncoderDistillation.None,
            SequenceWeight = seqKd,
        };
        new DistillationTrainer(Options(1.0), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        var error = Assert.Throws<TrainingException>(() => new DistillationTrainer(Options(0.5) with { Train = Options(0.5).Train with { Resume = true, Epochs = 2 } }, new TrainingProgress(TextWriter.Null, isTerminal: false)).Run());

        Assert.Contains("different distillation run", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"seq_kd\":0.5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DistillCommand_TokenKdWithBundleTeacherWithoutWeights_FailsWithExitCode2SayingWhy()
    {
        var bundle = Path.Combine(fixture.NewDirectory(), "teacher-bundle");
        BundleExporter.ExportCheckpoint(fixture.TeacherCheckpoint, bundle, "teacher", 2, null, overwrite: false, "test");
        Directory.Delete(Path.Combine(bundle, BundleExporter.CheckpointDirectoryName), recursive: true);
        var root = new RootCommand { DistillCommand.Create() };
        using var error = new StringWriter();

        var exitCode = root.Parse(["distill", "--teacher", bundle, "--data", fixture.Root, "--out", fixture.NewDirectory(), "--tok-kd", "1", "--threads", "1", "--epochs", "1", "--max-train-clips", "2"])
            .Invoke(new InvocationConfiguration { Output = TextWriter.Null, Error = error });

        Assert.Equal(2, exitCode);
        Assert.Contains("distill:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("TorchSharp weights", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DistillCommand_UnknownEncoderKd_IsRejectedByTheParser()
    {
        var root = new RootCommand { DistillCommand.Create() };
        using var error = new StringWriter();

        var exitCode = root.Parse(["distill", "--teacher", "t", "--data", "d", "--out", "o", "--enc-kd", "cosine"])
            .Invoke(new InvocationConfiguration { Output = TextWriter.Null, Error = error });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("cosine", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PretrainingWithoutEncoderKd_NamesTheOption()
    {
        var options = new DistillOptions
        {
            Train = DistillationFixture.StudentTrainOptions("d", "o"),
            TeacherDirectory = "t",
            EncoderKd = EncoderDistillation.None,
            EncoderPretrainEpochs = 2,
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("--enc-pretrain-epochs", error.Message, StringComparison.Ordinal);
    }
}
