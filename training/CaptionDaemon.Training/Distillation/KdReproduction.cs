using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Distillation;

/// <summary>Settings of <c>captiond-train reproduce kd</c>.</summary>
internal sealed record KdReproductionOptions
{
    public required string OutputDirectory { get; init; }

    /// <summary>A Clotho-layout scene set; null: generate one into <c>OUT/data</c> from <see cref="SoundsDirectory"/>.</summary>
    public string? DataDirectory { get; init; }

    public string SoundsDirectory { get; init; } = Data.Sounds.SoundFetcher.DefaultDirectory;

    /// <summary>Clips of the generated scene set (all splits, 80/10/10).</summary>
    public int Clips { get; init; } = 2000;

    /// <summary>
    /// The first clips of each split that the reproduction uses (a symlinked subset in <c>OUT/data-subset</c>); the full
    /// preset's sizes fit its 90-minute budget on 2 cores (README, "Budget of the full run").
    /// </summary>
    public SplitSizes Subset { get; init; } = new(480, 80, 200);

    /// <summary>A trained teacher (run folder, checkpoint or bundle); null: train one into <c>OUT/teacher</c>.</summary>
    public string? TeacherDirectory { get; init; }

    public int TeacherEpochs { get; init; } = 6;

    public int StudentEpochs { get; init; } = 2;

    public double ScarceFraction { get; init; } = 0.1;

    public IReadOnlyList<int> Seeds { get; init; } = [1];

    /// <summary>Clips per step; 8 rather than 16 gives the short runs twice the updates at about the same cost per clip.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Peak learning rate of the students.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Peak learning rate of the teacher: its 6-layer d-1024 decoder is safer at half the students' rate.</summary>
    public double TeacherLearningRate { get; init; } = 5e-4;

    public int? MaxTrainClips { get; init; }

    public int Threads { get; init; } = 2;

    /// <summary>Measured seconds per clip of each stage, for the plan printed at the start.</summary>
    public KdCostModel Cost { get; init; } = new();

    /// <summary>Timed runs of one 10 s window per bundle (after two warm-up runs); the median is reported.</summary>
    public int TimingRepeats { get; init; } = 10;

    /// <summary>The <c>--quick</c> preset: a small scene set and smaller models, for checking the pipeline end to end.</summary>
    public bool Quick { get; init; }

    /// <summary>Model sizes instead of the presets (tests, <c>--quick</c>); recorded as size <c>custom</c>.</summary>
    internal Func<int, CaptionModelConfig>? TeacherConfig { get; init; }

    internal Func<int, CaptionModelConfig>? StudentConfig { get; init; }

    /// <summary>Training window; the timing always uses the bundle's window.</summary>
    internal double WindowSeconds { get; init; } = 10;

    /// <summary>The quick preset: 60 clips, 2 teacher epochs and 1 student epoch, smaller teacher and student, one seed.</summary>
    public static KdReproductionOptions QuickPreset(string outputDirectory) => new()
    {
        OutputDirectory = outputDirectory,
        Quick = true,
        Clips = 60,
        Subset = SplitSizes.All,
        TeacherEpochs = 2,
        StudentEpochs = 1,
        Seeds = [1],
        ScarceFraction = 0.25,
        TeacherLearningRate = 1e-3,
        TimingRepeats = 5,
        TeacherConfig = vocabulary => CaptionModelConfig.Teacher(vocabulary) with { EncoderChannels = [16, 32, 64, 128], DModel = 256, DecoderLayers = 2, Heads = 4, FeedForward = 1024 },
        StudentConfig = vocabulary => CaptionModelConfig.Student(vocabulary) with { EncoderChannels = [8, 16, 32, 64], DModel = 128, FeedForward = 512 },
    };
}

