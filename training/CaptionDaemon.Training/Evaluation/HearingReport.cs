using System.Globalization;
using System.Text.Json.Nodes;
using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// A labelled recording's caption, whether it names the recording's category, the labels the bundle reported with
/// it (above their thresholds) and its <see cref="HearingReport.TopLabelCount"/> most probable labels with their
/// probabilities, highest first, thresholds aside (both empty for a bundle without labels).
/// </summary>
internal sealed record RecordingCaption(LabelledRecording Recording, string Caption, float Confidence, bool Named, IReadOnlyList<string> Labels, IReadOnlyList<LabelProbability> TopLabels);

/// <summary>A label and the probability the tagger gave it.</summary>
internal readonly record struct LabelProbability(string Label, float Probability)
{
    /// <summary>The <paramref name="count"/> most probable of a window's label probabilities, highest first, thresholds aside.</summary>
    public static IReadOnlyList<LabelProbability> Top(IReadOnlyList<float> probabilities, IReadOnlyList<CaptionDaemon.Inference.Bundles.BundleLabel> labels, int count) =>
        [.. probabilities.Select((p, i) => new LabelProbability(labels[i].Name, p)).OrderByDescending(l => l.Probability).Take(count)];
}

/// <summary>A quiet clip's caption; a false alarm when the daemon would publish it and it names a sound event.</summary>
internal sealed record QuietCaption(string Name, string Caption, float Confidence, bool FalseAlarm);

/// <summary>Where the report's minimum confidence comes from.</summary>
internal enum MinConfidenceSource
{
    /// <summary>Neither the flag nor the bundle: the daemon's fallback, 0.</summary>
    DaemonDefault,

    /// <summary>The bundle's <c>confidence.min_confidence</c>, as the daemon uses it when its configuration leaves it unset.</summary>
    Bundle,

    /// <summary><c>--min-confidence</c>.</summary>
    Flag,
}

/// <summary>
/// What <c>eval --recordings</c> measures: whether a model tells sounds apart (each recording captioned alone names its
/// category; different categories get different captions) and whether it keeps quiet when nothing happens.
/// </summary>
internal sealed record HearingReport(IReadOnlyList<RecordingCaption> Recordings, IReadOnlyList<QuietCaption> Quiet, double MinConfidence, int Beam)
{
    /// <summary>The category of speech recordings.</summary>
    public const string Speech = "speech";

    /// <summary>How many of a recording's most probable labels <see cref="LabelTop5Recall"/> looks at.</summary>
    public const int TopLabelCount = 5;

    /// <summary>Whether the bundle reports labels (a tagging encoder); <see cref="LabelRecall"/> is only meaningful then.</summary>
    public bool HasLabels { get; init; }

    /// <summary>Where <see cref="MinConfidence"/> comes from.</summary>
    public MinConfidenceSource MinConfidenceSource { get; init; }

    /// <summary>Whether the bundle has a <c>confidence</c> block (its confidences are calibrated, not sequence confidences).</summary>
    public bool Calibrated { get; init; }

    /// <summary>
    /// Expected calibration error of the confidences (<see cref="CalibrationError"/>, 10 bins) over the recordings (right
    /// when the caption names the category) and the quiet clips (never right: nothing there to name).
    /// </summary>
    public double ExpectedCalibrationError => CalibrationError.Expected(
        [.. Recordings.Select(r => (double)r.Confidence).Concat(Quiet.Select(q => (double)q.Confidence))],
        [.. Recordings.Select(r => r.Named).Concat(Quiet.Select(_ => false))]);

    /// <summary>Share of recordings whose caption names their category and would be published (confidence at least <see cref="MinConfidence"/>).</summary>
    public double IsolatedRecallAtMinConfidence => Share(Recordings.Count(r => r.Named && r.Confidence >= MinConfidence), Recordings.Count);

    /// <summary>
    /// Share of recordings the daemon would publish nothing for (confidence under <see cref="MinConfidence"/>): the issue's
    /// "no caption on more than 10% of the isolated test recordings".
    /// </summary>
    public double UncaptionedShare => Share(Recordings.Count(r => r.Confidence < MinConfidence), Recordings.Count);

    /// <summary>Share of recordings whose category is among the labels reported with the caption (null without labels).</summary>
    public double? LabelRecall => HasLabels ? Share(Recordings.Count(r => r.Labels.Contains(r.Recording.Category, StringComparer.Ordinal)), Recordings.Count) : null;

    /// <summary>
    /// Share of recordings whose category is among their <see cref="TopLabelCount"/> most probable labels, thresholds
    /// aside (null without labels): whether the encoder hears the sound at all, apart from where its thresholds sit, so
    /// two encoders compare before either is calibrated.
    /// </summary>
    public double? LabelTop5Recall => HasLabels ? Share(Recordings.Count(r => r.TopLabels.Any(l => l.Label == r.Recording.Category)), Recordings.Count) : null;

