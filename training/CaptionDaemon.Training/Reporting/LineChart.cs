using ScottPlot;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Lines through each series' points in the order given (training curves, quality per task). A missing point breaks
/// the line; a point with no neighbour to join gets a marker so it is never invisible. Series in
/// <see cref="RightSeries"/> are drawn against a second y axis on the right (a loss beside a score).
/// </summary>
/// <example><code>
/// new LineChart
/// {
///     Title = "Training", XLabel = "epoch", YLabel = "val CIDEr-D",
///     Series = [new ChartSeries("baseline", [new(1, 0.21), new(2, 0.34), new(3, 0.40)])],
/// }.WritePng("reports/curves.png");
/// </code></example>
internal sealed class LineChart : XyChart
{
    private const float LineWidth = 2;
    private const float MarkerSize = 8;

    /// <summary>A marker on every point, not only isolated ones (few points, e.g. one per task).</summary>
    public bool ShowMarkers { get; init; }

    /// <summary>Series against the right y axis, coloured after <see cref="XyChart.Series"/>.</summary>
    public IReadOnlyList<ChartSeries> RightSeries { get; init; } = [];

    /// <summary>The label of the right y axis.</summary>
    public string RightYLabel { get; init; } = "";

    private protected override void AddSeries(Plot plot)
    {
        for (var s = 0; s < Series.Count; s++)
        {
            AddLine(plot, Series[s], s, plot.Axes.Left);
        }

        if (RightSeries.Count > 0)
        {
            PlottablePoints(RightSeries, LogX);
            for (var s = 0; s < RightSeries.Count; s++)
            {
                AddLine(plot, RightSeries[s], Series.Count + s, plot.Axes.Right);
            }

            plot.Axes.Right.Label.Text = RightYLabel;
        }

        plot.ShowLegend(Alignment.LowerRight);
    }

    /// <summary>One scatter per unbroken run of points, in the series' colour; the legend names the series once.</summary>
    private void AddLine(Plot plot, ChartSeries series, int index, IYAxis yAxis)
    {
        var named = false;
        var points = series.Points;
        for (var start = 0; start < points.Count;)
        {
            if (!IsPlottable(points[start]))
            {
                start++;
                continue;
            }

            var end = start;
            while (end + 1 < points.Count && IsPlottable(points[end + 1]))
            {
                end++;
            }

            var run = points.Skip(start).Take(end - start + 1).ToArray();
            var line = plot.Add.Scatter(run.Select(p => PlotX(p.X)).ToArray(), run.Select(p => p.Y).ToArray(), ChartStyle.Series(index));
            line.Axes.YAxis = yAxis;
            line.LineWidth = LineWidth;
            line.MarkerShape = ChartStyle.Marker(index);
            line.MarkerSize = ShowMarkers || run.Length == 1 ? MarkerSize : 0;
            if (!named)
            {
                line.LegendText = series.Name;
                named = true;
            }

            start = end + 1;
        }
    }
}
