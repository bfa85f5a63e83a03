using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CaptionDaemon.Inference;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Incremental;

/// <summary>Settings of <c>captiond-train reproduce incremental</c>.</summary>
internal sealed record IncrementalReproductionOptions
{
    public required string OutputDirectory { get; init; }

    public string SoundsDirectory { get; init; } = Data.Sounds.SoundFetcher.DefaultDirectory;

    /// <summary>How many tasks the categories are split into, one experiment each.</summary>
    public IReadOnlyList<int> TaskCounts { get; init; } = [3, 6];

    public IReadOnlyList<string> Methods { get; init; } = IncrementalReproduction.AllMethods;

    /// <summary>
    /// Generated clips over all tasks of one split (development, validation and test together): K tasks get
    /// <c>TotalClips / K</c> each, so every task count sees the same amount of data, as a data set split into tasks does.
    /// </summary>
    public int TotalClips { get; init; } = 750;

    /// <summary>Generated clips per task; null: <see cref="TotalClips"/> shared among the tasks.</summary>
    public int? ClipsPerTask { get; init; }

    public int ClipsFor(int taskCount) => ClipsPerTask ?? TotalClips / taskCount;

    public double SceneSeconds { get; init; } = 10;

    /// <summary>Epochs of the first task's model (trained from scratch) when <see cref="BaseSteps"/> is null.</summary>
    public int BaseEpochs { get; init; } = 10;

    /// <summary>
    /// Optimisation steps of the first task's model; its epochs follow from the task's development clips. A task of 3 has
    /// 13 steps per epoch and one of 6 has 7, so a fixed number of epochs would give the smaller tasks half the training,
    /// and 10 epochs (130 steps) left the model captioning every clip alike. Null: <see cref="BaseEpochs"/>.
    /// </summary>
    public int? BaseSteps { get; init; } = 300;

    /// <summary>Epochs of the first task's model on <paramref name="developmentClips"/> clips: those nearest to <see cref="BaseSteps"/> steps, at least one.</summary>
    public int BaseEpochsFor(int developmentClips) => BaseSteps is { } steps ? EpochsNear(steps, developmentClips) : BaseEpochs;

    /// <summary>Epochs of every later task when <see cref="UpdateSteps"/> is null.</summary>
    public int Epochs { get; init; } = 4;

    /// <summary>
    /// Optimisation steps of every later task, its epochs following from the task's development clips as for
    /// <see cref="BaseSteps"/>. In the first full run, 4 epochs at half the learning rate (52 and 28 steps) taught no
    /// method its new task: every method's event accuracy on task 2 was 0. With 70 steps, rehearsal alone scored 0.44
    /// (3 tasks) and 0.71 (6 tasks) CIDEr-D on each new task right after its update (training/results/incremental).
    /// Null: <see cref="Epochs"/>.
    /// </summary>
    public int? UpdateSteps { get; init; } = 70;

    /// <summary>Epochs of a later task with <paramref name="developmentClips"/> new clips.</summary>
    public int UpdateEpochsFor(int developmentClips) => UpdateSteps is { } steps ? EpochsNear(steps, developmentClips) : Epochs;

    /// <summary>The whole epochs over <paramref name="clips"/> nearest to <paramref name="steps"/> steps, at least one.</summary>
    private int EpochsNear(int steps, int clips) => Math.Max(1, (int)Math.Round(steps / (double)((clips + BatchSize - 1) / BatchSize)));

    public string Memory { get; init; } = "5%";

    public string MemorySelection { get; init; } = Incremental.MemorySelection.Herding;

    /// <summary>Weights of the KD terms in the <c>--kd-weights</c> form (<c>audio=10,seq=1</c>); null: 1 each.</summary>
    public string? KdWeights { get; init; }

    public IReadOnlyList<int> Seeds { get; init; } = [1];

    public int BatchSize { get; init; } = 16;

    /// <summary>Peak learning rate of every task's training. (Until 2026-11-25 the later tasks had half of it, which with their few steps left the new task unlearnt.)</summary>
    public double LearningRate { get; init; } = 1e-3;

    public int Threads { get; init; } = Environment.ProcessorCount;

    public int MinWordCount { get; init; } = 2;

    public bool Quick { get; init; }

    /// <summary>Model sizes instead of the student preset (<c>--quick</c>, tests).</summary>
    internal Func<int, CaptionModelConfig>? ModelConfig { get; init; }

