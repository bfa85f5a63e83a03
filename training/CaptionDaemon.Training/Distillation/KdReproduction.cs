using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Data.Sounds.Labelling;
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

    /// <summary>
    /// A tagger checkpoint (<c>tag</c>'s <c>best/</c>) the trained teacher starts from, as <c>train --encoder</c> does;
    /// null: the CNN teacher preset (or <see cref="TeacherConfig"/>). Unused with <see cref="TeacherDirectory"/>.
    /// </summary>
    public string? TeacherEncoder { get; init; }

    /// <summary>
    /// A tagger checkpoint every student starts from, as <c>distill --encoder</c> does; null: the CNN student preset
    /// (or <see cref="StudentConfig"/>).
    /// </summary>
    public string? StudentEncoder { get; init; }

    /// <summary>
    /// With <see cref="StudentEncoder"/>: epochs of a <see cref="StudentEpochs"/>-epoch student on the frozen encoder;
    /// a run with more epochs (scarce labels, <see cref="KdReproduction.EqualStepEpochs"/>) freezes the same share of
    /// its steps. While frozen, L_enc trains only the KD heads, so it must be below <see cref="StudentEpochs"/>.
    /// Null: 1 when there are at least 2 student epochs, else 0.
    /// </summary>
    public int? FreezeEncoderEpochs { get; init; }

    /// <summary>With <see cref="TeacherEncoder"/>: the teacher's epochs on the frozen encoder; null: 1 when it has at least 2 epochs, else 0.</summary>
    public int? TeacherFreezeEncoderEpochs { get; init; }

    /// <summary>
    /// Isolated test recordings (<c>path&lt;TAB&gt;category</c>, as <c>data catalog --list</c> writes them) for
    /// <c>isolated_recall</c>; null: listed from <see cref="SoundsDirectory"/>'s test split
    /// (<see cref="RecordingsPerCategory"/> per category) into <c>OUT/recordings-test.tsv</c>.
    /// </summary>
    public string? RecordingsList { get; init; }

    /// <summary>At most this many recordings per category in the list made from <see cref="SoundsDirectory"/>.</summary>
    public int RecordingsPerCategory { get; init; } = 20;

    /// <summary>The student's frozen epochs in a run of <see cref="StudentEpochs"/> epochs (0 without <see cref="StudentEncoder"/>).</summary>
    internal int StudentFrozenEpochs => StudentEncoder is null ? 0 : FreezeEncoderEpochs ?? Math.Min(1, StudentEpochs - 1);

    /// <summary>The teacher's frozen epochs (0 unless it is trained on <see cref="TeacherEncoder"/>).</summary>
    internal int TeacherFrozenEpochs => TeacherEncoder is null || TeacherDirectory is not null ? 0 : TeacherFreezeEncoderEpochs ?? Math.Min(1, TeacherEpochs - 1);

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