/// <summary>One row of <c>results.json</c> (the issue's interface: keep the names).</summary>
internal sealed record KdResultRow(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("labelled_fraction")] double LabelledFraction,
    [property: JsonPropertyName("unlabelled")] bool Unlabelled,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("bleu_4")] double Bleu4,
    [property: JsonPropertyName("rouge_l")] double RougeL,
    [property: JsonPropertyName("cider_d")] double CiderD,
    [property: JsonPropertyName("params")] long Params,
    [property: JsonPropertyName("ms_per_clip")] double MsPerClip,
    [property: JsonPropertyName("speedup_vs_teacher")] double SpeedupVsTeacher);

/// <summary>
/// <c>captiond-train reproduce kd</c>: the comparison of Xu et al. (2024) on the generated scenes. Trains (or takes) a
/// teacher; distils students with L_sup only, + L_seq, + L_seq + MSE, + L_seq + contrastive, each at 100% and at a
/// scarce fraction of the labels and for every seed; then the best KD method at the scarce fraction (highest mean
/// validation CIDEr-D) with the other clips as audio-only data. Every model is exported and scored on the evaluation
/// split through the inference library (beam 3, as the daemon runs), and timed on one 10 s window of real test audio
/// (1 thread, beam 3, median) in this same process, so the speed-ups compare like with like. Writes
/// <c>results.json</c> (after every row, so an interrupted run keeps what it measured), <c>results.md</c> and
/// <c>reproduction.json</c> (settings and run folders); finished runs are reused when the command is run again.
/// </summary>
internal sealed class KdReproduction
{
    public const string ResultsFileName = "results.json";
    public const string TableFileName = "results.md";
    public const string SettingsFileName = "reproduction.json";
    public const string TeacherMethod = "teacher";
    public const string SubsetDirectoryName = "data-subset";

    /// <summary>The student configurations of the comparison: name, L_seq weight and encoder KD.</summary>
    internal static readonly IReadOnlyList<(string Method, double Seq, string Enc)> Methods =
        [("sup", 0, EncoderDistillation.None), ("sup+seq", 1, EncoderDistillation.None), ("sup+seq+mse", 1, EncoderDistillation.Mse), ("sup+seq+contrastive", 1, EncoderDistillation.Contrastive)];

    private static readonly JsonSerializerOptions _json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly KdReproductionOptions _options;
    private readonly TrainingProgress _progress;
    private readonly List<KdResultRow> _rows = [];
    private readonly Stopwatch _clock = new();
    private int _developmentClips;
    private readonly List<(string Name, string Directory)> _curves = [];
    private double _estimatedSeconds;

    public KdReproduction(KdReproductionOptions options, TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        if (options.Seeds.Count == 0 || options.ScarceFraction is <= 0 or >= 1 || options.StudentEpochs < 1 || options.TeacherEpochs < 1 || options.TimingRepeats < 1)
        {
            throw new ArgumentException("reproduce kd needs at least one seed, a scarce fraction in (0, 1), at least one epoch and one timing run.");
        }

        _options = options;
        _progress = progress;
    }

