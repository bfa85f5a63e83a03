using System.Globalization;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Distillation;

/// <summary>
/// The figures of <c>reproduce kd</c>, written next to results.json: test CIDEr-D against milliseconds per clip (log x),
/// one labelled point per method and label fraction (means over seeds); CIDEr-D, isolated recall and event recall side
/// by side per method and label fraction (whether a method's captions name what is heard, next to how much they read
/// like the references); and the training curves of every run (validation CIDEr-D and train loss by epoch).
/// </summary>
internal static class KdCharts
{
    public const string QualitySpeedFileName = "quality-speed.png";
    public const string HearingFileName = "hearing.png";
    public const string ValidationCurvesFileName = "curves-validation-cider.png";
    public const string LossCurvesFileName = "curves-train-loss.png";

    /// <summary>Writes the scatter of <paramref name="rows"/> and the curves of the runs' training records.</summary>
    /// <param name="outputDirectory">Folder of results.json; the PNG files go next to it.</param>
    /// <param name="rows">The rows of results.json.</param>
    /// <param name="runs">Run name and run folder (its <c>last/</c> or <c>best/</c> training.json holds the history).</param>
    public static void Write(string outputDirectory, IReadOnlyList<KdResultRow> rows, IReadOnlyList<(string Name, string Directory)> runs)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(runs);
        QualitySpeed(rows).WritePng(Path.Combine(outputDirectory, QualitySpeedFileName));
        Hearing(rows).WritePng(Path.Combine(outputDirectory, HearingFileName));
        var histories = runs
            .Select(run => (run.Name, History: History(run.Directory)))
            .Where(run => run.History.Count > 0)
            .ToArray();
        if (histories.Length == 0)
        {
            // A given teacher has no training record: until the first student has trained there are no curves to draw.
            return;
        }

        Curves(histories, "Validation CIDEr-D by epoch", "validation CIDEr-D", e => e.Validation.CiderD).WritePng(Path.Combine(outputDirectory, ValidationCurvesFileName));
        Curves(histories, "Training loss by epoch", "train loss (mean over the epoch)", e => e.TrainLoss).WritePng(Path.Combine(outputDirectory, LossCurvesFileName));
    }

    /// <summary>One point per method, label fraction and audio-only setting: the means over seeds.</summary>
    internal static ScatterChart QualitySpeed(IReadOnlyList<KdResultRow> rows)
    {
        var groups = rows
            .GroupBy(r => (r.Method, r.LabelledFraction, r.Unlabelled))
            .Select(g => (g.Key.Method, g.Key.LabelledFraction, Point: new DataPoint(
                g.Average(r => r.MsPerClip),
                g.Average(r => r.CiderD),
                g.Key.Method == KdReproduction.TeacherMethod ? g.Key.Method : string.Create(CultureInfo.InvariantCulture, $"{g.Key.Method} {g.Key.LabelledFraction:0.##}"))))
            .ToArray();
        // Series by label fraction (the teacher apart), so the colours tell full from scarce labels.
        var series = groups
            .GroupBy(g => g.Method == KdReproduction.TeacherMethod ? KdReproduction.TeacherMethod : string.Create(CultureInfo.InvariantCulture, $"labelled {g.LabelledFraction:0.##}"))
            .Select(g => new ChartSeries(g.Key, [.. g.Select(p => p.Point)]))
            .ToArray();
        return new ScatterChart
        {
            Title = "Test CIDEr-D against inference time (beam 3, batch 1, 1 thread)",
            XLabel = "ms per 10 s clip (log)",
            YLabel = "CIDEr-D",
            LogX = true,
            Width = 1000,
            Height = 640,
            Series = series,
        };
    }

    /// <summary>
    /// One group of bars per method, label fraction and audio-only setting (means over seeds): test CIDEr-D, isolated
    /// recall and event recall. A metric a row lacks (null) leaves a gap.
    /// </summary>
    internal static BarChart Hearing(IReadOnlyList<KdResultRow> rows)
    {
        static double Mean(IEnumerable<double?> values)
        {
            var all = values.ToArray();
            return all.All(v => v is not null) ? all.Average(v => v!.Value) : double.NaN;
        }

        var groups = rows
            .GroupBy(r => (r.Method, r.LabelledFraction, r.Unlabelled))
            .Select(g => new BarGroup(
                // Two lines (method, then fraction): ten groups of long method names would overlap on one.
                g.Key.Method == KdReproduction.TeacherMethod ? g.Key.Method : string.Create(CultureInfo.InvariantCulture, $"{g.Key.Method}\nlabelled {g.Key.LabelledFraction:0.##}"),
                [g.Average(r => r.CiderD), Mean(g.Select(r => r.IsolatedRecall)), Mean(g.Select(r => r.EventRecall))]))
            .ToArray();
        return new BarChart
        {
            Title = "Test CIDEr-D, isolated recall and event recall (beam 3)",
            YLabel = "score",
            SeriesNames = ["CIDEr-D", "isolated recall", "event recall"],
            Groups = groups,
            ValueFormat = "0.###",
            Width = 1400,
            Height = 640,
        };
    }

    internal static LineChart Curves(IReadOnlyList<(string Name, IReadOnlyList<EpochRecord> History)> runs, string title, string yLabel, Func<EpochRecord, double> value) => new()
    {
        Title = title,
        XLabel = "epoch",
        YLabel = yLabel,
        ShowMarkers = true,
        Width = 1000,
        Height = 640,
        Series = [.. runs.Select(run => new ChartSeries(run.Name, [.. run.History.Select(e => new DataPoint(e.Epoch, value(e)))]))],
    };

    /// <summary>The epochs of a run: <c>last/</c> has them all, <c>best/</c> those up to the best epoch.</summary>
    private static IReadOnlyList<EpochRecord> History(string runDirectory)
    {
        foreach (var folder in new[] { CaptionTrainer.LastDirectoryName, CaptionTrainer.BestDirectoryName })
        {
            var directory = Path.Combine(runDirectory, folder);
            if (File.Exists(Path.Combine(directory, TrainingRecord.FileName)))
            {
                return TrainingRecord.Load(directory).History;
            }
        }

        return [];
    }
}
