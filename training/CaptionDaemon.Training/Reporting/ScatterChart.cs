namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Markers at each point, with the point's label written beside it where it hides the least (quality against speed:
/// one labelled point per method). Series group the points by colour and shape.
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
    private const int MarkerRadius = 5;
    private const int LabelGap = 4;
    private const int LabelScale = ChartFrame.TickScale;

    private protected override double RangePadding => 0.06;

    private protected override void DrawData(ChartFrame frame)
    {
        var canvas = frame.Canvas;
        frame.ClipToPlotAndMarkers(MarkerRadius + 1);
        for (var s = 0; s < Series.Count; s++)
        {
            foreach (var p in Series[s].Points.Where(IsPlottable))
            {
                var (x, y) = (frame.PixelX(p.X), frame.PixelY(p.Y));
                // A white halo keeps overlapping markers apart.
                canvas.FillMarker(ChartPalette.Marker(s), x, y, MarkerRadius + 1, ChartPalette.Background);
                canvas.FillMarker(ChartPalette.Marker(s), x, y, MarkerRadius, ChartPalette.Series(s));
            }
        }

        // Labels after every marker, so placement sees them all.
        frame.ClipToPlot(true);
        for (var s = 0; s < Series.Count; s++)
        {
            foreach (var p in Series[s].Points.Where(p => IsPlottable(p) && !string.IsNullOrEmpty(p.Label)))
            {
                DrawLabel(frame, p.Label!, frame.PixelX(p.X), frame.PixelY(p.Y));
            }
        }
    }

    private protected override LegendEntry Swatch(string name, Rgb colour, MarkerShape marker) => new(name, colour, marker, Line: false);

    /// <summary>Right of the marker, else left, above or below: the first place inside the plot that covers nothing, else the least covered.</summary>
    private static void DrawLabel(ChartFrame frame, string label, int x, int y)
    {
        var width = BitmapFont.MeasureWidth(label, LabelScale);
        var height = BitmapFont.CapHeight * LabelScale;
        var offset = MarkerRadius + LabelGap;
        PixelRect[] candidates =
        [
            new(x + offset, y - (height / 2), width, height),
            new(x - offset - width, y - (height / 2), width, height),
            new(x - (width / 2), y - offset - height, width, height),
            new(x - (width / 2), y + offset, width, height),
        ];
        var best = candidates[0];
        var bestCost = int.MaxValue;
        foreach (var candidate in candidates)
        {
            // Leaving the plot area is worse than covering a few pixels.
            var cost = (frame.PlotArea.Contains(candidate) ? 0 : 1_000_000) + frame.CountInk(candidate.Inflate(1));
            if (cost < bestCost)
            {
                (best, bestCost) = (candidate, cost);
            }
        }

        frame.Canvas.DrawText(label, best.X, best.Y, ChartPalette.Text, LabelScale);
    }
}