    public IReadOnlyList<KdResultRow> Run(CancellationToken cancellationToken = default)
    {
        var options = _options;
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(output);
        var source = options.DataDirectory is { } given ? Path.GetFullPath(given) : GenerateScenes(output, cancellationToken);
        var data = options.Subset.KeepsAll ? source : SceneSubset.Create(source, Path.Combine(output, SubsetDirectoryName), options.Subset, cancellationToken);
        _developmentClips = Math.Min(ClothoDataset.Load(data, ClothoDataset.Development, cancellationToken).Count, options.MaxTrainClips ?? int.MaxValue);
        var plan = KdPlan.Create(
            options,
            _developmentClips,
            ClothoDataset.Load(data, ClothoDataset.Validation, cancellationToken).Count,
            ClothoDataset.Load(data, ClothoDataset.Evaluation, cancellationToken).Count);
        _progress.Message(plan.Describe());
        _estimatedSeconds = plan.TotalSeconds;
        _clock.Restart();
        var timingClip = TimingClip.From(data, cancellationToken);
        var bundles = Path.Combine(output, "bundles");
        var cache = Path.Combine(output, "kd-targets");

        var teacher = options.TeacherDirectory is { } teacherDirectory ? Path.GetFullPath(teacherDirectory) : TrainTeacher(output, data, cancellationToken);
        var teacherBundle = Path.Combine(bundles, TeacherMethod);
        ExportIfStale(teacher, teacherBundle);
        _curves.Add((TeacherMethod, teacher));
        var (teacherScores, teacherMs, teacherParams) = Measure(teacherBundle, data, timingClip, cancellationToken);
        AddRow(output, new KdResultRow(TeacherMethod, 1.0, false, options.Seeds[0], teacherScores.Bleu4, teacherScores.RougeL, teacherScores.CiderD, teacherParams, teacherMs, 1.0));

        var methods = Methods;
        var validation = new Dictionary<(string, double), List<double>>();
        var runs = new JsonArray();
        foreach (var fraction in new[] { 1.0, options.ScarceFraction })
        {
            foreach (var (method, seq, enc) in methods)
            {
                foreach (var seed in options.Seeds)
                {
                    var run = Student(output, data, teacher, cache, method, fraction, seed, seq, enc, audioOnly: false, cancellationToken);
                    validation.TryAdd((method, fraction), []);
                    validation[(method, fraction)].Add(run.Record.BestValidationCiderD);
                    runs.Add(run.Directory);
                    _curves.Add((Path.GetFileName(run.Directory), run.Directory));
                    AddStudentRow(output, run.Directory, bundles, method, fraction, false, seed, data, timingClip, teacherMs, cancellationToken);
                }
            }
        }

        // "The best of them": the KD method with the highest mean validation CIDEr-D at the scarce fraction.
        var best = methods.Skip(1).MaxBy(m => validation[(m.Method, options.ScarceFraction)].Average());
        _progress.Message(string.Create(CultureInfo.InvariantCulture, $"best KD method at {options.ScarceFraction:0.##} of the labels: {best.Method}; adding the other clips as audio-only data"));
        foreach (var seed in options.Seeds)
        {
            var run = Student(output, data, teacher, cache, best.Method, options.ScarceFraction, seed, best.Seq, best.Enc, audioOnly: true, cancellationToken);
            runs.Add(run.Directory);
            _curves.Add((Path.GetFileName(run.Directory), run.Directory));
            AddStudentRow(output, run.Directory, bundles, run.Record.Method, options.ScarceFraction, true, seed, data, timingClip, teacherMs, cancellationToken);
        }

        // Paths inside the output folder relative to it, the rest relative to named roots: the file is committed as results.
        var paths = RecordedPaths.Current;
        File.WriteAllText(Path.Combine(output, SettingsFileName), new JsonObject
        {
            ["quick"] = options.Quick,
            ["data"] = paths.RecordUnder(output, data),
            ["data_source"] = paths.RecordUnder(output, source),
            ["subset"] = options.Subset.ToString(),
            ["batch_size"] = options.BatchSize,
            ["threads"] = options.Threads,
            ["estimated_minutes"] = Math.Round(plan.TotalSeconds / 60, 1),
            ["teacher"] = paths.RecordUnder(output, teacher),
            ["teacher_epochs"] = options.TeacherDirectory is null ? options.TeacherEpochs : null,
            ["student_epochs"] = options.StudentEpochs,
            ["scarce_fraction"] = options.ScarceFraction,
            ["seeds"] = new JsonArray([.. options.Seeds.Select(s => JsonValue.Create(s))]),
            ["best_kd_method_at_scarce_fraction"] = best.Method,
            ["metrics"] = "evaluation split, beam 3 through the inference library",
            ["timing"] = string.Create(CultureInfo.InvariantCulture, $"median of {options.TimingRepeats} runs of one 10 s window of real test audio, batch 1, beam 3, captions of exactly {timingClip.Words} words (the evaluation references' mean), 1 ONNX Runtime thread, after 2 warm-up runs"),
            ["runs"] = new JsonArray([.. runs.Select(r => JsonValue.Create(paths.RecordUnder(output, r!.GetValue<string>())))]),
            ["charts"] = new JsonArray(KdCharts.QualitySpeedFileName, KdCharts.ValidationCurvesFileName, KdCharts.LossCurvesFileName),
        }.ToJsonString(_json));
        return _rows;
    }

