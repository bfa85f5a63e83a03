using System.Text.Json;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// Supervised training of a caption model on a Clotho-layout data set (<c>captiond-train train</c>): AdamW with linear
/// warm-up and cosine decay, teacher-forced cross-entropy that ignores &lt;pad&gt;, gradient clipping; after every epoch
/// greedy captions of the validation split choose the <c>best/</c> checkpoint by CIDEr-D, and <c>last/</c> holds what
/// <c>--resume</c> needs; at the end the best checkpoint is scored on the <c>evaluation</c> split.
/// <para>
/// Every clip is trained on all its captions in the step that sees it: the audio goes through the encoder once and its
/// memory is repeated for each caption. The encoder is most of the cost of a step, so this uses all five Clotho captions
/// per epoch for about the price of one, instead of one random caption per clip per epoch (which would need five times
/// the epochs for the same text) or one example per (clip, caption) pair (five encoder passes over the same audio).
/// </para>
/// <para>
/// Determinism: the weights are initialised after <c>manual_seed(seed)</c>; the epochs and steps run in
/// <see cref="EpochLoop"/>, which derives every step's random streams from (seed, epoch, step), so a resumed run repeats
/// an uninterrupted one. Besides every epoch's end, <c>last/</c> is saved every <see cref="TrainOptions.CheckpointInterval"/>
/// inside an epoch.
/// </para>
/// </summary>
internal sealed class CaptionTrainer
{
    public const string BestDirectoryName = "best";
    public const string LastDirectoryName = "last";
    public const string OptimizerFileName = "optimizer.bin";
    public const string TestCaptionsFileName = "test_captions.jsonl";
    public const string TestReferencesFileName = "test_references.jsonl";

    private readonly TrainOptions _options;
    private readonly TrainingProgress _progress;

    public CaptionTrainer(TrainOptions options, TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        options.Validate();
        _options = options;
        _progress = progress;
    }