    /// <summary>The quick preset: 4 s scenes, 16 clips per task, a tiny model, one epoch per task, one seed.</summary>
    public static IncrementalReproductionOptions QuickPreset(string outputDirectory) => new()
    {
        OutputDirectory = outputDirectory,
        Quick = true,
        ClipsPerTask = 16,
        SceneSeconds = 4,
        BaseEpochs = 2,
        BaseSteps = null,
        Epochs = 1,
        UpdateSteps = null,
        Memory = "25%",
        BatchSize = 8,
        MinWordCount = 1,
        ModelConfig = vocabulary => CaptionModelConfig.Student(vocabulary) with { EncoderChannels = [8, 16, 32, 64], DModel = 64, DecoderLayers = 1, FeedForward = 128 },
    };
}

/// <summary>One row of <c>results.json</c> (the issue's interface: keep the names).</summary>
internal sealed record IncrementalResultRow(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("tasks")] int Tasks,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("avg_cider_d")] double AverageCiderD,
    [property: JsonPropertyName("last_cider_d")] double LastCiderD,
    [property: JsonPropertyName("avg_event_accuracy")] double AverageEventAccuracy,
    [property: JsonPropertyName("forgetting")] double Forgetting);

/// <summary>
/// <c>captiond-train reproduce incremental</c>: the class-incremental comparison of Cappellazzo et al. (2023) on
/// generated scenes. The recording categories are split into 3 and into 6 tasks (a seeded shuffle dealt round-robin);
/// each task gets its own scene set made only of its categories. The first task's model is trained from scratch (once
/// per task count and seed, shared by all methods); every method then learns the later tasks one by one with
/// <see cref="IncrementalTrainer"/>. After each task the exported bundle captions the test clips of all tasks so far
/// through the inference library (beam 3): CIDEr-D per task and over all of them, and event-mention accuracy (does the
/// caption name each event of the clip, <see cref="EventMention"/>). Per row: the average over tasks of the quality on
/// the tasks seen so far, that quality after the last task, and forgetting, the mean over earlier tasks of the drop of
/// their CIDEr-D from its best before the last task to after it. Finished runs are reused when run again.
/// </summary>
internal sealed class IncrementalReproduction
{
    public const string ResultsFileName = "results.json";
    public const string TableFileName = "results.md";
    public const string DetailsFileName = "details.json";

    public static readonly string[] AllMethods = ["finetune", "rehearsal", "rehearsal+audio", "rehearsal+token", "rehearsal+seq", "rehearsal+audio+seq", "rehearsal+all"];

    private static readonly JsonSerializerOptions _json = new() { WriteIndented = true };

    private readonly IncrementalReproductionOptions _options;
    private readonly TrainingProgress _progress;
    private readonly Dictionary<string, (ClipSet Clips, IReadOnlyList<IReadOnlyList<ClipEvent>> Events)> _testSets = new(StringComparer.Ordinal);
    private readonly List<IncrementalResultRow> _rows = [];
    private readonly JsonArray _details = [];

    public IncrementalReproduction(IncrementalReproductionOptions options, TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        if (options.TaskCounts.Count == 0 || options.TaskCounts.Any(k => k < 2) || options.Seeds.Count == 0 || options.Methods.Count == 0
            || options.Methods.Any(m => !AllMethods.Contains(m)) || options.BaseEpochs < 1 || options.BaseSteps < 1 || options.Epochs < 1 || options.UpdateSteps < 1
            || options.TaskCounts.Any(k => options.ClipsFor(k) < 6))
        {
            throw new ArgumentException($"reproduce incremental needs task counts of at least 2, a seed, methods among {string.Join(", ", AllMethods)}, epochs of at least 1 and at least 6 clips per task.");
        }

        _ = MemoryBudget.Parse(options.Memory);
        if (options.KdWeights is { } weights)
        {
            // Checked now rather than after the first task's model has trained.
            _ = IncrementalOptions.ParseKdWeights(weights);
        }

        _options = options;
        _progress = progress;
    }