    /// <summary>results.json in the issue's format.</summary>
    internal static string ResultsJson(IEnumerable<KdResultRow> rows) =>
        JsonSerializer.Serialize(new { rows = rows.Select(Round) }, _json);

    /// <summary>A Markdown table of the rows and, when there are several seeds, of their means.</summary>
    internal static string Table(IReadOnlyList<KdResultRow> rows)
    {
        var table = new MarkdownTable([
            new("method"), new("labelled", ColumnAlignment.Right, "0.##"), new("audio-only", ColumnAlignment.Centre), new("seed", ColumnAlignment.Right),
            new("BLEU-4", ColumnAlignment.Right, "0.0000"), new("ROUGE-L", ColumnAlignment.Right, "0.0000"), new("CIDEr-D", ColumnAlignment.Right, "0.0000"),
            new("params", ColumnAlignment.Right, "N0"), new("ms per 10 s clip", ColumnAlignment.Right, "0.0"), new("speed-up vs teacher", ColumnAlignment.Right, "0.0'x'")]);
        foreach (var r in rows)
        {
            table.AddRow(r.Method, r.LabelledFraction, r.Unlabelled ? "yes" : "no", r.Seed, r.Bleu4, r.RougeL, r.CiderD, r.Params, r.MsPerClip, r.SpeedupVsTeacher);
        }

        var text = table.ToString();
        var groups = rows.GroupBy(r => (r.Method, r.LabelledFraction, r.Unlabelled)).Where(g => g.Count() > 1).ToArray();
        if (groups.Length > 0)
        {
            var means = new MarkdownTable([
                new("method"), new("labelled", ColumnAlignment.Right, "0.##"), new("audio-only", ColumnAlignment.Centre), new("seeds", ColumnAlignment.Right),
                new("BLEU-4"), new("ROUGE-L"), new("CIDEr-D")]);
            foreach (var g in groups)
            {
                means.AddRow(g.Key.Method, g.Key.LabelledFraction, g.Key.Unlabelled ? "yes" : "no", g.Count(),
                    SeedSpread.MeanSd(g.Select(r => r.Bleu4)), SeedSpread.MeanSd(g.Select(r => r.RougeL)), SeedSpread.MeanSd(g.Select(r => r.CiderD)));
            }

            text += "\nMeans over seeds (± standard deviation):\n\n" + means;
        }

        return text;
    }

    /// <summary>The folder name of a student run under <c>OUT/runs</c>.</summary>
    internal static string RunName(string method, double fraction, int seed, bool audioOnly) =>
        string.Create(CultureInfo.InvariantCulture, $"{method}{(audioOnly ? "+audio-only" : string.Empty)}-f{fraction:0.###}-s{seed}");

    private static KdResultRow Round(KdResultRow r) => r with
    {
        Bleu4 = Math.Round(r.Bleu4, 6),
        RougeL = Math.Round(r.RougeL, 6),
        CiderD = Math.Round(r.CiderD, 6),
        MsPerClip = Math.Round(r.MsPerClip, 3),
        SpeedupVsTeacher = Math.Round(r.SpeedupVsTeacher, 3),
    };