    /// <summary>
    /// Share of the labels reported with the recordings' captions that are the recording's category (null without labels
    /// or when none was reported): what label recall costs in false labels.
    /// </summary>
    public double? LabelPrecision => HasLabels && Recordings.Sum(r => r.Labels.Count) is > 0 and var reported
        ? Share(Recordings.Count(r => r.Labels.Contains(r.Recording.Category, StringComparer.Ordinal)), reported)
        : null;

    /// <summary>Share of the speech recordings whose caption names speech (null when the list has none): the issue's "speech named".</summary>
    public double? SpeechRecall => Recordings.Any(r => r.Recording.Category == Speech)
        ? Share(Recordings.Count(r => r.Recording.Category == Speech && r.Named), Recordings.Count(r => r.Recording.Category == Speech))
        : null;

    /// <summary>Share of recordings whose caption names their category.</summary>
    public double IsolatedRecall => Share(Recordings.Count(r => r.Named), Recordings.Count);

    /// <summary>Distinct categories of the list.</summary>
    public int Categories => Recordings.Select(r => r.Recording.Category).Distinct(StringComparer.Ordinal).Count();

    /// <summary>Distinct captions over distinct categories: 1 or more when the model could give each category its own caption.</summary>
    public double DistinctCaptionRatio => Share(Recordings.Select(r => r.Caption).Distinct(StringComparer.Ordinal).Count(), Categories);

    /// <summary>The most frequent caption (ties: the first in ordinal order, so the report is deterministic).</summary>
    public string TopCaption => CaptionCounts().First().Caption;

    /// <summary>Share of recordings given <see cref="TopCaption"/>.</summary>
    public double TopCaptionShare => Share(CaptionCounts().First().Count, Recordings.Count);

    /// <summary>Share of the quiet clips whose caption is a false alarm.</summary>
    public double QuietFalseAlarms => Share(Quiet.Count(q => q.FalseAlarm), Quiet.Count);