    public IReadOnlyList<IncrementalResultRow> Run(CancellationToken cancellationToken = default)
    {
        var options = _options;
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(output);
        var library = SoundLibrary.Load(options.SoundsDirectory, AudioDecoder.DefaultSampleRate, cancellationToken);
        var categories = library.Sounds.Select(s => s.Category).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        new Random(1).Shuffle(categories);
        foreach (var taskCount in options.TaskCounts)
        {
            var split = Enumerable.Range(0, taskCount).Select(t => categories.Where((_, i) => i % taskCount == t).Order(StringComparer.Ordinal).ToArray()).ToArray();
            var data = split.Select((c, t) => Generate(output, taskCount, t, c, cancellationToken)).ToArray();
            var developmentClips = data.Select(d => ClothoDataset.Load(d, ClothoDataset.Development, cancellationToken).Count).ToArray();
            foreach (var seed in options.Seeds)
            {
                var runs = Path.Combine(output, "runs", $"{taskCount}-tasks", $"seed-{seed}");
                var first = TrainFirstTask(Path.Combine(runs, "task-1"), data[0], options.BaseEpochsFor(developmentClips[0]), seed, cancellationToken);
                var firstScores = Evaluate(Path.Combine(runs, "task-1", "bundle"), data[..1], cancellationToken);
                foreach (var method in options.Methods)
                {
                    var scores = new List<TaskScores> { firstScores };
                    var previous = first;
                    for (var t = 1; t < taskCount; t++)
                    {
                        var directory = Path.Combine(runs, method, $"task-{t + 1}");
                        previous = LearnTask(directory, previous, data[t], options.UpdateEpochsFor(developmentClips[t]), $"task-{t + 1}", method, seed, cancellationToken);
                        scores.Add(Evaluate(Path.Combine(directory, "bundle"), data[..(t + 1)], cancellationToken));
                    }

                    AddRow(output, method, taskCount, seed, scores, split);
                }
            }
        }

        WritePlots(output);
        return _rows;
    }

    /// <summary>The row of a method from its scores after each task.</summary>
    internal static IncrementalResultRow Summarise(string method, int tasks, int seed, IReadOnlyList<TaskScores> scores)
    {
        var last = scores[^1];
        var forgetting = Enumerable.Range(0, tasks - 1)
            .Select(j => Enumerable.Range(j, tasks - 1 - j).Max(t => scores[t].CiderD[j]) - last.CiderD[j])
            .DefaultIfEmpty(0)
            .Average();
        return new IncrementalResultRow(
            method, tasks, seed, Math.Round(scores.Average(s => s.AllCiderD), 6), Math.Round(last.AllCiderD, 6), Math.Round(scores.Average(s => s.AllEventAccuracy), 6), Math.Round(forgetting, 6));
    }

    internal static string ResultsJson(IEnumerable<IncrementalResultRow> rows) => JsonSerializer.Serialize(new { rows }, _json);

    /// <summary>The rows and, with several seeds, their means and standard deviations.</summary>
    internal static string Table(IReadOnlyList<IncrementalResultRow> rows)
    {
        var table = new MarkdownTable([
            new("method"), new("tasks", ColumnAlignment.Right), new("seed", ColumnAlignment.Right), new("avg CIDEr-D", ColumnAlignment.Right, "0.0000"),
            new("last CIDEr-D", ColumnAlignment.Right, "0.0000"), new("avg event accuracy", ColumnAlignment.Right, "0.000"), new("forgetting (CIDEr-D)", ColumnAlignment.Right, "0.0000")]);
        foreach (var r in rows)
        {
            table.AddRow(r.Method, r.Tasks, r.Seed, r.AverageCiderD, r.LastCiderD, r.AverageEventAccuracy, r.Forgetting);
        }

        var text = table.ToString();
        var groups = rows.GroupBy(r => (r.Method, r.Tasks)).Where(g => g.Count() > 1).ToArray();
        if (groups.Length > 0)
        {
            var means = new MarkdownTable([new("method"), new("tasks", ColumnAlignment.Right), new("seeds", ColumnAlignment.Right), new("avg CIDEr-D"), new("last CIDEr-D"), new("avg event accuracy"), new("forgetting")]);
            foreach (var g in groups)
            {
                means.AddRow(g.Key.Method, g.Key.Tasks, g.Count(), SeedSpread.MeanSd(g.Select(r => r.AverageCiderD)), SeedSpread.MeanSd(g.Select(r => r.LastCiderD)), SeedSpread.MeanSd(g.Select(r => r.AverageEventAccuracy)), SeedSpread.MeanSd(g.Select(r => r.Forgetting)));
            }

            text += "\nMeans over seeds (± standard deviation):\n\n" + means;
        }

        return text;
    }