    /// <summary>Trains, validates every epoch, scores the best checkpoint on the test split and returns the record.</summary>
    /// <exception cref="TrainingException">The output folder, the checkpoint to resume or the options do not fit together.</exception>
    /// <exception cref="DatasetFormatException">A split is missing or malformed.</exception>
    /// <exception cref="AudioDecodeException">A clip cannot be decoded.</exception>
    public TrainingRecord Run(CancellationToken cancellationToken = default)
    {
        var options = _options;
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        var outputDirectory = Path.GetFullPath(options.OutputDirectory);
        var lastDirectory = Path.Combine(outputDirectory, LastDirectoryName);
        var bestDirectory = Path.Combine(outputDirectory, BestDirectoryName);
        if (options.Resume && !File.Exists(Path.Combine(lastDirectory, TrainingRecord.FileName)))
        {
            throw new TrainingException($"--resume: {lastDirectory} holds no checkpoint to continue from.");
        }

        if (!options.Resume && Directory.Exists(lastDirectory))
        {
            throw new TrainingException($"{outputDirectory} already holds a training run ({lastDirectory}); pass --resume to continue it or choose another --out.");
        }

        torch.set_num_threads(options.Threads);
        var trainClips = ClothoDataset.Load(dataDirectory, ClothoDataset.Development, cancellationToken);
        if (options.MaxTrainClips is { } maxClips)
        {
            trainClips = trainClips.Take(maxClips).ToArray();
        }

        var validationClips = ClothoDataset.Load(dataDirectory, ClothoDataset.Validation, cancellationToken);
        if (trainClips.Count == 0 || validationClips.Count == 0)
        {
            throw new TrainingException(
                $"{dataDirectory}: the {(trainClips.Count == 0 ? ClothoDataset.Development : ClothoDataset.Validation)} split has no clips; training needs both development and validation clips.");
        }

        var (model, vocabulary, record) = options.Resume
            ? Resume(lastDirectory, dataDirectory)
            : Start(trainClips, dataDirectory);
        using var modelScope = model;
        var config = model.Config;
        var windowSamples = (int)Math.Round(options.WindowSeconds * config.SampleRate);
        // Captions keep MaxTokens - 2 words: with <start> in front (input) or <end> behind (target) they fill MaxTokens - 1 positions.
        var maxWords = config.MaxTokens - 2;

        using var trainCache = OpenFeatureCache(dataDirectory, ClothoDataset.Development, options.Features);
        using var validationCache = OpenFeatureCache(dataDirectory, ClothoDataset.Validation, options.Features);
        var train = LoadSplit(trainClips, trainCache, config, vocabulary, maxWords, dataDirectory, cancellationToken);
        var validation = LoadSplit(validationClips, validationCache, config, vocabulary, maxWords, dataDirectory, cancellationToken);
        record.Features = trainCache?.Path ?? "audio";

        var stepsPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var totalSteps = (long)stepsPerEpoch * options.Epochs;
        var warmupSteps = options.WarmupSteps ?? (options.Resume ? record.WarmupSteps : EpochLoop.DefaultWarmupSteps(totalSteps));
        record.Epochs = options.Epochs;
        record.StepsPerEpoch = stepsPerEpoch;
        record.WarmupSteps = warmupSteps;
        record.TrainClips = train.Count;
        record.TrainCaptions = train.CaptionIds.Sum(c => c.Length);
        record.ValidationClips = validation.Count;
        var counts = model.CountParameters();
        _progress.Message($"{record.Size}: {counts.Total:N0} parameters (encoder {counts.Encoder:N0}, decoder {counts.Decoder:N0}), vocabulary {vocabulary.Count}; {train.Count} clips with {record.TrainCaptions} captions, {stepsPerEpoch} steps per epoch of {options.BatchSize} clips");

        var clipLabels = model.Tagger is { } tagger && options.LabelLossWeight > 0 ? ClipLabels(trainClips, dataDirectory, tagger.Config.Labels) : null;
        record.LabelLossWeight = clipLabels is null ? 0 : options.LabelLossWeight;

        var augmentation = options.Augments ? new Augmentation() : null;
        record.Augmentation = augmentation?.Describe() ?? "none";
        using var optimizer = new HeldScalarAdamW(model.parameters(), options.LearningRate, options.WeightDecay);
        if (options.Resume)
        {
            optimizer.load_state_dict(Path.Combine(lastDirectory, OptimizerFileName));
            _progress.Message($"resuming after epoch {record.EpochsCompleted} (step {record.GlobalStep}), best validation CIDEr-D {record.BestValidationCiderD:0.0000} at epoch {record.BestEpoch}");
        }

        var loop = new EpochLoop
        {
            Epochs = options.Epochs,
            StepsPerEpoch = stepsPerEpoch,
            WarmupSteps = warmupSteps,
            PeakLearningRate = options.LearningRate,
            Seed = record.Seed,
            CheckpointInterval = options.CheckpointInterval,
        };
        var order = Enumerable.Range(0, train.Count).ToArray();
        loop.Run(
            optimizer,
            record,
            _progress,
            startEpoch: (epoch, epochRandom) =>
            {
                order = Enumerable.Range(0, train.Count).ToArray();
                epochRandom.Shuffle(order);
                model.EncoderFrozen = epoch <= record.FreezeEncoderEpochs;
                model.train();
            },
            step: (_, step, rng) =>
            {
                var batch = order.AsSpan(step * options.BatchSize, Math.Min(options.BatchSize, train.Count - (step * options.BatchSize)));
                var examples = CaptionBatch.FromClips(train, batch, windowSamples, rng);
                if (examples.LogMel is { } logMel)
                {
                    augmentation?.PerturbLogMel(logMel, examples.Clips, examples.MelBins, rng);
                }
                else
                {
                    augmentation?.PerturbWaveforms(examples.Audio, examples.Clips, rng);
                }

                var labels = clipLabels is not null && !model.EncoderFrozen ? BatchLabels(clipLabels, batch, model.Tagger!.Config.Labels.Count, options.LabelLossWeight) : null;
                return StepOutcome.Of(SupervisedStep.Run(
                    model, optimizer, examples, options.LabelSmoothing, options.GradientClip, augmentation is null ? null : spectrogram => augmentation.MaskSpectrogram(spectrogram, rng), labels));
            },
            saveCheckpoint: () => SaveLast(lastDirectory, model, vocabulary, optimizer, record),
            endEpoch: summary =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var (scores, _) = CaptionEvaluator.Evaluate(model, validation, vocabulary, windowSamples, options.BatchSize * 2, options.MaxDecodeTokens, cancellationToken);
                record.History.Add(new EpochRecord(summary.Epoch, summary.MeanLoss, summary.LearningRate, summary.TrainSeconds, clock.Elapsed.TotalSeconds, scores));
                var improved = SaveEpoch(bestDirectory, lastDirectory, model, vocabulary, optimizer, record, scores);
                if (TrainingCurves.Write(outputDirectory, record.History) is { } notDrawn)
                {
                    _progress.Message(notDrawn);
                }

                _progress.Message(FormattableString.Invariant(
                    $"epoch {summary.Epoch}: train loss {summary.MeanLoss:0.0000}; validation {DescribeValidation(record, scores, improved)}"));
            },
            cancellationToken);