    /// <summary>Recall per category, sorted by category name.</summary>
    public IReadOnlyList<(string Category, int Recordings, double Recall)> PerCategory => Recordings
        .GroupBy(r => r.Recording.Category, StringComparer.Ordinal)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => (g.Key, g.Count(), Share(g.Count(r => r.Named), g.Count())))
        .ToList();

    /// <summary>
    /// The report's JSON: <c>recordings</c>, <c>categories</c>, <c>beam</c>, <c>isolated_recall</c>,
    /// <c>distinct_caption_ratio</c>, <c>top_caption_share</c>, <c>top_caption</c>, <c>calibrated</c>,
    /// <c>expected_calibration_error</c>, <c>min_confidence</c> and <c>min_confidence_source</c> (<c>flag</c>,
    /// <c>bundle</c> or <c>daemon_default</c>), <c>isolated_recall_at_min_confidence</c>,
    /// <c>quiet_false_alarms</c> (at <c>min_confidence</c>), <c>quiet_captions</c> (clip name: caption, confidence), <c>per_category</c>
    /// (category: recall, sorted by name) and <c>captions</c> (path as listed: caption, or caption, confidence, labels and
    /// top_labels for a bundle with labels); <c>label_recall</c>, <c>label_precision</c>, <c>label_top5_recall</c> and <c>speech_recall</c> (null when not measurable). Shares are rounded to 4 places.
    /// </summary>
    public JsonObject ToJson()
    {
        var perCategory = new JsonObject();
        foreach (var (category, _, recall) in PerCategory)
        {
            perCategory[category] = Round(recall);
        }

        var quiet = new JsonObject();
        foreach (var clip in Quiet)
        {
            quiet[clip.Name] = new JsonObject
            {
                ["caption"] = clip.Caption,
                ["confidence"] = Round(clip.Confidence),
                ["false_alarm"] = clip.FalseAlarm,
            };
        }

        var captions = new JsonObject();
        foreach (var recording in Recordings)
        {
            captions[recording.Recording.Path] = HasLabels
                ? new JsonObject
                {
                    ["caption"] = recording.Caption,
                    ["confidence"] = Round(recording.Confidence),
                    ["labels"] = new JsonArray([.. recording.Labels.Select(l => (JsonNode)l)]),
                    ["top_labels"] = new JsonArray([.. recording.TopLabels.Select(l => (JsonNode)new JsonObject { ["label"] = l.Label, ["probability"] = Round(l.Probability) })]),
                }
                : recording.Caption;
        }

        return new JsonObject
        {
            ["recordings"] = Recordings.Count,
            ["categories"] = Categories,
            ["beam"] = Beam,
            ["isolated_recall"] = Round(IsolatedRecall),
            ["label_recall"] = LabelRecall is { } labelRecall ? Round(labelRecall) : null,
            ["label_precision"] = LabelPrecision is { } labelPrecision ? Round(labelPrecision) : null,
            ["label_top5_recall"] = LabelTop5Recall is { } top5 ? Round(top5) : null,
            ["speech_recall"] = SpeechRecall is { } speechRecall ? Round(speechRecall) : null,
            ["distinct_caption_ratio"] = Round(DistinctCaptionRatio),
            ["top_caption_share"] = Round(TopCaptionShare),
            ["top_caption"] = TopCaption,
            ["calibrated"] = Calibrated,
            ["expected_calibration_error"] = Round(ExpectedCalibrationError),
            ["min_confidence"] = MinConfidence,
            ["min_confidence_source"] = MinConfidenceSource switch
            {
                MinConfidenceSource.Flag => "flag",
                MinConfidenceSource.Bundle => "bundle",
                _ => "daemon_default",
            },
            ["isolated_recall_at_min_confidence"] = Round(IsolatedRecallAtMinConfidence),
            ["uncaptioned_share"] = Round(UncaptionedShare),
            ["quiet_false_alarms"] = Round(QuietFalseAlarms),
            ["quiet_captions"] = quiet,
            ["per_category"] = perCategory,
            ["captions"] = captions,
        };
    }

    /// <summary>The headline figures and a per-category table (category, n, recall) for people.</summary>
    public void WriteSummary(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var table = new MarkdownTable([new("category"), new("n", ColumnAlignment.Right), new("recall", ColumnAlignment.Right, "0.00")]);
        foreach (var (category, count, recall) in PerCategory)
        {
            table.AddRow(category, count, recall);
        }

        writer.Write(table.ToString());
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Recordings.Count} recordings of {Categories} categories: isolated_recall {IsolatedRecall:0.000}, distinct_caption_ratio {DistinctCaptionRatio:0.000}, top_caption_share {TopCaptionShare:0.000} (\"{TopCaption}\")"));
        if (LabelRecall is { } labels)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"label_recall {labels:0.000} (the recording's category among the labels reported with its caption), label_precision {LabelPrecision ?? 0:0.000} (reported labels that are the category), label_top5_recall {LabelTop5Recall ?? 0:0.000} (the category among the {TopLabelCount} most probable labels)"));
        }

        if (SpeechRecall is { } speech)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"speech_recall {speech:0.000} (speech recordings whose caption names speech)"));
        }

        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"quiet_false_alarms {QuietFalseAlarms:0.000} ({Quiet.Count(q => q.FalseAlarm)} of {Quiet.Count} quiet clips name a sound event at confidence >= {MinConfidence}), isolated_recall_at_min_confidence {IsolatedRecallAtMinConfidence:0.000}, uncaptioned_share {UncaptionedShare:0.000} (recordings under it)"));
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"expected_calibration_error {ExpectedCalibrationError:0.000} ({(Calibrated ? "calibrated" : "uncalibrated: sequence")} confidence; recordings right when named, quiet clips never)"));
    }

    private IEnumerable<(string Caption, int Count)> CaptionCounts() => Recordings
        .GroupBy(r => r.Caption, StringComparer.Ordinal)
        .Select(g => (g.Key, g.Count()))
        .OrderByDescending(c => c.Item2)
        .ThenBy(c => c.Key, StringComparer.Ordinal);

    private static double Share(int part, int whole) => whole == 0 ? 0 : (double)part / whole;

    /// <summary>Decimal places of the figures and confidences the report writes.</summary>
    public const int ReportedDecimals = 4;

    /// <summary>
    /// The per-recording confidences of a report this writes (<c>eval --recordings --json</c>, its <c>captions</c>), as
    /// written: rounded to <see cref="ReportedDecimals"/> places.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is missing, is not such a report, or has no confidences (a bundle without labels reports captions only).</exception>
    public static double[] ReadConfidences(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{path}: no such file (the JSON of 'eval --recordings --json').");
        }

        try
        {
            var captions = JsonNode.Parse(File.ReadAllText(path))?["captions"] as JsonObject
                ?? throw new InvalidDataException($"{path}: no 'captions' object; is it the JSON of 'eval --recordings --json'?");
            var confidences = captions.Select(c => (c.Value as JsonObject)?["confidence"]?.GetValue<double>()
                ?? throw new InvalidDataException($"{path}: the caption of {c.Key} has no confidence (a bundle without labels reports captions only)")).ToArray();
            return confidences.Length > 0 ? confidences : throw new InvalidDataException($"{path}: no captions.");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not the JSON of 'eval --recordings --json' ({e.Message})", e);
        }
    }

    private static double Round(double value) => Math.Round(value, ReportedDecimals);
}