/// <summary>
/// One row of <c>results.json</c> (the issue's interface: keep the names). <c>isolated_recall</c> is
/// <c>eval --recordings</c>'s figure on the isolated test recordings, <c>event_recall</c> that of <c>eval --data</c> on
/// the evaluation scenes; each is null when not measurable (no recordings, or a data set without <c>scenes.jsonl</c>).
/// </summary>
internal sealed record KdResultRow(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("labelled_fraction")] double LabelledFraction,
    [property: JsonPropertyName("unlabelled")] bool Unlabelled,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("bleu_4")] double Bleu4,
    [property: JsonPropertyName("rouge_l")] double RougeL,
    [property: JsonPropertyName("cider_d")] double CiderD,
    [property: JsonPropertyName("isolated_recall")] double? IsolatedRecall,
    [property: JsonPropertyName("event_recall")] double? EventRecall,
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

    /// <summary>The isolated test recordings listed from <c>--sounds</c> when no <c>--recordings</c> list is given.</summary>
    public const string RecordingsFileName = "recordings-test.tsv";

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
    private readonly Lazy<CategoryNames> _names = new(CategoryNames.LoadBundled);
    private double _estimatedSeconds;
    private IReadOnlyList<LabelledRecording>? _recordings;

    public KdReproduction(KdReproductionOptions options, TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        if (options.Seeds.Count == 0 || options.ScarceFraction is <= 0 or >= 1 || options.StudentEpochs < 1 || options.TeacherEpochs < 1 || options.TimingRepeats < 1)
        {
            throw new ArgumentException("reproduce kd needs at least one seed, a scarce fraction in (0, 1), at least one epoch and one timing run.");
        }

        if (options.FreezeEncoderEpochs is { } frozen && (options.StudentEncoder is null || frozen < 0 || frozen >= options.StudentEpochs))
        {
            throw new ArgumentException(options.StudentEncoder is null
                ? "--freeze-encoder-epochs needs --student-encoder (a tagger to freeze)."
                : $"--freeze-encoder-epochs must be at least 0 and below --epochs ({options.StudentEpochs}): while the encoder is frozen, encoder-level KD trains only its projection heads.");
        }

        if (options.TeacherFreezeEncoderEpochs is { } teacherFrozen && (options.TeacherEncoder is null || teacherFrozen < 0 || teacherFrozen > options.TeacherEpochs))
        {
            throw new ArgumentException("--teacher-freeze-encoder-epochs needs --teacher-encoder and must be between 0 and --teacher-epochs.");
        }

        if (options.RecordingsPerCategory < 1)
        {
            throw new ArgumentException("--recordings-per-category must be at least 1.");
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
        (_recordings, var recordingsSource) = IsolatedRecordings(output, cancellationToken);
        var plan = KdPlan.Create(
            options,
            _developmentClips,
            ClothoDataset.Load(data, ClothoDataset.Validation, cancellationToken).Count,
            ClothoDataset.Load(data, ClothoDataset.Evaluation, cancellationToken).Count,
            _recordings?.Count ?? 0);
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
        var teacherMeasured = Measure(teacherBundle, data, timingClip, cancellationToken);
        var teacherMs = teacherMeasured.MsPerClip;
        AddRow(output, teacherMeasured.Row(TeacherMethod, 1.0, false, options.Seeds[0], teacherMs));

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
            ["teacher_encoder"] = options.TeacherDirectory is null && options.TeacherEncoder is { } teacherEncoder ? paths.Record(Path.GetFullPath(teacherEncoder)) : null,
            ["teacher_freeze_encoder_epochs"] = options.TeacherFrozenEpochs,
            ["student_epochs"] = options.StudentEpochs,
            ["student_encoder"] = options.StudentEncoder is { } studentEncoder ? paths.Record(Path.GetFullPath(studentEncoder)) : null,
            ["student_freeze_encoder_epochs"] = options.StudentFrozenEpochs,
            ["recordings"] = recordingsSource,
            ["scarce_fraction"] = options.ScarceFraction,
            ["seeds"] = new JsonArray([.. options.Seeds.Select(s => JsonValue.Create(s))]),
            ["best_kd_method_at_scarce_fraction"] = best.Method,
            ["metrics"] = "evaluation split, beam 3 through the inference library (event_recall as 'eval --data'); isolated_recall as 'eval --recordings' on the recordings above",
            ["timing"] = string.Create(CultureInfo.InvariantCulture, $"median of {options.TimingRepeats} runs of one 10 s window of real test audio, batch 1, beam 3, captions of exactly {timingClip.Words} words (the evaluation references' mean), 1 ONNX Runtime thread, after 2 warm-up runs"),
            ["runs"] = new JsonArray([.. runs.Select(r => JsonValue.Create(paths.RecordUnder(output, r!.GetValue<string>())))]),
            ["charts"] = new JsonArray(KdCharts.QualitySpeedFileName, KdCharts.HearingFileName, KdCharts.ValidationCurvesFileName, KdCharts.LossCurvesFileName),
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
            new("isolated recall", ColumnAlignment.Right, "0.000"), new("event recall", ColumnAlignment.Right, "0.000"),
            new("params", ColumnAlignment.Right, "N0"), new("ms per 10 s clip", ColumnAlignment.Right, "0.0"), new("speed-up vs teacher", ColumnAlignment.Right, "0.0'x'")]);
        foreach (var r in rows)
        {
            table.AddRow(r.Method, r.LabelledFraction, r.Unlabelled ? "yes" : "no", r.Seed, r.Bleu4, r.RougeL, r.CiderD, r.IsolatedRecall, r.EventRecall, r.Params, r.MsPerClip, r.SpeedupVsTeacher);
        }

        var text = table.ToString();
        var groups = rows.GroupBy(r => (r.Method, r.LabelledFraction, r.Unlabelled)).Where(g => g.Count() > 1).ToArray();
        if (groups.Length > 0)
        {
            var means = new MarkdownTable([
                new("method"), new("labelled", ColumnAlignment.Right, "0.##"), new("audio-only", ColumnAlignment.Centre), new("seeds", ColumnAlignment.Right),
                new("BLEU-4"), new("ROUGE-L"), new("CIDEr-D"), new("isolated recall"), new("event recall")]);
            foreach (var g in groups)
            {
                means.AddRow(g.Key.Method, g.Key.LabelledFraction, g.Key.Unlabelled ? "yes" : "no", g.Count(),
                    SeedSpread.MeanSd(g.Select(r => r.Bleu4)), SeedSpread.MeanSd(g.Select(r => r.RougeL)), SeedSpread.MeanSd(g.Select(r => r.CiderD)),
                    MeanSdOrEmpty(g.Select(r => r.IsolatedRecall)), MeanSdOrEmpty(g.Select(r => r.EventRecall)));
            }

            text += "\nMeans over seeds (± standard deviation):\n\n" + means;
        }

        return text;
    }

    /// <summary>Mean ± standard deviation of a hearing metric over seeds; null (an empty cell) when any seed lacks it.</summary>
    private static string? MeanSdOrEmpty(IEnumerable<double?> values)
    {
        var all = values.ToArray();
        return all.All(v => v is not null) ? SeedSpread.MeanSd(all.Select(v => v!.Value)) : null;
    }

    /// <summary>The folder name of a student run under <c>OUT/runs</c>.</summary>
    internal static string RunName(string method, double fraction, int seed, bool audioOnly) =>
        string.Create(CultureInfo.InvariantCulture, $"{method}{(audioOnly ? "+audio-only" : string.Empty)}-f{fraction:0.###}-s{seed}");

    private static KdResultRow Round(KdResultRow r) => r with
    {
        Bleu4 = Math.Round(r.Bleu4, 6),
        RougeL = Math.Round(r.RougeL, 6),
        CiderD = Math.Round(r.CiderD, 6),
        IsolatedRecall = r.IsolatedRecall is { } isolated ? Math.Round(isolated, 4) : null,
        EventRecall = r.EventRecall is { } events ? Math.Round(events, 4) : null,
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
            $"{row.Method} (labelled {row.LabelledFraction:0.##}, audio-only {row.Unlabelled}, seed {row.Seed}): CIDEr-D {row.CiderD:0.0000}, isolated recall {Describe(row.IsolatedRecall)}, event recall {Describe(row.EventRecall)}, {row.Params:N0} parameters, {row.MsPerClip:0.0} ms per clip, {row.SpeedupVsTeacher:0.0}x the teacher's speed; {_clock.Elapsed.TotalMinutes:0} min since the plan (estimated {_estimatedSeconds / 60:0} in all, reused runs included)"));
    }

    private static string Describe(double? metric) => metric is { } value ? value.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private void AddStudentRow(
        string output, string runDirectory, string bundles, string method, double fraction, bool unlabelled, int seed, string data, TimingClip timingClip, double teacherMs, CancellationToken cancellationToken)
    {
        var bundle = Path.Combine(bundles, Path.GetFileName(runDirectory));
        ExportIfStale(Path.Combine(runDirectory, CaptionTrainer.BestDirectoryName), bundle);
        AddRow(output, Measure(bundle, data, timingClip, cancellationToken).Row(method, fraction, unlabelled, seed, teacherMs));
    }

    /// <summary>What one bundle measured: the scene evaluation (<c>eval --data</c>), the isolated recordings (<c>eval --recordings</c>), speed and size.</summary>
    private sealed record Measurement(EvalCommand.EvalResult Scenes, HearingReport? Hearing, double MsPerClip, long Params)
    {
        public KdResultRow Row(string method, double fraction, bool unlabelled, int seed, double teacherMs) => new(
            method, fraction, unlabelled, seed, Scenes.Scores.Bleu4, Scenes.Scores.RougeL, Scenes.Scores.CiderD, Hearing?.IsolatedRecall, Scenes.EventRecall, Params, MsPerClip, teacherMs / MsPerClip);
    }

    /// <summary>Scores a bundle through the evaluators of <c>eval</c> (beam 3) and times it.</summary>
    private Measurement Measure(string bundle, string data, TimingClip timingClip, CancellationToken cancellationToken)
    {
        var settings = new EvalCommand.EvalSettings(3, _options.BatchSize, _options.Threads, null);
        var evaluation = EvalCommand.Evaluate(bundle, data, ClothoDataset.Evaluation, settings, null, cancellationToken);
        var hearing = _recordings is { } recordings ? RecordingEvaluation.Run(bundle, recordings, _names.Value, settings, null, cancellationToken) : null;
        var ms = TimingClip.MillisecondsPerClip(bundle, timingClip, _options.TimingRepeats, cancellationToken);
        var parameters = Inference.Bundles.BundleManifest.Read(Path.Combine(bundle, Inference.Bundles.BundleManifest.FileName)).Parameters.Total;
        return new Measurement(evaluation, hearing, ms, parameters);
    }

    /// <summary>
    /// The isolated recordings every model is scored on, and a description of where they come from: the given list, or
    /// <c>data catalog --list F --split test --per-category N</c> of the sounds folder written to
    /// <c>OUT/recordings-test.tsv</c>. A sounds folder without test recordings (the tests' one-package folder) lends all
    /// of its recordings, which scenes may have used in training; none at all leaves <c>isolated_recall</c> null.
    /// </summary>
    private (IReadOnlyList<LabelledRecording>? Recordings, string Source) IsolatedRecordings(string output, CancellationToken cancellationToken)
    {
        var paths = RecordedPaths.Current;
        if (_options.RecordingsList is { } list)
        {
            var given = RecordingList.Load(list);
            _progress.Message($"isolated recall on the {given.Count} recordings of {Path.GetFullPath(list)}");
            return (given, paths.Record(Path.GetFullPath(list)));
        }

        var sounds = Path.GetFullPath(_options.SoundsDirectory);
        if (!File.Exists(Path.Combine(sounds, SoundIndex.FileName)))
        {
            _progress.Message($"isolated_recall left out: no --recordings list and no {SoundIndex.FileName} in {sounds} to list test recordings from");
            return (null, "none");
        }

        const string split = "test";
        var entries = SoundIndex.Load(sounds, cancellationToken);
        var rows = CatalogSummary.EvaluationList(entries, split, _options.RecordingsPerCategory);
        var source = string.Create(CultureInfo.InvariantCulture, $"data catalog --sounds {paths.Record(sounds)} --split {split} --per-category {_options.RecordingsPerCategory}");
        if (rows.Count == 0)
        {
            rows = CatalogSummary.EvaluationList([.. entries.Select(e => e with { Split = split })], split, _options.RecordingsPerCategory);
            source = string.Create(CultureInfo.InvariantCulture, $"{paths.Record(sounds)} has no {split} split: {_options.RecordingsPerCategory} per category of all its recordings, which the scenes may have trained on");
            _progress.Message("warning: " + source);
        }

        if (rows.Count == 0)
        {
            _progress.Message($"isolated_recall left out: {sounds} lists no recording of half a second or more");
            return (null, "none");
        }

        var path = Path.Combine(output, RecordingsFileName);
        CatalogSummary.WriteEvaluationList(path, sounds, rows);
        var recordings = RecordingList.Load(path);
        _progress.Message($"isolated recall on {recordings.Count} recordings of {recordings.Select(r => r.Category).Distinct(StringComparer.Ordinal).Count()} categories ({path})");
        return (recordings, source);
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
        var encoder = _options.TeacherEncoder is { } teacherEncoder ? Path.GetFullPath(teacherEncoder) : null;
        if (File.Exists(Path.Combine(directory, CaptionTrainer.BestDirectoryName, TrainingRecord.FileName))
            && TrainingRecord.Load(Path.Combine(directory, CaptionTrainer.BestDirectoryName)) is { Metrics: not null } done)
        {
            if (done.Encoder == encoder)
            {
                _progress.Message($"reusing the teacher in {directory}");
                return directory;
            }

            throw new TrainingException($"{directory} holds a teacher trained on encoder {done.Encoder ?? "(the CNN preset)"}, not {encoder ?? "(the CNN preset)"}; move it away or choose another --out.");
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
                ModelConfig = encoder is null ? _options.TeacherConfig : null,
                EncoderDirectory = encoder,
                FreezeEncoderEpochs = _options.TeacherFrozenEpochs,
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

    /// <summary>
    /// Frozen-encoder epochs of a run of <paramref name="runEpochs"/> epochs that freeze the share of its steps that
    /// <paramref name="frozenEpochs"/> of <paramref name="studentEpochs"/> would; a run that has unfrozen epochs at the
    /// preset keeps at least one.
    /// </summary>
    internal static int EqualStepFrozenEpochs(int frozenEpochs, int studentEpochs, int runEpochs)
    {
        if (frozenEpochs <= 0)
        {
            return 0;
        }

        var scaled = (int)Math.Round((double)frozenEpochs * runEpochs / studentEpochs);
        return frozenEpochs < studentEpochs ? Math.Clamp(scaled, 1, runEpochs - 1) : runEpochs;
    }

    private (string Directory, TrainingRecord Record) Student(
        string output, string data, string teacher, string cache, string method, double fraction, int seed, double seq, string enc, bool audioOnly, CancellationToken cancellationToken)
    {
        var name = RunName(method, fraction, seed, audioOnly);
        var directory = Path.Combine(output, "runs", name);
        var best = Path.Combine(directory, CaptionTrainer.BestDirectoryName);
        var labelled = LabelledSplit.LabelledCount(_developmentClips, fraction);
        var epochs = EqualStepEpochs(_options.StudentEpochs, _developmentClips, audioOnly ? Math.Max(labelled, _developmentClips - labelled) : labelled);
        var encoder = _options.StudentEncoder is { } studentEncoder ? Path.GetFullPath(studentEncoder) : null;
        var frozen = EqualStepFrozenEpochs(_options.StudentFrozenEpochs, _options.StudentEpochs, epochs);
        if (File.Exists(Path.Combine(best, TrainingRecord.FileName))
            && TrainingRecord.Load(best) is { Metrics: not null } done && done.Epochs == epochs && done.Encoder == encoder && done.FreezeEncoderEpochs == frozen)
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
                    ModelConfig = encoder is null ? _options.StudentConfig : null,
                    EncoderDirectory = encoder,
                    FreezeEncoderEpochs = frozen,
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