        EvaluateBestOnTest(dataDirectory, outputDirectory, bestDirectory, lastDirectory, windowSamples, maxWords, record, options, _progress, cancellationToken);
        return record;
    }

    /// <summary>
    /// The label indices of every training clip: the categories one hears in it (<see cref="Incremental.SceneEvents.TryLoadCategories"/>)
    /// that are among <paramref name="labels"/>; null, with a message, when the data has no <c>scenes.jsonl</c>.
    /// </summary>
    /// <exception cref="TrainingException">A training clip has no line in <c>scenes.jsonl</c>.</exception>
    private int[][]? ClipLabels(IReadOnlyList<CaptionedClip> clips, string dataDirectory, IReadOnlyList<string> labels)
    {
        if (Incremental.SceneEvents.TryLoadCategories(dataDirectory, Tagging.TaggingSet.Nothing) is not { } categories)
        {
            _progress.Message($"no tagging loss: {dataDirectory} has no {Data.Scenes.SceneSetBuilder.ScenesFileName} to take the clips' categories from");
            return null;
        }

        var index = labels.Select((label, i) => (label, i)).ToDictionary(x => x.label, x => x.i, StringComparer.Ordinal);
        var result = clips.Select(clip => categories.TryGetValue(clip.Id, out var heard)
                ? heard.Where(index.ContainsKey).Select(c => index[c]).ToArray()
                : throw new TrainingException($"{dataDirectory}: clip {clip.Id} has no line in {Data.Scenes.SceneSetBuilder.ScenesFileName}, so the tagging loss has no targets for it (train with --label-loss-weight 0)."))
            .ToArray();
        _progress.Message(FormattableString.Invariant(
            $"tagging loss x {_options.LabelLossWeight} while the encoder is fine-tuned: {result.Count(r => r.Length > 0)} of {clips.Count} clips hold one of the tagger's {labels.Count} labels"));
        return result;
    }

    private static LabelTargets BatchLabels(int[][] clipLabels, ReadOnlySpan<int> batch, int count, double weight)
    {
        var targets = new float[batch.Length * count];
        for (var i = 0; i < batch.Length; i++)
        {
            foreach (var label in clipLabels[batch[i]])
            {
                targets[(i * count) + label] = 1f;
            }
        }

        return new LabelTargets(targets, count, weight);
    }

    /// <summary>
    /// The cache of <paramref name="split"/> as <paramref name="source"/> asks: null when off, or when absent and not
    /// required. Whether it fits the clips and the model is checked when a set is read from it.
    /// </summary>
    /// <exception cref="FeatureCacheException">Required and absent, or unreadable.</exception>
    internal static LogMelCacheFile? OpenFeatureCache(string dataDirectory, string split, FeatureSource source)
    {
        var path = LogMelCacheFile.PathOf(dataDirectory, split);
        return source switch
        {
            FeatureSource.Off => null,
            _ when File.Exists(path) => LogMelCacheFile.Open(path),
            FeatureSource.Require => throw new FeatureCacheException($"--features require: there is no {path}; build it with 'captiond-train data features --data {dataDirectory}'."),
            _ => null,
        };
    }

    /// <summary>What one rebuilds a stale cache with, for the messages.</summary>
    internal static string RebuildHint(string dataDirectory) =>
        $"rebuild it with 'captiond-train data features --data {dataDirectory}' or train with --features off";

    private ClipSet LoadSplit(
        IReadOnlyList<CaptionedClip> clips, LogMelCacheFile? cache, CaptionModelConfig config, Vocabulary vocabulary, int maxWords, string dataDirectory, CancellationToken cancellationToken)
    {
        if (cache is not null)
        {
            _progress.Message($"reading the log-mel of {clips.Count} clips from {cache.Path}");
            return ClipSet.FromFeatures(clips, cache, FrontendParameters.Of(config), vocabulary, maxWords, RebuildHint(dataDirectory));
        }

        _progress.Message($"decoding {clips.Count} clips from {dataDirectory} ({_options.Threads} at a time)");
        return ClipSet.Load(clips, vocabulary, maxWords, _options.Threads, cancellationToken, (done, total) => _progress.Message($"  decoded {done}/{total} clips"));
    }

    /// <summary>
    /// Saves what <c>--resume</c> needs: weights, vocabulary, optimizer moments and the record, and whatever else the
    /// run trains (<paramref name="saveMore"/>: distillation's KD heads).
    /// </summary>
    internal static void SaveLast(
        string lastDirectory, CaptionModel model, Vocabulary vocabulary, TorchSharp.Modules.OptimizerHelper optimizer, TrainingRecord record, Action<string>? saveMore = null) =>
        WriteAtomically(lastDirectory, directory =>
        {
            model.SaveCheckpoint(directory, vocabulary.Tokens);
            optimizer.save_state_dict(Path.Combine(directory, OptimizerFileName));
            saveMore?.Invoke(directory);
            record.Save(directory);
        });

    /// <summary>
    /// The end of a validated epoch (shared with distillation): records the best score and saves <c>best/</c> when
    /// <paramref name="scores"/> beat it, then <c>last/</c>. Returns whether the epoch was the best so far.
    /// </summary>
    internal static bool SaveEpoch(
        string bestDirectory, string lastDirectory, CaptionModel model, Vocabulary vocabulary, TorchSharp.Modules.OptimizerHelper optimizer, TrainingRecord record,
        CaptionScores scores, Action<string>? saveMore = null)
    {
        var improved = scores.CiderD > record.BestValidationCiderD;
        if (improved)
        {
            record.BestEpoch = record.EpochsCompleted;
            record.BestValidationCiderD = scores.CiderD;
            WriteAtomically(bestDirectory, directory =>
            {
                model.SaveCheckpoint(directory, vocabulary.Tokens);
                record.Save(directory);
            });
        }

        SaveLast(lastDirectory, model, vocabulary, optimizer, record, saveMore);
        return improved;
    }

    /// <summary>An epoch's validation scores for the log, and whether they made the best checkpoint.</summary>
    internal static string DescribeValidation(TrainingRecord record, CaptionScores scores, bool improved) =>
        FormattableString.Invariant(
            $"BLEU-4 {scores.Bleu4:0.0000} ROUGE-L {scores.RougeL:0.0000} CIDEr-D {scores.CiderD:0.0000}{(improved ? " (best, saved)" : $" (best {record.BestValidationCiderD:0.0000} at epoch {record.BestEpoch})")}");

    private (CaptionModel Model, Vocabulary Vocabulary, TrainingRecord Record) Start(IReadOnlyList<CaptionedClip> trainClips, string dataDirectory)
    {
        var options = _options;
        var vocabulary = Vocabulary.Build(trainClips.SelectMany(c => c.Captions), options.MinWordCount);
        if (vocabulary.Count <= 4)
        {
            throw new TrainingException($"No word of the training captions occurs {options.MinWordCount} times; lower --min-word-count.");
        }

        random.manual_seed(options.Seed);
        var record = TrainingRecord.Begin(options, dataDirectory, vocabulary.Count);
        if (options.EncoderDirectory is { } encoderDirectory)
        {
            var model = OnTagger(encoderDirectory, vocabulary.Count, options.FreezeEncoderEpochs, _progress);
            record.Encoder = Path.GetFullPath(encoderDirectory);
            return (model, vocabulary, record);
        }

        var config = options.ModelConfig?.Invoke(vocabulary.Count)
            ?? (options.Size == "teacher" ? CaptionModelConfig.Teacher(vocabulary.Count) : CaptionModelConfig.Student(vocabulary.Count));
        return (new CaptionModel(config), vocabulary, record);
    }

    /// <summary>
    /// A new caption model on the tagger checkpoint in <paramref name="encoderDirectory"/> (<c>--encoder</c>; shared by
    /// <c>train</c> and <c>distill</c>): the student's decoder on <see cref="CaptionModelConfig.OnTagger"/>, the tagger's
    /// weights loaded into its encoder (all but the label frame, which tagging does not have).
    /// </summary>
    /// <exception cref="TrainingException">The tagger's weights do not fit the caption model's tagger.</exception>
    internal static CaptionModel OnTagger(string encoderDirectory, int vocabSize, int freezeEncoderEpochs, TrainingProgress progress)
    {
        using var tagger = Tagging.TaggerTrainer.Load(encoderDirectory);
        var model = new CaptionModel(CaptionModelConfig.OnTagger(tagger.Config, vocabSize));
        try
        {
            // The caption model's tagger adds the label frame (TaggingEncoderConfig.LabelMemory); everything else must match.
            var (missing, unexpected) = model.Tagger!.load_state_dict(tagger.state_dict(), strict: false);
            if (unexpected.Count > 0 || missing.Any(name => !name.StartsWith("_label", StringComparison.Ordinal)))
            {
                throw new TrainingException($"--encoder {encoderDirectory}: its tagger does not fit the caption model's (missing {string.Join(", ", missing)}; unexpected {string.Join(", ", unexpected)}).");
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }

        progress.Message($"encoder: the {tagger.Config.Size} tagger of {Path.GetFullPath(encoderDirectory)} ({tagger.Config.Labels.Count} labels), frozen for {freezeEncoderEpochs} epochs");
        return model;
    }

    private (CaptionModel Model, Vocabulary Vocabulary, TrainingRecord Record) Resume(string lastDirectory, string dataDirectory)
    {
        var record = TrainingRecord.Load(lastDirectory);
        if (!string.Equals(record.Data, dataDirectory, StringComparison.Ordinal))
        {
            throw new TrainingException($"--resume: {lastDirectory} was trained on {record.Data}, not on {dataDirectory}.");
        }

        // Settings that define the run come from the checkpoint; the schedule follows the new --epochs.
        var size = _options.ModelConfig is null ? _options.Size : TrainingRecord.CustomSize;
        if (record.Size != size || record.BatchSize != _options.BatchSize || record.MaxTrainClips != _options.MaxTrainClips)
        {
            throw new TrainingException(
                $"--resume: {lastDirectory} is a {record.Size} run with --batch-size {record.BatchSize} and --max-train-clips {record.MaxTrainClips?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(all)"}; resume with the same settings.");
        }

        var vocabulary = Vocabulary.Load(Path.Combine(lastDirectory, Vocabulary.FileName));
        var model = CaptionModel.LoadCheckpoint(lastDirectory);
        return (model, vocabulary, record);
    }

    /// <summary>Scores <c>best/</c> on the evaluation split, writes the test captions and records the metrics in both checkpoints (shared with distillation).</summary>
    internal static void EvaluateBestOnTest(
        string dataDirectory, string outputDirectory, string bestDirectory, string lastDirectory, int windowSamples, int maxWords, TrainingRecord record,
        TrainOptions options, TrainingProgress progress, CancellationToken cancellationToken)
    {
        if (!File.Exists(ClothoDataset.CaptionsPath(dataDirectory, ClothoDataset.Evaluation)))
        {
            progress.Message($"no {ClothoDataset.Evaluation} split in {dataDirectory}: the best checkpoint is not tested");
            return;
        }

        var testClips = ClothoDataset.Load(dataDirectory, ClothoDataset.Evaluation, cancellationToken);
        var vocabulary = Vocabulary.Load(Path.Combine(bestDirectory, Vocabulary.FileName));
        using var best = CaptionModel.LoadCheckpoint(bestDirectory);
        progress.Message($"testing the best checkpoint (epoch {record.BestEpoch}) on {testClips.Count} {ClothoDataset.Evaluation} clips");
        var test = ClipSet.Load(testClips, vocabulary, maxWords, options.Threads, cancellationToken);
        var (scores, captions) = CaptionEvaluator.Evaluate(best, test, vocabulary, windowSamples, options.BatchSize * 2, options.MaxDecodeTokens, cancellationToken);
        record.Metrics = scores;
        record.MetricsSplit = ClothoDataset.Evaluation;
        record.TestClips = test.Count;

        // The captions and references in the format of 'captiond-train score', so the numbers can be checked and compared.
        File.WriteAllLines(
            Path.Combine(outputDirectory, TestCaptionsFileName),
            testClips.Select((clip, i) => JsonSerializer.Serialize(new { id = clip.Id, caption = captions[i] })));
        File.WriteAllLines(
            Path.Combine(outputDirectory, TestReferencesFileName),
            testClips.Select(clip => JsonSerializer.Serialize(new { id = clip.Id, captions = clip.Captions })));
        record.Save(bestDirectory);
        record.Save(lastDirectory);
        progress.Message(FormattableString.Invariant(
            $"test ({test.Count} clips): BLEU-1 {scores.Bleu1:0.0000} BLEU-4 {scores.Bleu4:0.0000} ROUGE-L {scores.RougeL:0.0000} CIDEr-D {scores.CiderD:0.0000}"));
    }

    /// <summary>
    /// Writes a checkpoint folder next to its final place and then swaps it in, so that an interruption while saving
    /// leaves the previous checkpoint rather than a half-written one.
    /// </summary>
    internal static void WriteAtomically(string directory, Action<string> write)
    {
        var staging = directory + ".writing";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        write(staging);
        var previous = directory + ".previous";
        if (Directory.Exists(previous))
        {
            Directory.Delete(previous, recursive: true);
        }

        if (Directory.Exists(directory))
        {
            Directory.Move(directory, previous);
        }

        Directory.Move(staging, directory);
        if (Directory.Exists(previous))
        {
            Directory.Delete(previous, recursive: true);
        }
    }
}
