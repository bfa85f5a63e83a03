using System.Globalization;
using System.Text.Json.Nodes;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Distillation;

/// <summary>
/// <c>captiond-train distill</c>: trains a student with L = L_sup + a_seq L_seq + a_enc L_enc (+ a_tok L_tok) from a
/// teacher's cached targets (Xu et al. 2024). The student takes the teacher's vocabulary, so that the teacher's
/// captions and distributions are in the student's token ids. Each step takes one batch of labelled clips and, when
/// audio-only data is used, one batch of audio-only clips; an epoch has as many steps as the larger of the two pools
/// needs, the smaller pool being cycled (reshuffled at every pass). Optionally the encoder (with the KD heads) is first
/// trained on L_enc alone. Output is the layout of <c>train</c> (<c>best/</c>, <c>last/</c>, test captions), so
/// <c>export</c> and <c>eval</c> work unchanged; the KD heads are saved in <c>last/</c> only, for <c>--resume</c>, and
/// are never exported. Schedule, validation, checkpoint choice, mid-epoch checkpoints, resumption and determinism are
/// those of <see cref="CaptionTrainer"/> (both run in <see cref="EpochLoop"/>).
/// </summary>
internal sealed class DistillationTrainer
{
    /// <summary>The KD projection heads in <c>last/</c>, for <c>--resume</c> (they are trained but never exported).</summary>
    public const string KdHeadsFileName = "kd-heads.bin";

    private readonly DistillOptions _options;
    private readonly TrainingProgress _progress;

    public DistillationTrainer(DistillOptions options, TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        options.Validate();
        _options = options;
        _progress = progress;
    }

