namespace CaptionDaemon.Training.Reporting;

/// <summary>One point of a series; <paramref name="Label"/> is written next to it by <see cref="ScatterChart"/>.
/// A non-finite coordinate marks a missing value: the point is skipped (and breaks a line).</summary>
internal readonly record struct DataPoint(double X, double Y, string? Label = null);

/// <summary>A named sequence of points: one run's curve, one method's per-task scores, one group of methods.</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<DataPoint> Points);

/// <summary>A cluster of bars: one value for each of <see cref="BarChart.SeriesNames"/>, in that order; NaN leaves a gap.</summary>
internal sealed record BarGroup(string Name, IReadOnlyList<double> Values);