    private string Generate(string output, int taskCount, int task, IReadOnlyList<string> categories, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(output, "data", $"{taskCount}-tasks", $"task-{task + 1}");
        if (File.Exists(Path.Combine(directory, SceneSetBuilder.ScenesFileName)) && File.Exists(ClothoDataset.CaptionsPath(directory, ClothoDataset.Evaluation)))
        {
            return directory;
        }

        _progress.Message($"generating {_options.ClipsFor(taskCount)} scenes of task {task + 1}/{taskCount} ({categories.Count} categories: {string.Join(", ", categories.Take(6))}{(categories.Count > 6 ? ", ..." : string.Empty)})");
        new SceneSetBuilder(
            new SceneSetOptions
            {
                SoundsDirectory = _options.SoundsDirectory,
                OutputDirectory = directory,
                Clips = _options.ClipsFor(taskCount),
                Seconds = _options.SceneSeconds,
                Seed = 100 + task,
                Categories = categories.ToHashSet(StringComparer.Ordinal),
                // Test scenes are new mixes of the task's own recordings: the comparison is about keeping learnt events,
                // and with about two recordings per category, held-out ones were unrecognisable to every model.
                SplitByRecording = false,
                UsePackageSplits = false,
                // The memory selection needs an event in every clip (its category is the first event's).
                Kinds = SceneKindShares.EventsOnly,
            },
            TextWriter.Null).Build(cancellationToken);
        return directory;
    }