    /// <exception cref="TrainingException">The output folder holds a run already, or training diverged.</exception>
    /// <exception cref="DatasetFormatException">A split or the audio-only folder is missing or malformed.</exception>
    public TrainingRecord Run(CancellationToken cancellationToken = default)
    {
        var options = _options;
        var train = options.Train;
        var dataDirectory = Path.GetFullPath(train.DataDirectory);
        var outputDirectory = Path.GetFullPath(train.OutputDirectory);
        var lastDirectory = Path.Combine(outputDirectory, CaptionTrainer.LastDirectoryName);
        var bestDirectory = Path.Combine(outputDirectory, CaptionTrainer.BestDirectoryName);
        if (train.Resume && !File.Exists(Path.Combine(lastDirectory, TrainingRecord.FileName)))
        {
            throw new TrainingException($"--resume: {lastDirectory} holds no checkpoint to continue from.");
        }

        if (!train.Resume && Directory.Exists(lastDirectory))
        {
            throw new TrainingException($"{outputDirectory} already holds a training run ({lastDirectory}); pass --resume to continue it or choose another --out.");
        }

        torch.set_num_threads(train.Threads);
        var developmentClips = ClothoDataset.Load(dataDirectory, ClothoDataset.Development, cancellationToken);
        if (train.MaxTrainClips is { } maxClips)
        {
            developmentClips = developmentClips.Take(maxClips).ToArray();
        }

        var validationClips = ClothoDataset.Load(dataDirectory, ClothoDataset.Validation, cancellationToken);
        if (developmentClips.Count == 0 || validationClips.Count == 0)
        {
            throw new TrainingException($"{dataDirectory}: distillation needs development and validation clips.");
        }

        var teacherDirectory = Path.GetFullPath(options.TeacherDirectory);
        var cacheDirectory = Path.GetFullPath(options.TargetsCacheDirectory ?? Path.Combine(teacherDirectory, TeacherTargetCache.DefaultFolderName));
        using var teacher = CaptionTeacher.Open(teacherDirectory, train.WindowSeconds, cacheDirectory, train.Threads, _progress.Message);
        var vocabulary = teacher.Vocabulary;

        random.manual_seed(train.Seed);
        // A tagger-based student starts from its tagger exactly as 'train --encoder' does, in the teacher's vocabulary.
        using var model = train.Resume ? CaptionModel.LoadCheckpoint(lastDirectory)
            : train.EncoderDirectory is { } encoderDirectory ? CaptionTrainer.OnTagger(encoderDirectory, vocabulary.Count, train.FreezeEncoderEpochs, _progress)
            : new CaptionModel(train.ModelConfig?.Invoke(vocabulary.Count)
                ?? (train.Size == "teacher" ? CaptionModelConfig.Teacher(vocabulary.Count) : CaptionModelConfig.Student(vocabulary.Count)));
        var config = model.Config;
        using var encoderKd = EncoderDistillation.Create(options.EncoderKd, config.EmbeddingDim, teacher.EmbeddingDim, options.EncoderSharedDim);
        if (train.Resume && encoderKd is not null)
        {
            encoderKd.load(Path.Combine(lastDirectory, KdHeadsFileName));
        }

        var windowSamples = (int)Math.Round(train.WindowSeconds * config.SampleRate);
        var maxWords = config.MaxTokens - 2;

        _progress.Message($"decoding {developmentClips.Count} training and {validationClips.Count} validation clips from {dataDirectory} ({train.Threads} at a time)");
        var trainSet = ClipSet.Load(developmentClips, vocabulary, maxWords, train.Threads, cancellationToken, (done, total) => _progress.Message($"  decoded {done}/{total} training clips"));
        var validation = ClipSet.Load(validationClips, vocabulary, maxWords, train.Threads, cancellationToken);
        ClipSet? unlabelledSet = null;
        if (options.UnlabelledDirectory is { } unlabelledDirectory)
        {
            var audioOnly = UnlabelledAudio.Load(unlabelledDirectory, cancellationToken);
            _progress.Message($"decoding {audioOnly.Count} audio-only clips from {Path.GetFullPath(unlabelledDirectory)}");
            unlabelledSet = ClipSet.Load(audioOnly, vocabulary, maxWords, train.Threads, cancellationToken);
        }

        var (labelled, rest) = LabelledSplit.Choose(trainSet.Count, options.LabelledFraction, train.Seed);
        var settings = new TeacherTargetSettings { Beam = options.TeacherBeam, TopK = options.TokenWeight > 0 ? options.TokenTopK : 0, BatchSize = train.BatchSize };
        TeacherTargets? trainTargets = null, unlabelledTargets = null;
        if (options.NeedsTargets)
        {
            trainTargets = TeacherTargetCache.LoadOrCompute(teacher, trainSet, settings, cacheDirectory, _progress.Message, cancellationToken);
            if (unlabelledSet is not null)
            {
                unlabelledTargets = TeacherTargetCache.LoadOrCompute(teacher, unlabelledSet, settings, cacheDirectory, _progress.Message, cancellationToken);
            }
        }

        var labelledPool = labelled.Select(i => new PoolClip(trainSet, trainTargets, i, Labelled: true)).ToArray();
        var audioOnlyPool = (options.UnlabelledFromRest ? rest.Select(i => new PoolClip(trainSet, trainTargets, i, Labelled: false)) : [])
            .Concat(unlabelledSet is null ? [] : Enumerable.Range(0, unlabelledSet.Count).Select(i => new PoolClip(unlabelledSet, unlabelledTargets, i, Labelled: false)))
            .ToArray();

        var batchSize = train.BatchSize;
        var stepsPerEpoch = (Math.Max(labelledPool.Length, audioOnlyPool.Length) + batchSize - 1) / batchSize;
        var totalSteps = (long)stepsPerEpoch * train.Epochs;
        var warmupSteps = train.WarmupSteps ?? EpochLoop.DefaultWarmupSteps(totalSteps);
        var augmentation = train.Augments ? new Augmentation() : null;
        var record = NewRecord(options, dataDirectory, teacher, trainSet, labelledPool, audioOnlyPool, stepsPerEpoch, warmupSteps, vocabulary.Count, augmentation, cacheDirectory, trainTargets, unlabelledTargets);
        if (train.Resume)
        {
            record = ResumedRecord(lastDirectory, record);
        }

        var counts = model.CountParameters();
        _progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"distilling {options.Method}: student {counts.Total:N0} parameters, teacher {teacher.Parameters.Total:N0} ({teacher.Kind} {teacher.Source}); {labelledPool.Length} labelled and {audioOnlyPool.Length} audio-only clips, {stepsPerEpoch} steps per epoch of {batchSize} + {(audioOnlyPool.Length > 0 ? batchSize : 0)} clips"));

        if (FrozenEncoderNote(record.FreezeEncoderEpochs, train.Epochs, encoderKd is not null) is { } note)
        {
            _progress.Message(note);
        }

        var weights = new DistillationWeights(1.0, options.SequenceWeight, options.EncoderKd == EncoderDistillation.None ? 0 : options.EncoderWeight, options.TokenWeight);
        var trained = model.parameters().Concat(encoderKd?.parameters() ?? []).ToArray();
        // A checkpoint is only written after pre-training, so a resumed run never repeats it.
        if (options.EncoderPretrainEpochs > 0 && encoderKd is not null && !train.Resume)
        {
            PretrainEncoder(model, encoderKd, [.. labelledPool, .. audioOnlyPool], windowSamples, maxWords, augmentation, cancellationToken);
        }

        using var optimizer = new HeldScalarAdamW(trained, train.LearningRate, train.WeightDecay);
        if (train.Resume)
        {
            optimizer.load_state_dict(Path.Combine(lastDirectory, CaptionTrainer.OptimizerFileName));
            _progress.Message($"resuming after epoch {record.EpochsCompleted} (step {record.GlobalStep}), best validation CIDEr-D {record.BestValidationCiderD:0.0000} at epoch {record.BestEpoch}");
        }

        void SaveHeads(string directory) => encoderKd?.save(Path.Combine(directory, KdHeadsFileName));
        var loop = new EpochLoop
        {
            Epochs = train.Epochs,
            StepsPerEpoch = stepsPerEpoch,
            WarmupSteps = record.WarmupSteps,
            PeakLearningRate = train.LearningRate,
            Seed = train.Seed,
            CheckpointInterval = train.CheckpointInterval,
            Name = "Distillation",
            DivergenceAdvice = "lower --lr or the KD weights",
        };
        int[] labelledOrder = [], audioOnlyOrder = [];
        loop.Run(
            optimizer,
            record,
            _progress,
            startEpoch: (epoch, epochRandom) =>
            {
                labelledOrder = Cycle(labelledPool.Length, stepsPerEpoch * batchSize, epochRandom);
                audioOnlyOrder = audioOnlyPool.Length == 0 ? [] : Cycle(audioOnlyPool.Length, stepsPerEpoch * batchSize, epochRandom);
                model.EncoderFrozen = epoch <= record.FreezeEncoderEpochs;
                model.train();
                encoderKd?.train();
            },
            step: (_, step, rng) =>
            {
                var clips = labelledOrder.AsSpan(step * batchSize, batchSize).ToArray().Select(i => labelledPool[i])
                    .Concat(audioOnlyPool.Length == 0 ? [] : audioOnlyOrder.AsSpan(step * batchSize, batchSize).ToArray().Select(i => audioOnlyPool[i]))
                    .ToArray();
                var batch = DistillationBatch.Create(clips, windowSamples, maxWords, weights.Token > 0, rng);
                augmentation?.PerturbWaveforms(batch.Audio, batch.Clips, rng);
                var result = DistillationStep.Run(
                    model, encoderKd, optimizer, trained, batch, weights, train.GradientClip,
                    augmentation is null ? null : spectrogram => augmentation.MaskSpectrogram(spectrogram, rng));
                return new StepOutcome(result.Applied, result.Loss, [result.Supervised, result.Sequence, result.Encoder, result.Token]);
            },
            saveCheckpoint: () => CaptionTrainer.SaveLast(lastDirectory, model, vocabulary, optimizer, record, SaveHeads),
            endEpoch: summary =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var (scores, _) = CaptionEvaluator.Evaluate(model, validation, vocabulary, windowSamples, batchSize * 2, train.MaxDecodeTokens, cancellationToken);
                record.History.Add(new EpochRecord(summary.Epoch, summary.MeanLoss, summary.LearningRate, summary.TrainSeconds, clock.Elapsed.TotalSeconds, scores));
                var terms = summary.MeanTerms;
                record.Distillation!["last_epoch_terms"] = new JsonObject
                {
                    ["supervised"] = terms[0],
                    ["sequence"] = terms[1],
                    ["encoder"] = terms[2],
                    ["token"] = terms[3],
                };
                var improved = CaptionTrainer.SaveEpoch(bestDirectory, lastDirectory, model, vocabulary, optimizer, record, scores, SaveHeads);
                if (TrainingCurves.Write(outputDirectory, record.History) is { } notDrawn)
                {
                    _progress.Message(notDrawn);
                }

                _progress.Message(FormattableString.Invariant(
                    $"epoch {summary.Epoch}{(model.EncoderFrozen ? " (encoder frozen)" : string.Empty)}: loss {summary.MeanLoss:0.0000} (sup {terms[0]:0.0000} seq {terms[1]:0.0000} enc {terms[2]:0.0000} tok {terms[3]:0.0000}); validation {CaptionTrainer.DescribeValidation(record, scores, improved)}"));
            },
            cancellationToken);

        CaptionTrainer.EvaluateBestOnTest(dataDirectory, outputDirectory, bestDirectory, lastDirectory, windowSamples, maxWords, record, train, _progress, cancellationToken);
        return record;
    }

    /// <summary>
    /// Encoder-only KD: <see cref="DistillOptions.EncoderPretrainEpochs"/> passes over all clips with L_enc alone,
    /// updating the front end, the CNN and the KD heads (the decoder is not in the optimiser, so weight decay leaves it alone).
    /// </summary>
    private void PretrainEncoder(
        CaptionModel model, nn.Module<Tensor, Tensor, Tensor> encoderKd, PoolClip[] pool, int windowSamples, int maxWords, Augmentation? augmentation, CancellationToken cancellationToken)
    {
        var train = _options.Train;
        var parameters = model.EncoderParameters().Concat(encoderKd.parameters()).ToArray();
        using var optimizer = new HeldScalarAdamW(parameters, train.LearningRate, train.WeightDecay);
        var weights = new DistillationWeights(0, 0, 1, 0);
        var stepsPerEpoch = (pool.Length + train.BatchSize - 1) / train.BatchSize;
        var loop = new EpochLoop
        {
            Epochs = _options.EncoderPretrainEpochs,
            StepsPerEpoch = stepsPerEpoch,
            PeakLearningRate = train.LearningRate,
            Seed = train.Seed,
            // Seeds apart from the main epochs' (which start at 1), so that pre-training does not replay their streams.
            SeedEpochSign = -1,
            Name = "Encoder pre-training",
            DivergenceAdvice = "lower --lr",
        };
        var order = Array.Empty<int>();
        loop.Run(
            optimizer,
            new TrainingRecord(),
            _progress,
            startEpoch: (_, epochRandom) =>
            {
                order = Cycle(pool.Length, pool.Length, epochRandom);
                model.train();
                encoderKd.train();
            },
            step: (_, step, rng) =>
            {
                var first = step * train.BatchSize;
                var clips = order[first..Math.Min(pool.Length, first + train.BatchSize)].Select(i => pool[i]).ToArray();
                var batch = DistillationBatch.Create(clips, windowSamples, maxWords, withDistributions: false, rng);
                augmentation?.PerturbWaveforms(batch.Audio, batch.Clips, rng);
                var result = DistillationStep.Run(
                    model, encoderKd, optimizer, parameters, batch, weights, train.GradientClip,
                    augmentation is null ? null : spectrogram => augmentation.MaskSpectrogram(spectrogram, rng));
                return new StepOutcome(result.Applied, result.Encoder, []);
            },
            saveCheckpoint: null,
            endEpoch: summary => _progress.Message(FormattableString.Invariant($"encoder pre-training epoch {summary.Epoch}: L_enc {summary.MeanLoss:0.0000}")),
            cancellationToken);
    }

    /// <summary>
    /// What the freeze schedule means for L_enc, or null when nothing is frozen or there is no encoder KD: while the
    /// encoder is frozen the student's pooled embedding comes from layers that take no gradient, so L_enc trains only the
    /// projection heads (which prepares them for the unfrozen epochs); when every epoch is frozen it never reaches the encoder.
    /// </summary>
    internal static string? FrozenEncoderNote(int frozenEpochs, int epochs, bool encoderKd)
    {
        if (!encoderKd || frozenEpochs <= 0)
        {
            return null;
        }

        return frozenEpochs >= epochs
            ? $"warning: the encoder is frozen in every epoch (--freeze-encoder-epochs {frozenEpochs}, --epochs {epochs}), so L_enc trains only the KD projection heads and never reaches the student's encoder; lower --freeze-encoder-epochs or use --enc-pretrain-epochs for encoder-level KD"
            : $"the encoder is frozen for the first {frozenEpochs} of {epochs} epochs: L_enc trains only the KD projection heads then, and the encoder from epoch {frozenEpochs + 1}";
    }

    /// <summary>
    /// <paramref name="length"/> indices into a pool of <paramref name="count"/>: shuffled passes over the pool, one after
    /// another, so that a smaller pool is cycled and each pass is in a new order.
    /// </summary>
    internal static int[] Cycle(int count, int length, Random random)
    {
        var order = new int[length];
        var pass = Enumerable.Range(0, count).ToArray();
        for (var filled = 0; filled < length; filled += count)
        {
            random.Shuffle(pass);
            pass.AsSpan(0, Math.Min(count, length - filled)).CopyTo(order.AsSpan(filled));
        }

        return order;
    }

    /// <summary>
    /// The record of the run in <c>last/</c>, after checking that it was distilled with the same data, student, seed and
    /// losses as <paramref name="fresh"/> (the record this command line would start): anything else would continue a
    /// different run.
    /// </summary>
    private static TrainingRecord ResumedRecord(string lastDirectory, TrainingRecord fresh)
    {
        var saved = TrainingRecord.Load(lastDirectory);
        static JsonNode? Settings(TrainingRecord record)
        {
            var distillation = record.Distillation?.DeepClone().AsObject();
            distillation?.Remove("last_epoch_terms");
            return new JsonObject
            {
                ["data"] = record.Data,
                ["size"] = record.Size,
                ["encoder"] = record.Encoder,
                ["freeze_encoder_epochs"] = record.FreezeEncoderEpochs,
                ["batch_size"] = record.BatchSize,
                ["seed"] = record.Seed,
                ["max_train_clips"] = record.MaxTrainClips,
                ["steps_per_epoch"] = record.StepsPerEpoch,
                ["distillation"] = distillation,
            };
        }

        var (was, now) = (Settings(saved), Settings(fresh));
        if (!JsonNode.DeepEquals(was, now))
        {
            throw new TrainingException($"--resume: {lastDirectory} is a different distillation run ({was?.ToJsonString()}) from this command's ({now?.ToJsonString()}); resume with the same settings.");
        }

        // The schedule follows the new --epochs, like train's.
        saved.Epochs = fresh.Epochs;
        saved.Command = fresh.Command;
        return saved;
    }

    private static TrainingRecord NewRecord(
        DistillOptions options, string dataDirectory, CaptionTeacher teacher, ClipSet trainSet, PoolClip[] labelledPool, PoolClip[] audioOnlyPool, int stepsPerEpoch,
        int warmupSteps, int vocabSize, Augmentation? augmentation, string cacheDirectory, TeacherTargets? trainTargets, TeacherTargets? unlabelledTargets)
    {
        var train = options.Train;
        var targets = new JsonArray();
        foreach (var t in new[] { trainTargets, unlabelledTargets })
        {
            if (t is not null)
            {
                targets.Add(TeacherTargetCache.PathOf(cacheDirectory, t.Key));
            }
        }

        return TrainingRecord.Begin(train, dataDirectory, vocabSize) with
        {
            Encoder = train.EncoderDirectory is { } encoder ? Path.GetFullPath(encoder) : null,
            Method = options.Method,
            StepsPerEpoch = stepsPerEpoch,
            WarmupSteps = warmupSteps,
            TrainClips = labelledPool.Length,
            TrainCaptions = labelledPool.Sum(c => trainSet.CaptionIds[c.Index].Length),
            Augmentation = augmentation?.Describe() ?? "none",
            Teacher = teacher.Describe(),
            Distillation = new JsonObject
            {
                ["supervised_weight"] = 1.0,
                ["seq_kd"] = options.SequenceWeight,
                ["enc_kd"] = options.EncoderKd,
                ["enc_kd_weight"] = options.EncoderKd == EncoderDistillation.None ? 0 : options.EncoderWeight,
                ["enc_kd_dim"] = options.EncoderSharedDim,
                ["tok_kd"] = options.TokenWeight,
                ["tok_kd_top_k"] = options.TokenWeight > 0 ? options.TokenTopK : 0,
                ["teacher_beam"] = options.TeacherBeam,
                ["labelled_fraction"] = options.LabelledFraction,
                ["labelled_clips"] = labelledPool.Length,
                ["audio_only_clips"] = audioOnlyPool.Length,
                ["unlabelled"] = options.UnlabelledDirectory is null ? null : Path.GetFullPath(options.UnlabelledDirectory),
                ["unlabelled_from_rest"] = options.UnlabelledFromRest,
                ["enc_pretrain_epochs"] = options.EncoderPretrainEpochs,
                ["targets"] = targets,
            },
        };
    }
}
