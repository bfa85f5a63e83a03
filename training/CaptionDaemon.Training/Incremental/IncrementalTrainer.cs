using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Incremental;

/// <summary>What an update produced: the checkpoint folder, the bundle (when exported), the record and the new memory.</summary>
internal sealed record IncrementalResult(string ModelDirectory, string? BundleDirectory, JsonObject Training, RehearsalMemory Memory, IReadOnlyList<string> NewWords);

/// <summary>
/// <c>captiond-train incremental</c>: one class-incremental update in the manner of Cappellazzo et al. (2023). The base
/// model is fine-tuned on the new task's clips together with its rehearsal memory; the base model is the teacher, and
/// its targets for the memory clips (stored with the memory when the base was made, computed now otherwise) give the KD
/// terms on the rehearsal clips: audio-KD (MSE of the encoder output sequences), token-KD (cross-entropy against its
/// teacher-forced top-k next-token distributions) and sequence-KD (cross-entropy on its beam-search captions). Every
/// clip of a batch also gets the supervised cross-entropy on its own captions. The vocabulary grows with the new words
/// without moving old ids. At the end the memory is chosen again per category (random or herding) from the old memory
/// and the new clips, the new model computes its targets for it, and both are stored with the model in
/// <c>OUT/model/</c> (and in the bundle with <c>--export</c>), whose training record names its lineage.
/// </summary>
internal sealed class IncrementalTrainer
{
    public const string ModelDirectoryName = "model";
    public const string WorkDirectoryName = "work";

    /// <summary>The section of the training record (and so of the bundle manifest's <c>training</c>) that describes the update.</summary>
    public const string RecordSection = "incremental";

    /// <summary>The key of that section listing every label the updates of the lineage taught the tagger.</summary>
    public const string TaughtLabelsKey = "taught_labels";