    private string TrainFirstTask(string directory, string data, int epochs, int seed, CancellationToken cancellationToken)
    {
        var best = Path.Combine(directory, CaptionTrainer.BestDirectoryName);
        var bundle = Path.Combine(directory, "bundle");
        if (!(File.Exists(Path.Combine(best, TrainingRecord.FileName)) && TrainingRecord.Load(best).Metrics is not null))
        {
            // An interrupted base training resumes from its last checkpoint (saved inside epochs too); anything else there is stale.
            var resume = File.Exists(Path.Combine(directory, CaptionTrainer.LastDirectoryName, TrainingRecord.FileName));
            if (!resume && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            _progress.Message($"{(resume ? "resuming" : "training")} the first task's model in {directory}");
            new CaptionTrainer(
                new TrainOptions
                {
                    DataDirectory = data,
                    OutputDirectory = directory,
                    Epochs = epochs,
                    BatchSize = _options.BatchSize,
                    LearningRate = _options.LearningRate,
                    Seed = seed,
                    Threads = _options.Threads,
                    MinWordCount = _options.MinWordCount,
                    WindowSeconds = _options.SceneSeconds,
                    ModelConfig = _options.ModelConfig,
                    Resume = resume,
                    CommandLine = "captiond-train reproduce incremental (task-1)",
                },
                _progress).Run(cancellationToken);
        }

        if (!File.Exists(Path.Combine(bundle, Inference.Bundles.BundleManifest.FileName)))
        {
            BundleExporter.ExportCheckpoint(best, bundle, "task-1", _options.SceneSeconds, null, overwrite: true, "captiond-train reproduce incremental");
        }

        return directory;
    }

    private string LearnTask(string directory, string baseDirectory, string data, int epochs, string task, string method, int seed, CancellationToken cancellationToken)
    {
        var model = Path.Combine(directory, IncrementalTrainer.ModelDirectoryName);
        var bundle = Path.Combine(directory, "bundle");
        if (File.Exists(Path.Combine(model, TrainingRecord.FileName)) && File.Exists(Path.Combine(bundle, Inference.Bundles.BundleManifest.FileName)))
        {
            _progress.Message($"reusing {directory}");
            return model;
        }

        _progress.Message($"{method}: learning {task} into {directory}");
        var kd = method switch
        {
            "finetune" or "rehearsal" => "none",
            "rehearsal+all" => "audio,token,seq",
            _ => method["rehearsal+".Length..].Replace('+', ','),
        };
        var options = new IncrementalOptions
        {
            BaseDirectory = baseDirectory,
            NewDataDirectory = data,
            OutputDirectory = directory,
            ExportDirectory = bundle,
            Name = $"{method}-{task}",
            Task = task,
            Memory = method == "finetune" ? MemoryBudget.None : MemoryBudget.Parse(_options.Memory),
            MemorySelection = _options.MemorySelection,
            Kd = IncrementalOptions.ParseKd(kd),
            Epochs = epochs,
            BatchSize = _options.BatchSize,
            LearningRate = _options.LearningRate,
            Seed = seed,
            Threads = _options.Threads,
            MinWordCount = _options.MinWordCount,
            WindowSeconds = _options.SceneSeconds,
            Force = true,
            CommandLine = $"captiond-train reproduce incremental ({method}, {task})",
        };
        new IncrementalTrainer(_options.KdWeights is { } weights ? options.WithKdWeights(weights) : options, _progress).Run(cancellationToken);
        return model;
    }

    /// <summary>Captions the test clips of <paramref name="tasks"/> with the bundle (beam 3) and scores each task and all of them.</summary>
    private TaskScores Evaluate(string bundleDirectory, IReadOnlyList<string> tasks, CancellationToken cancellationToken)
    {
        using var bundle = CaptionBundle.Load(bundleDirectory, new CaptionerOptions { IntraOpThreads = _options.Threads });
        using var captioner = bundle.CreateCaptioner();
        var vocabulary = Vocabulary.FromTokens(bundle.Vocabulary);
        var window = bundle.WindowSamples;
        var perTaskCider = new double[tasks.Count];
        var perTaskAccuracy = new double[tasks.Count];
        var allCaptions = new List<string>();
        var allReferences = new List<IReadOnlyList<string>>();
        int named = 0, events = 0;
        for (var t = 0; t < tasks.Count; t++)
        {
            var (clips, clipEvents) = TestSet(tasks[t], vocabulary, cancellationToken);
            var captions = new string[clips.Count];
            const int batch = 16;
            var buffer = new float[batch * window];
            for (var first = 0; first < clips.Count; first += batch)
            {
                var count = Math.Min(batch, clips.Count - first);
                for (var i = 0; i < count; i++)
                {
                    clips.CopyWindow(first + i, buffer.AsSpan(i * window, window), random: null);
                }

                var results = captioner.Caption(buffer.AsSpan(0, count * window), count, new DecodeOptions { Beam = 3 }, cancellationToken);
                for (var i = 0; i < count; i++)
                {
                    captions[first + i] = results[i].Text;
                }
            }

            var references = clips.Clips.Select(c => c.Captions).ToArray();
            perTaskCider[t] = CaptionMetrics.Compute(captions, references).CiderD;
            var taskNamed = 0;
            var taskEvents = 0;
            for (var i = 0; i < clips.Count; i++)
            {
                foreach (var clipEvent in clipEvents[i])
                {
                    taskEvents++;
                    taskNamed += EventMention.Names(captions[i], clipEvent) ? 1 : 0;
                }
            }

            perTaskAccuracy[t] = taskEvents == 0 ? 0 : (double)taskNamed / taskEvents;
            named += taskNamed;
            events += taskEvents;
            allCaptions.AddRange(captions);
            allReferences.AddRange(references);
        }

        return new TaskScores(perTaskCider, perTaskAccuracy, CaptionMetrics.Compute(allCaptions, allReferences).CiderD, events == 0 ? 0 : (double)named / events);
    }

    private (ClipSet Clips, IReadOnlyList<IReadOnlyList<ClipEvent>> Events) TestSet(string data, Vocabulary vocabulary, CancellationToken cancellationToken)
    {
        if (!_testSets.TryGetValue(data, out var set))
        {
            var clips = ClothoDataset.Load(data, ClothoDataset.Evaluation, cancellationToken);
            var events = SceneEvents.TryLoad(data) ?? throw new DatasetFormatException($"{data} has no {SceneSetBuilder.ScenesFileName} to check event mentions against.");
            // Audio only matters here; the vocabulary encodes captions that evaluation never uses.
            set = (ClipSet.Load(clips, vocabulary, 30, _options.Threads, cancellationToken), clips.Select(c => events.GetValueOrDefault(c.Id) ?? []).ToArray());
            _testSets[data] = set;
        }

        return set;
    }

    private void AddRow(string output, string method, int tasks, int seed, IReadOnlyList<TaskScores> scores, IReadOnlyList<string[]> split)
    {
        var row = Summarise(method, tasks, seed, scores);
        _rows.Add(row);
        _details.Add(new JsonObject
        {
            ["method"] = method,
            ["tasks"] = tasks,
            ["seed"] = seed,
            ["categories"] = new JsonArray([.. split.Select(c => new JsonArray([.. c.Select(x => JsonValue.Create(x))]))]),
            ["after_task"] = new JsonArray([.. scores.Select((s, t) => new JsonObject
            {
                ["task"] = t + 1,
                ["cider_d_all"] = Math.Round(s.AllCiderD, 6),
                ["event_accuracy_all"] = Math.Round(s.AllEventAccuracy, 6),
                ["cider_d_per_task"] = new JsonArray([.. s.CiderD.Select(v => JsonValue.Create(Math.Round(v, 6)))]),
                ["event_accuracy_per_task"] = new JsonArray([.. s.EventAccuracy.Select(v => JsonValue.Create(Math.Round(v, 6)))]),
            })]),
        });
        File.WriteAllText(Path.Combine(output, ResultsFileName), ResultsJson(_rows));
        File.WriteAllText(Path.Combine(output, TableFileName), Table(_rows));
        File.WriteAllText(Path.Combine(output, DetailsFileName), new JsonObject
        {
            ["quick"] = _options.Quick,
            ["clips_per_task"] = new JsonObject([.. _options.TaskCounts.Select(k => KeyValuePair.Create(k.ToString(CultureInfo.InvariantCulture), (JsonNode?)_options.ClipsFor(k)))]),
            ["base_epochs"] = _options.BaseSteps is null ? _options.BaseEpochs : null,
            ["base_steps"] = _options.BaseSteps,
            ["epochs"] = _options.UpdateSteps is null ? _options.Epochs : null,
            ["update_steps"] = _options.UpdateSteps,
            ["memory"] = _options.Memory,
            ["memory_selection"] = _options.MemorySelection,
            ["kd_weights"] = _options.KdWeights ?? "audio=1,token=1,seq=1",
            ["metrics"] = "test clips of every task seen so far, beam 3 through the inference library; avg = mean over tasks of the quality on the tasks seen so far, last = after the last task; forgetting = mean over earlier tasks of (best CIDEr-D before the last task - CIDEr-D after it)",
            ["runs"] = (JsonArray)_details.DeepClone(),
        }.ToJsonString(_json));
        _progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"{method}, {tasks} tasks, seed {seed}: avg CIDEr-D {row.AverageCiderD:0.0000}, last {row.LastCiderD:0.0000}, avg event accuracy {row.AverageEventAccuracy:0.000}, forgetting {row.Forgetting:0.0000}"));
    }

    private void WritePlots(string output)
    {
        foreach (var tasks in _options.TaskCounts)
        {
            var runs = _details.Select(d => d!.AsObject()).Where(d => d["tasks"]!.GetValue<int>() == tasks && d["seed"]!.GetValue<int>() == _options.Seeds[0]).ToArray();
            foreach (var (key, label, file) in new[] { ("cider_d_all", "CIDEr-D on the tasks so far", "cider"), ("event_accuracy_all", "event-mention accuracy on the tasks so far", "event-accuracy") })
            {
                new LineChart
                {
                    Title = string.Create(CultureInfo.InvariantCulture, $"{tasks} tasks (seed {_options.Seeds[0]})"),
                    XLabel = "after task",
                    YLabel = label,
                    ShowMarkers = true,
                    Series = [.. runs.Select(r => new ChartSeries(
                        r["method"]!.GetValue<string>(),
                        [.. r["after_task"]!.AsArray().Select(a => new DataPoint(a!["task"]!.GetValue<int>(), a[key]!.GetValue<double>()))]))],
                }.WritePng(Path.Combine(output, $"{file}-{tasks}-tasks.png"));
            }
        }

        var methods = _options.Methods;
        new BarChart
        {
            Title = "Forgetting (mean over seeds)",
            YLabel = "CIDEr-D drop on earlier tasks",
            SeriesNames = [.. methods],
            Groups = [.. _options.TaskCounts.Select(k => new BarGroup(
                string.Create(CultureInfo.InvariantCulture, $"{k} tasks"),
                [.. methods.Select(m => _rows.Where(r => r.Tasks == k && r.Method == m).Select(r => r.Forgetting).DefaultIfEmpty(double.NaN).Average())]))],
        }.WritePng(Path.Combine(output, "forgetting.png"));
    }
}

/// <summary>Quality after one task: CIDEr-D and event-mention accuracy per task seen so far, and over all their test clips.</summary>
internal sealed record TaskScores(IReadOnlyList<double> CiderD, IReadOnlyList<double> EventAccuracy, double AllCiderD, double AllEventAccuracy);
