using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

/// <summary>Charts shaped like the trainer's reports, with made-up but plausible numbers.</summary>
internal static class ExampleCharts
{
    public static ScatterChart QualityAgainstSpeed() => new()
    {
        Title = "Clotho eval: quality against speed",
        XLabel = "ms per 10 s clip (log)",
        YLabel = "CIDEr-D",
        LogX = true,
        Series =
        [
            new ChartSeries("published", [new(310, 0.492, "EnCLAP-large"), new(95, 0.461, "CNN14-Trans"), new(1200, 0.502, "Whisper-AAC")]),
            new ChartSeries("ours", [new(7.5, 0.352, "student-tiny"), new(14, 0.401, "student-small"), new(48, 0.438, "teacher")]),
        ],
    };

    public static LineChart TrainingCurves() => new()
    {
        Title = "Validation CIDEr-D per epoch",
        XLabel = "epoch",
        YLabel = "val CIDEr-D",
        Series =
        [
            new ChartSeries("supervised", Curve(0.42, 0.30, 20)),
            new ChartSeries("distilled", Curve(0.46, 0.25, 20)),
            new ChartSeries("distilled + mixup", Curve(0.47, 0.22, 20)),
        ],
    };

    public static LineChart QualityPerTask() => new()
    {
        Title = "Class-incremental: CIDEr-D on all tasks seen",
        XLabel = "task",
        YLabel = "CIDEr-D",
        ShowMarkers = true,
        Series =
        [
            new ChartSeries("fine-tune", [new(1, 0.45), new(2, 0.31), new(3, 0.24), new(4, 0.19), new(5, 0.16), new(6, 0.14)]),
            new ChartSeries("EWC", [new(1, 0.45), new(2, 0.36), new(3, 0.31), new(4, 0.27), new(5, 0.25), new(6, 0.23)]),
            new ChartSeries("replay", [new(1, 0.45), new(2, 0.41), new(3, 0.38), new(4, 0.36), new(5, 0.35), new(6, 0.33)]),
            new ChartSeries("joint (upper bound)", [new(1, 0.45), new(2, 0.44), new(3, 0.44), new(4, 0.43), new(5, 0.43), new(6, 0.43)]),
        ],
    };

    public static BarChart Forgetting() => new()
    {
        Title = "Average forgetting",
        XLabel = "setting",
        YLabel = "CIDEr-D drop",
        SeriesNames = ["fine-tune", "EWC", "LwF", "replay"],
        Groups =
        [
            new BarGroup("3 tasks", [0.214, 0.121, 0.097, 0.048]),
            new BarGroup("6 tasks", [0.331, 0.187, 0.142, 0.071]),
        ],
    };

    private static DataPoint[] Curve(double plateau, double rate, int epochs) =>
        [.. Enumerable.Range(1, epochs).Select(e => new DataPoint(e, plateau * (1 - Math.Exp(-rate * e))))];
}