    private void AddRow(string output, KdResultRow row)
    {
        _rows.Add(row);
        File.WriteAllText(Path.Combine(output, ResultsFileName), ResultsJson(_rows));
        File.WriteAllText(Path.Combine(output, TableFileName), Table(_rows));
        KdCharts.Write(output, _rows, _curves);
        _progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"{row.Method} (labelled {row.LabelledFraction:0.##}, audio-only {row.Unlabelled}, seed {row.Seed}): CIDEr-D {row.CiderD:0.0000}, {row.Params:N0} parameters, {row.MsPerClip:0.0} ms per clip, {row.SpeedupVsTeacher:0.0}x the teacher's speed; {_clock.Elapsed.TotalMinutes:0} min since the plan (estimated {_estimatedSeconds / 60:0} in all, reused runs included)"));
    }

    private void AddStudentRow(
        string output, string runDirectory, string bundles, string method, double fraction, bool unlabelled, int seed, string data, TimingClip timingClip, double teacherMs, CancellationToken cancellationToken)
    {
        var bundle = Path.Combine(bundles, Path.GetFileName(runDirectory));
        ExportIfStale(Path.Combine(runDirectory, CaptionTrainer.BestDirectoryName), bundle);
        var (scores, ms, parameters) = Measure(bundle, data, timingClip, cancellationToken);
        AddRow(output, new KdResultRow(method, fraction, unlabelled, seed, scores.Bleu4, scores.RougeL, scores.CiderD, parameters, ms, teacherMs / ms));
    }

    private (CaptionScores Scores, double MsPerClip, long Params) Measure(string bundle, string data, TimingClip timingClip, CancellationToken cancellationToken)
    {
        var evaluation = EvalCommand.Evaluate(bundle, data, ClothoDataset.Evaluation, new EvalCommand.EvalSettings(3, _options.BatchSize, _options.Threads, null), null, cancellationToken);
        var ms = TimingClip.MillisecondsPerClip(bundle, timingClip, _options.TimingRepeats, cancellationToken);
        var parameters = Inference.Bundles.BundleManifest.Read(Path.Combine(bundle, Inference.Bundles.BundleManifest.FileName)).Parameters.Total;
        return (evaluation.Scores, ms, parameters);
    }

    /// <summary>
    /// Exports (or copies) a model into <paramref name="bundle"/> unless the bundle there was written after the model last
    /// changed: a run trained again with other settings must not be scored through the bundle of its earlier version.
    /// </summary>
    private void ExportIfStale(string checkpointOrBundle, string bundle)
    {
        var isBundle = File.Exists(Path.Combine(checkpointOrBundle, Inference.Bundles.BundleManifest.FileName));
        var source = isBundle || File.Exists(Path.Combine(checkpointOrBundle, CaptionModel.ConfigFileName))
            ? checkpointOrBundle
            : Path.Combine(checkpointOrBundle, CaptionTrainer.BestDirectoryName);
        var manifest = Path.Combine(bundle, Inference.Bundles.BundleManifest.FileName);
        if (File.Exists(manifest) && File.GetLastWriteTimeUtc(manifest) >= Directory.GetFiles(source).Max(File.GetLastWriteTimeUtc))
        {
            return;
        }

        if (isBundle)
        {
            Directory.CreateDirectory(bundle);
            foreach (var file in Directory.GetFiles(checkpointOrBundle))
            {
                File.Copy(file, Path.Combine(bundle, Path.GetFileName(file)), overwrite: true);
            }

            return;
        }

        BundleExporter.ExportCheckpoint(source, bundle, Path.GetFileName(bundle), _options.WindowSeconds, null, overwrite: true, "captiond-train reproduce kd");
    }

    private string GenerateScenes(string output, CancellationToken cancellationToken)
    {
        var data = Path.Combine(output, "data");
        if (File.Exists(ClothoDataset.CaptionsPath(data, ClothoDataset.Evaluation)))
        {
            return data;
        }

        _progress.Message($"generating {_options.Clips} scenes from {_options.SoundsDirectory} into {data}");
        using var log = new StringWriter();
        new SceneSetBuilder(new SceneSetOptions { SoundsDirectory = _options.SoundsDirectory, OutputDirectory = data, Clips = _options.Clips }, log).Build(cancellationToken);
        return data;
    }

    private string TrainTeacher(string output, string data, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(output, TeacherMethod);
        if (File.Exists(Path.Combine(directory, CaptionTrainer.BestDirectoryName, TrainingRecord.FileName))
            && TrainingRecord.Load(Path.Combine(directory, CaptionTrainer.BestDirectoryName)).Metrics is not null)
        {
            _progress.Message($"reusing the teacher in {directory}");
            return directory;
        }

        _progress.Message($"training the teacher into {directory}");
        new CaptionTrainer(
            new TrainOptions
            {
                DataDirectory = data,
                OutputDirectory = directory,
                Size = "teacher",
                Epochs = _options.TeacherEpochs,
                BatchSize = _options.BatchSize,
                LearningRate = _options.TeacherLearningRate,
                Threads = _options.Threads,
                MaxTrainClips = _options.MaxTrainClips,
                WindowSeconds = _options.WindowSeconds,
                Resume = Directory.Exists(Path.Combine(directory, CaptionTrainer.LastDirectoryName)),
                ModelConfig = _options.TeacherConfig,
                MinWordCount = _options.Quick ? 1 : 5,
                CommandLine = "captiond-train reproduce kd (teacher)",
            },
            _progress).Run(cancellationToken);
        return directory;
    }

    /// <summary>
    /// Epochs over a run's pool (its labelled clips, or the larger of labelled and audio-only) that give it as many steps
    /// as <paramref name="studentEpochs"/> over all development clips, and never fewer epochs. Without this, a student
    /// with 10% of the labels would take a tenth of the steps (12 on the full preset) and learn nothing but one caption,
    /// and one with audio-only data would win by training nine times longer.
    /// </summary>
    internal static int EqualStepEpochs(int studentEpochs, int developmentClips, int poolClips) =>
        Math.Max(studentEpochs, (int)Math.Round((double)studentEpochs * developmentClips / Math.Max(1, poolClips)));

    private (string Directory, TrainingRecord Record) Student(
        string output, string data, string teacher, string cache, string method, double fraction, int seed, double seq, string enc, bool audioOnly, CancellationToken cancellationToken)
    {
        var name = RunName(method, fraction, seed, audioOnly);
        var directory = Path.Combine(output, "runs", name);
        var best = Path.Combine(directory, CaptionTrainer.BestDirectoryName);
        var labelled = LabelledSplit.LabelledCount(_developmentClips, fraction);
        var epochs = EqualStepEpochs(_options.StudentEpochs, _developmentClips, audioOnly ? Math.Max(labelled, _developmentClips - labelled) : labelled);
        if (File.Exists(Path.Combine(best, TrainingRecord.FileName)) && TrainingRecord.Load(best) is { Metrics: not null } done && done.Epochs == epochs)
        {
            _progress.Message($"reusing {directory}");
            return (directory, done);
        }

        if (Directory.Exists(directory))
        {
            // An interrupted run or one with other settings starts again: a student of this comparison takes minutes,
            // and resuming one would first have to prove its settings are this preset's.
            Directory.Delete(directory, recursive: true);
        }

        _progress.Message($"distilling {name}");
        var record = new DistillationTrainer(
            new DistillOptions
            {
                Train = new TrainOptions
                {
                    DataDirectory = data,
                    OutputDirectory = directory,
                    Epochs = epochs,
                    BatchSize = _options.BatchSize,
                    LearningRate = _options.LearningRate,
                    Seed = seed,
                    Threads = _options.Threads,
                    MaxTrainClips = _options.MaxTrainClips,
                    WindowSeconds = _options.WindowSeconds,
                    ModelConfig = _options.StudentConfig,
                    CommandLine = "captiond-train reproduce kd (" + name + ")",
                },
                TeacherDirectory = teacher,
                TargetsCacheDirectory = cache,
                SequenceWeight = seq,
                EncoderKd = enc,
                LabelledFraction = fraction,
                UnlabelledFromRest = audioOnly,
            },
            _progress).Run(cancellationToken);
        return (directory, record);
    }
}