    /// <summary>The labels the updates of a model's lineage taught its tagger (<see cref="TaughtLabelsKey"/>); empty for a model no update taught one.</summary>
    public static IReadOnlySet<string> TaughtLabels(JsonObject training)
    {
        ArgumentNullException.ThrowIfNull(training);
        return training[RecordSection]?[TaughtLabelsKey] is JsonArray taught
            ? taught.Select(t => t?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
    }

    private readonly IncrementalOptions _options;
    private readonly TrainingProgress _progress;

    public IncrementalTrainer(IncrementalOptions options, TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        options.Validate();
        _options = options;
        _progress = progress;
    }

    /// <exception cref="TrainingException">The output exists, the base has no TorchSharp weights, or training diverged.</exception>
    /// <exception cref="DatasetFormatException">The new data has no development split.</exception>
    public IncrementalResult Run(CancellationToken cancellationToken = default)
    {
        var options = _options;
        var output = Path.GetFullPath(options.OutputDirectory);
        var modelDirectory = Path.Combine(output, ModelDirectoryName);
        var workDirectory = Path.Combine(output, WorkDirectoryName);
        if (Directory.Exists(modelDirectory))
        {
            if (!options.Force)
            {
                throw new TrainingException($"{modelDirectory} exists already; choose another --out or pass --force.");
            }

            Directory.Delete(modelDirectory, recursive: true);
        }

        torch.set_num_threads(options.Threads);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var baseModel = BaseModel.Open(options.BaseDirectory);
        var windowSeconds = options.WindowSeconds ?? baseModel.WindowSeconds;
        var task = options.Task ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.NewDataDirectory)));
        var newData = Path.GetFullPath(options.NewDataDirectory);
        var newClips = ClothoDataset.Load(newData, ClothoDataset.Development, cancellationToken);
        if (options.MaxNewClips is { } maxNew)
        {
            newClips = newClips.Take(maxNew).ToArray();
        }

        if (newClips.Count == 0)
        {
            throw new TrainingException($"{newData}: the development split has no clips to learn the new task from.");
        }

        var newEvents = SceneEvents.TryLoad(newData);
        var fallbackCategory = options.Category ?? task;
        IReadOnlyList<ClipEvent> EventsOf(CaptionedClip clip) =>
            newEvents?.GetValueOrDefault(clip.Id) is { Count: > 0 } events ? events : [new ClipEvent(fallbackCategory, clip.Captions.FirstOrDefault() ?? fallbackCategory)];

        using var oldModel = CaptionModel.LoadCheckpoint(baseModel.CheckpointDirectory);
        var oldVocabulary = Vocabulary.Load(Path.Combine(baseModel.CheckpointDirectory, Vocabulary.FileName));
        var baseFingerprint = ModelFingerprint.Of(oldModel, oldVocabulary);
        var windowSamples = (int)Math.Round(windowSeconds * oldModel.Config.SampleRate);
        var maxWords = oldModel.Config.MaxTokens - 2;

        var memory = options.Rehearses
            ? RehearsalMemory.TryLoad(baseModel.Directory) ?? RehearsalMemory.TryLoad(baseModel.CheckpointDirectory) ?? InitialMemory(baseModel, oldModel, oldVocabulary, windowSamples, cancellationToken)
            : null;
        var memoryOwner = memory is null ? null : RehearsalMemory.TryLoad(baseModel.Directory) is not null ? baseModel.Directory : baseModel.CheckpointDirectory;
        var oldTasks = memory?.Tasks ?? [baseModel.Task];
        var seenBefore = memory?.SeenClips ?? baseModel.TrainClips;

        var (vocabulary, newWords) = VocabularyGrowth.Grow(oldVocabulary, newClips.SelectMany(c => c.Captions), options.MinWordCount);
        random.manual_seed(options.Seed);
        using var trained = VocabularyGrowth.Widen(oldModel, vocabulary.Count);
        _progress.Message(newWords.Count == 0
            ? $"vocabulary: {vocabulary.Count} tokens, no new word"
            : $"vocabulary: {oldVocabulary.Count} + {newWords.Count} new words ({string.Join(", ", newWords.Take(12))}{(newWords.Count > 12 ? ", ..." : string.Empty)})");

        _progress.Message($"decoding {newClips.Count} clips of task '{task}' and {memory?.Clips.Count ?? 0} rehearsal clips");
        var newSet = ClipSet.Load(newClips, vocabulary, maxWords, options.Threads, cancellationToken);
        var memoryClips = memory?.Clips ?? [];
        var memorySet = ClipSet.Load(memoryClips.Select(c => c.ToCaptionedClip()).ToArray(), vocabulary, maxWords, options.Threads, cancellationToken);

        // Audio-KD compares the encoders' whole output sequences, as the paper's MSE on encoder outputs does: old and new
        // model share one architecture. (The pooled embedding, tried first, moved too little to matter next to the captions.)
        var settings = new TeacherTargetSettings { Beam = options.TeacherBeam, TopK = options.TokenTopK, BatchSize = options.BatchSize, AudioFrames = true };
        TeacherTargets? memoryTargets = null;
        var targetsSource = "none";
        if (options.Kd.Count > 0 && memorySet.Count > 0)
        {
            var key = RehearsalMemory.TargetsKey(baseFingerprint, memoryClips.Select(c => c.Id), settings);
            memoryTargets = RehearsalMemory.TryLoadTargets(memoryOwner!, key);
            if (memoryTargets is not null)
            {
                targetsSource = "stored with the memory";
                _progress.Message($"old model's targets for {memorySet.Count} rehearsal clips read from {RehearsalMemory.PathIn(memoryOwner!)}");
            }
            else
            {
                targetsSource = "computed from the base";
                memoryTargets = ComputeTargets(baseModel.Directory, windowSeconds, workDirectory, memorySet, settings, key, cancellationToken);
            }
        }

        var pool = Enumerable.Range(0, newSet.Count).Select(i => new PoolClip(newSet, null, i, Labelled: true))
            .Concat(Enumerable.Range(0, memorySet.Count).Select(i => new PoolClip(memorySet, memoryTargets, i, Labelled: true)))
            .ToArray();
        var weights = new DistillationWeights(
            1.0,
            options.Kd.Contains(IncrementalOptions.SequenceKd) ? options.SequenceWeight : 0,
            options.Kd.Contains(IncrementalOptions.AudioKd) ? options.AudioWeight : 0,
            options.Kd.Contains(IncrementalOptions.TokenKd) ? options.TokenWeight : 0);
        // The tagger learns a label for each category it lacks, when the new data names its categories.
        var labelCategories = newEvents is not null || options.Category is not null ? newClips.SelectMany(EventsOf).Select(e => e.Category) : [];
        var newLabels = trained.Config.Tagger is null ? [] : LabelGrowth.NewLabels(trained.Config.Labels, labelCategories);
        using var grown = newLabels.Count == 0 ? null : LabelGrowth.Widen(trained, newLabels);
        var model = grown ?? trained;
        var labelFits = grown is null ? [] : LabelGrowth.Fit(
            grown,
            newLabels,
            [
                (newSet, i => [.. EventsOf(newClips[i]).Select(e => e.Category)]),
                (memorySet, i => [.. memoryClips[i].Events.Select(e => e.Category)]),
                .. LabelNegatives(baseModel, vocabulary, maxWords, cancellationToken) is { } negatives ? [negatives] : Array.Empty<(ClipSet, Func<int, IReadOnlyCollection<string>>)>(),
            ],
            windowSamples,
            options.Seed,
            cancellationToken: cancellationToken);
        foreach (var fit in labelFits)
        {
            _progress.Message(FormattableString.Invariant(
                $"new label '{fit.Label}': {fit.Positives} windows against {fit.Negatives}; on them it reports {fit.TrainingRecall:P0} of its own and {fit.TrainingFalseAlarms:P0} of the others at 0.5"));
        }

        // A tagging encoder stays as it is: its labels are what the carried calibration, the label thresholds and the
        // new rows just fitted read. Its memory layers (the frame projection and the label frame, which learns the new
        // labels' columns) and the decoder learn. A CNN encoder has no labels and is fine-tuned with the rest.
        model.EncoderFrozen = model.Tagger is not null;
        var epochs = Train(model, pool, weights, windowSamples, maxWords, cancellationToken);
        model.EncoderFrozen = false;

        // The end of the new task: the memory for the next one, and the new model's targets for it.
        var seen = seenBefore + newSet.Count;
        var newMemory = SelectMemory(model, memory, memorySet, newClips, newSet, EventsOf, task, oldTasks, seen, windowSamples, cancellationToken);
        var record = NewRecord(task, newData, newSet.Count, vocabulary.Count, windowSeconds);
        Directory.CreateDirectory(modelDirectory);
        model.SaveCheckpoint(modelDirectory, vocabulary.Tokens);
        WriteNotice(modelDirectory, baseModel, newData);
        TeacherTargets? newTargets = null;
        if (newMemory.Clips.Count > 0)
        {
            var newMemorySet = ClipSet.Load(newMemory.Clips.Select(c => c.ToCaptionedClip()).ToArray(), vocabulary, maxWords, options.Threads, cancellationToken);
            var key = RehearsalMemory.TargetsKey(ModelFingerprint.Of(model, vocabulary), newMemory.Clips.Select(c => c.Id), settings);
            newTargets = ComputeTargets(modelDirectory, windowSeconds, workDirectory, newMemorySet, settings, key, cancellationToken);
        }

        newMemory.Save(modelDirectory, newTargets, settings);
        var training = RecordJson(record);
        training[RecordSection] = new JsonObject
        {
            ["base"] = baseModel.Describe(baseFingerprint),
            ["task"] = task,
            ["new_data"] = newData,
            ["new_clips"] = newSet.Count,
            ["categories"] = new JsonArray([.. newClips.SelectMany(EventsOf).Select(e => e.Category).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(c => JsonValue.Create(c))]),
            ["method"] = options.Method,
            ["memory"] = new JsonObject
            {
                ["budget"] = options.Memory.ToString(),
                ["selection"] = options.MemorySelection,
                ["rehearsed_clips"] = memorySet.Count,
                ["rehearsal_targets"] = targetsSource,
                ["kept_clips"] = newMemory.Clips.Count,
                ["seen_clips"] = seen,
                ["categories"] = newMemory.Clips.Select(c => c.Category).Distinct(StringComparer.Ordinal).Count(),
            },
            ["kd"] = new JsonObject
            {
                ["audio"] = weights.Encoder,
                ["token"] = weights.Token,
                ["seq"] = weights.Sequence,
                ["teacher_beam"] = options.TeacherBeam,
                ["token_top_k"] = options.TokenTopK,
            },
            ["labels_before"] = trained.Config.Labels.Count,
            [TaughtLabelsKey] = new JsonArray([.. TaughtLabels(baseModel.Training).Order(StringComparer.Ordinal).Concat(newLabels).Select(l => JsonValue.Create(l))]),
            ["new_labels"] = new JsonArray([.. labelFits.Select(f => new JsonObject
            {
                ["label"] = f.Label,
                ["positives"] = f.Positives,
                ["negatives"] = f.Negatives,
                ["training_recall"] = Math.Round(f.TrainingRecall, 4),
                ["training_false_alarms"] = Math.Round(f.TrainingFalseAlarms, 4),
            })]),
            ["vocab_size_before"] = oldVocabulary.Count,
            ["vocab_size"] = vocabulary.Count,
            ["new_words"] = new JsonArray([.. newWords.Select(w => JsonValue.Create(w))]),
            ["tasks"] = new JsonArray([.. oldTasks.Append(task).Select(t => JsonValue.Create(t))]),
            ["lineage"] = Lineage(baseModel, baseFingerprint),
            ["epochs"] = epochs,
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        if (File.Exists(ClothoDataset.CaptionsPath(newData, ClothoDataset.Evaluation)))
        {
            var test = ClipSet.Load(ClothoDataset.Load(newData, ClothoDataset.Evaluation, cancellationToken), vocabulary, maxWords, options.Threads, cancellationToken);
            var (scores, _) = CaptionEvaluator.Evaluate(model, test, vocabulary, windowSamples, options.BatchSize * 2, options.MaxDecodeTokens, cancellationToken);
            training["metrics"] = JsonNode.Parse(scores.ToJson());
            training["metrics_split"] = $"{ClothoDataset.Evaluation} of {task} (greedy)";
        }

        File.WriteAllText(Path.Combine(modelDirectory, TrainingRecord.FileName), training.ToJsonString(_json));
        string? bundle = null;
        if (options.ExportDirectory is { } export)
        {
            bundle = Export(model, modelDirectory, export, options.Name ?? $"{baseModel.Name}+{task}", windowSeconds, training, baseModel.Manifest);
        }

        _progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"task '{task}' learnt in {clock.Elapsed.TotalSeconds:0.0} s ({options.Method}); memory of {newMemory.Clips.Count} clips over {newMemory.Clips.Select(c => c.Category).Distinct(StringComparer.Ordinal).Count()} categories kept in {RehearsalMemory.PathIn(modelDirectory)}{(bundle is null ? string.Empty : "; bundle " + bundle)}"));
        return new IncrementalResult(modelDirectory, bundle, training, newMemory, newWords);
    }

    private JsonArray Train(CaptionModel model, PoolClip[] pool, DistillationWeights weights, int windowSamples, int maxWords, CancellationToken cancellationToken)
    {
        var options = _options;
        using var audioKd = weights.Encoder > 0 ? new EncoderOutputMse() : null;
        var parameters = model.parameters().ToArray();
        using var optimizer = new HeldScalarAdamW(parameters, options.LearningRate, options.WeightDecay);
        var stepsPerEpoch = (pool.Length + options.BatchSize - 1) / options.BatchSize;
        var history = new JsonArray();
        var loop = new EpochLoop
        {
            Epochs = options.Epochs,
            StepsPerEpoch = stepsPerEpoch,
            PeakLearningRate = options.LearningRate,
            Seed = options.Seed,
            Name = "The update",
            DivergenceAdvice = "lower --lr or the KD weights",
        };
        var order = Array.Empty<int>();
        loop.Run(
            optimizer,
            new TrainingRecord(),
            _progress,
            startEpoch: (_, epochRandom) =>
            {
                order = Enumerable.Range(0, pool.Length).ToArray();
                epochRandom.Shuffle(order);
                model.train();
            },
            step: (_, step, rng) =>
            {
                var clips = order.AsSpan(step * options.BatchSize, Math.Min(options.BatchSize, pool.Length - (step * options.BatchSize))).ToArray().Select(i => pool[i]).ToArray();
                var result = IncrementalStep.Run(model, audioKd, optimizer, parameters, clips, weights, windowSamples, maxWords, options.GradientClip, rng);
                return new StepOutcome(result.Applied, result.Loss, [result.Supervised, result.Sequence, result.Encoder, result.Token]);
            },
            saveCheckpoint: null,
            endEpoch: summary =>
            {
                var terms = summary.MeanTerms;
                history.Add(new JsonObject
                {
                    ["epoch"] = summary.Epoch,
                    ["loss"] = summary.MeanLoss,
                    ["supervised"] = terms[0],
                    ["seq"] = terms[1],
                    ["audio"] = terms[2],
                    ["token"] = terms[3],
                });
                _progress.Message(FormattableString.Invariant(
                    $"epoch {summary.Epoch}: loss {summary.MeanLoss:0.0000} (sup {terms[0]:0.0000} seq {terms[1]:0.0000} audio {terms[2]:0.0000} tok {terms[3]:0.0000})"));
            },
            cancellationToken);

        return history;
    }

    /// <summary>
    /// <see cref="IncrementalOptions.LabelNegatives"/> development clips of the base's data, evenly spread, with their
    /// scene categories: more of what the new labels are not than the memory alone holds. On the vacuum/kettle demo the
    /// labels fitted against the memory alone (40 clips) fired 133 times on the base's 300 test scenes at 0.25; with
    /// 400 more clips, none at their threshold 0.5. None without the data on this machine.
    /// </summary>
    private (ClipSet Set, Func<int, IReadOnlyCollection<string>> CategoriesOf)? LabelNegatives(BaseModel baseModel, Vocabulary vocabulary, int maxWords, CancellationToken cancellationToken)
    {
        var options = _options;
        var data = options.BaseDataDirectory ?? baseModel.DataDirectory;
        if (options.LabelNegatives == 0 || data is null || !File.Exists(ClothoDataset.CaptionsPath(data, ClothoDataset.Development)))
        {
            _progress.Message($"new labels are fitted against the update's own clips only{(options.LabelNegatives == 0 ? string.Empty : $": the base's data ({data ?? "not recorded"}) is not here; pass --base-data to fit them against more of what they are not")}");
            return null;
        }

        var clips = ClothoDataset.Load(data, ClothoDataset.Development, cancellationToken);
        var events = SceneEvents.TryLoad(data);
        var stride = Math.Max(1, clips.Count / options.LabelNegatives);
        var chosen = clips.Where((_, i) => i % stride == 0).Take(options.LabelNegatives).ToArray();
        _progress.Message($"new labels are fitted against {chosen.Length} clips of {data} besides the update's own");
        var set = ClipSet.Load(chosen, vocabulary, maxWords, options.Threads, cancellationToken);
        return (set, i => [.. (events?.GetValueOrDefault(chosen[i].Id) ?? []).Select(e => e.Category)]);
    }

    /// <summary>The first memory of a base that has none: chosen from the data it was trained on.</summary>
    private RehearsalMemory? InitialMemory(BaseModel baseModel, CaptionModel oldModel, Vocabulary vocabulary, int windowSamples, CancellationToken cancellationToken)
    {
        var options = _options;
        var data = options.BaseDataDirectory ?? baseModel.DataDirectory;
        if (data is null || !File.Exists(ClothoDataset.CaptionsPath(data, ClothoDataset.Development)))
        {
            _progress.Message($"the base has no rehearsal memory and its training data {(data is null ? "is not recorded" : $"({data}) is not here")}; pass --base-data to rehearse it (this update fine-tunes without rehearsal)");
            return null;
        }

        data = Path.GetFullPath(data);
        var clips = ClothoDataset.Load(data, ClothoDataset.Development, cancellationToken);
        var events = SceneEvents.TryLoad(data);
        IReadOnlyList<ClipEvent> EventsOf(CaptionedClip clip) =>
            events?.GetValueOrDefault(clip.Id) is { Count: > 0 } e ? e : [new ClipEvent(baseModel.Task, clip.Captions.FirstOrDefault() ?? baseModel.Task)];
        var candidates = clips.Select(c => new MemorySelection.Candidate(EventsOf(c)[0].Category, -1)).ToArray();
        var budget = options.Memory.ClipsFor(clips.Count);
        IReadOnlyList<float[]>? embeddings = null;
        if (options.MemorySelection == MemorySelection.Herding)
        {
            _progress.Message($"herding the first memory from {clips.Count} clips of {data}: decoding and encoding them with the base model");
            var set = ClipSet.Load(clips, vocabulary, oldModel.Config.MaxTokens - 2, options.Threads, cancellationToken);
            embeddings = Embed(oldModel, set, windowSamples, cancellationToken);
        }

        var chosen = MemorySelection.Select(candidates, budget, options.MemorySelection, embeddings, options.Seed);
        _progress.Message($"first memory: {chosen.Length} of {clips.Count} clips of the base's data {data} ({options.MemorySelection})");
        var memoryClips = chosen.Select(i => new MemoryClip(
            $"{baseModel.Task}/{clips[i].Id}", clips[i].AudioPath, clips[i].Captions, candidates[i].Category, EventsOf(clips[i]), baseModel.Task)).ToArray();
        return new RehearsalMemory(memoryClips, options.MemorySelection, options.Memory, clips.Count, [baseModel.Task]);
    }

    private RehearsalMemory SelectMemory(
        CaptionModel model, RehearsalMemory? oldMemory, ClipSet oldSet, IReadOnlyList<CaptionedClip> newClips, ClipSet newSet,
        Func<CaptionedClip, IReadOnlyList<ClipEvent>> eventsOf, string task, IReadOnlyList<string> oldTasks, int seen, int windowSamples, CancellationToken cancellationToken)
    {
        var options = _options;
        var tasks = oldTasks.Append(task).ToArray();
        if (!options.Rehearses)
        {
            return new RehearsalMemory([], options.MemorySelection, options.Memory, seen, tasks);
        }

        var oldClips = oldMemory?.Clips ?? [];
        var candidates = oldClips.Select((c, i) => new MemorySelection.Candidate(c.Category, i))
            .Concat(newClips.Select(c => new MemorySelection.Candidate(eventsOf(c)[0].Category, -1)))
            .ToArray();
        var embeddings = options.MemorySelection == MemorySelection.Herding
            ? Embed(model, oldSet, windowSamples, cancellationToken).Concat(Embed(model, newSet, windowSamples, cancellationToken)).ToArray()
            : null;
        var chosen = MemorySelection.Select(candidates, options.Memory.ClipsFor(seen), options.MemorySelection, embeddings, options.Seed);
        var clips = chosen.Select(i => i < oldClips.Count
            ? oldClips[i]
            : new MemoryClip($"{task}/{newClips[i - oldClips.Count].Id}", newClips[i - oldClips.Count].AudioPath, newClips[i - oldClips.Count].Captions, candidates[i].Category, eventsOf(newClips[i - oldClips.Count]), task))
            .ToArray();
        return new RehearsalMemory(clips, options.MemorySelection, options.Memory, seen, tasks);
    }

    /// <summary>Pooled encoder embeddings (evaluation mode) of every clip's first window.</summary>
    internal static float[][] Embed(CaptionModel model, ClipSet clips, int windowSamples, CancellationToken cancellationToken) =>
        WindowFeatures.Compute(model, clips.Count, windowSamples, (i, window) => clips.CopyWindow(i, window, random: null), audio => model.Encode(audio).Embedding, cancellationToken);

    private TeacherTargets ComputeTargets(string teacherDirectory, double windowSeconds, string workDirectory, ClipSet clips, TeacherTargetSettings settings, string key, CancellationToken cancellationToken)
    {
        using var teacher = CaptionTeacher.Open(teacherDirectory, windowSeconds, workDirectory, _options.Threads, _progress.Message);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var targets = TeacherTargetCache.Compute(teacher, clips, settings, key, _progress.Message, cancellationToken);
        _progress.Message(FormattableString.Invariant($"targets of {teacherDirectory} for {clips.Count} memory clips (beam {settings.Beam}, top-{settings.TopK}) in {clock.Elapsed.TotalSeconds:0.0} s"));
        return targets;
    }

    private TrainingRecord NewRecord(string task, string newData, int newClips, int vocabSize, double windowSeconds)
    {
        var options = _options;
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return new TrainingRecord
        {
            Method = "incremental " + options.Method,
            Data = newData,
            Command = options.CommandLine,
            Size = "incremental",
            Epochs = options.Epochs,
            EpochsCompleted = options.Epochs,
            BatchSize = options.BatchSize,
            LearningRate = options.LearningRate,
            WeightDecay = options.WeightDecay,
            GradientClip = options.GradientClip,
            Seed = options.Seed,
            Threads = options.Threads,
            MinWordCount = options.MinWordCount,
            WindowSeconds = windowSeconds,
            MaxDecodeTokens = options.MaxDecodeTokens,
            VocabSize = vocabSize,
            TrainClips = newClips,
            Started = now,
        };
    }

    private static JsonObject RecordJson(TrainingRecord record)
    {
        var staging = Path.Combine(Path.GetTempPath(), "captiond-incremental-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            record.Save(staging);
            return JsonNode.Parse(File.ReadAllText(Path.Combine(staging, TrainingRecord.FileName)))!.AsObject();
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The base's own lineage (when it came from an update) followed by the base itself.</summary>
    private static JsonArray Lineage(BaseModel baseModel, string fingerprint)
    {
        var lineage = baseModel.Training[RecordSection]?["lineage"] is JsonArray earlier ? (JsonArray)earlier.DeepClone() : [];
        lineage.Add(new JsonObject
        {
            ["name"] = baseModel.Name,
            ["fingerprint"] = fingerprint,
            ["task"] = baseModel.Task,
            ["method"] = baseModel.Training["method"]?.DeepClone(),
        });
        return lineage;
    }

    /// <summary>The attributions of the base and of the new data, so the bundle names every recording it learnt from.</summary>
    private static void WriteNotice(string modelDirectory, BaseModel baseModel, string newData)
    {
        var parts = new[] { Path.Combine(baseModel.Directory, BundleExporter.NoticeFileName), Path.Combine(baseModel.CheckpointDirectory, BundleExporter.NoticeFileName), Path.Combine(newData, BundleExporter.NoticeFileName) }
            .Distinct(StringComparer.Ordinal)
            .Where(File.Exists)
            .Select(File.ReadAllText)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        if (parts.Length > 0)
        {
            File.WriteAllText(Path.Combine(modelDirectory, BundleExporter.NoticeFileName), string.Join("\n\n", parts));
        }
    }

    /// <summary>
    /// Exports next to the target, adds the memory, carries the base bundle's calibration over, then moves the whole
    /// bundle into place (a watching daemon never sees half of it).
    /// </summary>
    private string Export(CaptionModel model, string modelDirectory, string exportDirectory, string name, double windowSeconds, JsonObject training, BundleManifest? baseManifest)
    {
        var target = Path.GetFullPath(exportDirectory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !_options.Force)
        {
            throw new IOException($"{target} already exists and is not empty (pass --force to replace it).");
        }

        var staging = $"{Path.TrimEndingDirectorySeparator(target)}.incremental-{Guid.NewGuid():N}";
        try
        {
            var notice = Path.Combine(modelDirectory, BundleExporter.NoticeFileName);
            BundleExporter.Export(
                model,
                Path.Combine(modelDirectory, Vocabulary.FileName),
                File.Exists(notice) ? notice : null,
                staging,
                new BundleExportOptions
                {
                    Name = name,
                    WindowSeconds = windowSeconds,
                    MaxCaptionTokens = Math.Min(_options.MaxDecodeTokens, model.Config.MaxTokens - 1),
                    Training = (JsonObject)training.DeepClone(),
                    LabelFusion = baseManifest?.LabelFusion, // the update keeps the base's tagger, so its fusion weight too
                });
            CopyDirectory(RehearsalMemory.PathIn(modelDirectory), RehearsalMemory.PathIn(staging));
            CarryCalibration(baseManifest, staging);
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            Directory.Move(staging, target);
            return target;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>
    /// Gives the updated bundle its base's confidence block and label thresholds. Without them the daemon would fall back
    /// to a minimum confidence of 0 and publish every quiet window; the update keeps the tagger's old labels and changes its
    /// weights little, so the base's fit is the best estimate until <c>captiond-train calibrate</c> is run on the update
    /// (the manifest's <c>training.calibration</c> says so).
    /// </summary>
    private static void CarryCalibration(BundleManifest? baseManifest, string bundleDirectory)
    {
        if (baseManifest?.Confidence is not { } confidence)
        {
            return;
        }

        var path = Path.Combine(bundleDirectory, BundleManifest.FileName);

        // Labels the update added keep the exporter's 0.5 (Incremental/LabelGrowth.cs, DefaultPenalty, says why).
        var thresholds = baseManifest.Labels.ToDictionary(l => l.Name, l => l.Threshold, StringComparer.Ordinal);
        var carried = new JsonObject
        {
            ["carried_from"] = baseManifest.Name,
            ["note"] = "fitted on the base model's validation recordings; run 'captiond-train calibrate' on this bundle to fit it anew",
        };
        Calibration.ConfidenceCalibrator.WithCalibration(BundleManifest.Read(path), confidence, thresholds, carried).Write(path);
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(destination, Path.GetFileName(directory)));
        }
    }

    private static readonly JsonSerializerOptions _json = new() { WriteIndented = true };

    /// <summary>The model an update starts from, wherever it lives.</summary>
    private sealed record BaseModel(string Directory, string CheckpointDirectory, string Kind, string Name, double WindowSeconds, JsonObject Training, string? ManifestSha256, BundleManifest? Manifest)
    {
        /// <summary>The task the base learnt last: the one its update record names, or "base".</summary>
        public string Task => Training[RecordSection]?["task"]?.GetValue<string>() ?? "base";

        /// <summary>The data set the base was trained on (a supervised or distilled base's record).</summary>
        public string? DataDirectory =>
            (Training[RecordSection] is null ? Training["data"]?.GetValue<string>() : Training[RecordSection]?["new_data"]?.GetValue<string>()) is { Length: > 0 } recorded
                ? RecordedPaths.Current.Resolve(recorded)
                : null;

        public int TrainClips => Training["train_clips"]?.GetValue<int>() ?? 0;

        public static BaseModel Open(string directory)
        {
            var source = Path.GetFullPath(directory);
            var manifestPath = Path.Combine(source, BundleManifest.FileName);
            if (File.Exists(manifestPath))
            {
                var manifest = BundleManifest.Read(manifestPath);
                var checkpoint = Path.Combine(source, BundleExporter.CheckpointDirectoryName);
                if (!File.Exists(Path.Combine(checkpoint, CaptionModel.ConfigFileName)))
                {
                    throw new TrainingException($"--base {source} is a bundle without {BundleExporter.CheckpointDirectoryName}/: an update needs the model's TorchSharp weights.");
                }

                using var stream = File.OpenRead(manifestPath);
                return new BaseModel(source, checkpoint, "bundle", manifest.Name, manifest.WindowSeconds, manifest.Training, Convert.ToHexStringLower(SHA256.HashData(stream)), manifest);
            }

            var checkpointDirectory = File.Exists(Path.Combine(source, CaptionModel.ConfigFileName)) ? source : Path.Combine(source, CaptionTrainer.BestDirectoryName);
            if (!File.Exists(Path.Combine(checkpointDirectory, CaptionModel.ConfigFileName)))
            {
                throw new TrainingException($"--base {source} is neither a caption bundle ({BundleManifest.FileName}), a checkpoint ({CaptionModel.ConfigFileName}) nor a training run with {CaptionTrainer.BestDirectoryName}/.");
            }

            var recordPath = Path.Combine(checkpointDirectory, TrainingRecord.FileName);
            var training = File.Exists(recordPath) ? JsonNode.Parse(File.ReadAllText(recordPath))?.AsObject() ?? [] : [];
            var window = training["window_seconds"]?.GetValue<double>() ?? 10.0;
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(source));
            return new BaseModel(checkpointDirectory, checkpointDirectory, "checkpoint", name, window, training, null, null);
        }

        public JsonObject Describe(string fingerprint) => new()
        {
            ["name"] = Name,
            ["kind"] = Kind,
            ["path"] = Directory,
            ["fingerprint"] = fingerprint,
            ["manifest_sha256"] = ManifestSha256,
            ["method"] = Training["method"]?.DeepClone(),
            ["task"] = Task,
        };
    }
}
