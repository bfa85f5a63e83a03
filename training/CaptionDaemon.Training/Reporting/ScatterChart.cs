using ScottPlot;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Markers at each point, with the point's label written beside it (quality against speed: one labelled point per
/// method). Series group the points by colour and shape.
/// </summary>
/// <example><code>
/// new ScatterChart
/// {
///     Title = "Quality against speed", XLabel = "ms per clip", YLabel = "CIDEr-D", LogX = true,
///     Series = [new ChartSeries("", [new(12.5, 0.41, "student"), new(240, 0.47, "teacher")])],
/// }.RenderPng();
/// </code></example>
internal sealed class ScatterChart : XyChart
{
    private const float MarkerSize = 11;
    private const float LabelSize = 13;

    private protected override void AddSeries(Plot plot)
    {
        for (var s = 0; s < Series.Count; s++)
        {
            var points = Series[s].Points.Where(IsPlottable).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            var markers = plot.Add.Markers(points.Select(p => PlotX(p.X)).ToArray(), points.Select(p => p.Y).ToArray(), ChartStyle.Marker(s), MarkerSize, ChartStyle.Series(s));
            markers.LegendText = Series[s].Name;
            foreach (var p in points.Where(p => !string.IsNullOrEmpty(p.Label)))
            {
                var label = plot.Add.Text(p.Label!, PlotX(p.X), p.Y);
                label.LabelFontName = ChartStyle.TextFont;
                label.LabelFontSize = LabelSize;
                label.LabelFontColor = Colors.Black.WithAlpha(0.85);
                label.LabelAlignment = Alignment.MiddleLeft;
                label.LabelOffsetX = (MarkerSize / 2) + 4;
            }
        }

        // Room for the labels right of the rightmost markers and for the markers at the edges.
        plot.Axes.Margins(left: 0.06, right: 0.2, bottom: 0.08, top: 0.08);
        plot.ShowLegend(Alignment.LowerRight);
    }
}
