namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Lines through each series' points in the order given (training curves, quality per task). A missing point breaks
/// the line; a point with no neighbour to join gets a marker so it is never invisible.
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
    private const int LineWidth = 2;
    private const int MarkerRadius = 4;

    /// <summary>A marker on every point, not only isolated ones (few points, e.g. one per task).</summary>
    public bool ShowMarkers { get; init; }

    private protected override void DrawData(ChartFrame frame)
    {
        for (var s = 0; s < Series.Count; s++)
        {
            var points = Series[s].Points;
            var colour = ChartPalette.Series(s);
            for (var i = 1; i < points.Count; i++)
            {
                if (IsPlottable(points[i - 1]) && IsPlottable(points[i]))
                {
                    frame.Canvas.DrawLine(
                        frame.PixelX(points[i - 1].X), frame.PixelY(points[i - 1].Y),
                        frame.PixelX(points[i].X), frame.PixelY(points[i].Y),
                        colour, LineWidth);
                }
            }
        }

        // Markers after all lines, so a later series' line never hides an earlier series' marker.
        frame.ClipToPlotAndMarkers(MarkerRadius + 1);
        for (var s = 0; s < Series.Count; s++)
        {
            var points = Series[s].Points;
            for (var i = 0; i < points.Count; i++)
            {
                var isolated = (i == 0 || !IsPlottable(points[i - 1])) && (i == points.Count - 1 || !IsPlottable(points[i + 1]));
                if (IsPlottable(points[i]) && (ShowMarkers || isolated))
                {
                    frame.Canvas.FillMarker(
                        ChartPalette.Marker(s), frame.PixelX(points[i].X), frame.PixelY(points[i].Y), MarkerRadius, ChartPalette.Series(s));
                }
            }
        }

        frame.ClipToPlot(true);
    }

    private protected override LegendEntry Swatch(string name, Rgb colour, MarkerShape marker) =>
        new(name, colour, ShowMarkers ? marker : null, Line: true);
}
