namespace CaptionDaemon.Training.Reporting;

/// <summary>A legend line: a name drawn with its series' swatch.</summary>
internal readonly record struct LegendEntry(string Name, Rgb Colour, MarkerShape? Marker, bool Line);

/// <summary>
/// The laid-out chart: the canvas, the plot area inside margins sized to fit title, axis labels and tick labels, and the
/// axes mapping data to pixels. Charts draw their data through it; tests use it to find where a value landed.
/// </summary>
internal sealed class ChartFrame
{
    public const int TitleScale = 2;
    public const int LabelScale = 2;
    public const int TickScale = 2;
    public const int LegendScale = 2;
    public const int SmallScale = 1;

    private const int Pad = 10;
    private const int TickLength = 5;
    private const int TickGap = 4;
    private const int GridDash = 4;

    private readonly IReadOnlyList<string>? _categories;

    private ChartFrame(RasterCanvas canvas, PixelRect plotArea, ChartAxis? x, IReadOnlyList<string>? categories, ChartAxis y)
    {
        Canvas = canvas;
        PlotArea = plotArea;
        X = x;
        _categories = categories;
        Y = y;
    }

    public RasterCanvas Canvas { get; }

    /// <summary>Inside the axes' frame line: data pixels are drawn here only.</summary>
    public PixelRect PlotArea { get; }

    /// <summary>The numeric x axis; null when x is categories (bar groups).</summary>
    public ChartAxis? X { get; }

    public ChartAxis Y { get; }

    /// <summary>
    /// Sizes the margins for <paramref name="chart"/>'s texts and the axes' tick labels, then draws background, grid,
    /// frame, ticks, title and axis labels. Pass either a numeric <paramref name="x"/> or <paramref name="categories"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The chart is too small for its labels.</exception>
    public static ChartFrame Draw(Chart chart, ChartAxis? x, IReadOnlyList<string>? categories, ChartAxis y)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentNullException.ThrowIfNull(y);
        if ((x is null) == (categories is null))
        {
            throw new ArgumentException("Give a numeric x axis or categories, not both or neither.", nameof(x));
        }

        var xLabels = x?.Labels ?? categories!;
        var tickHeight = BitmapFont.MeasureHeight(TickScale);
        var labelHeight = BitmapFont.MeasureHeight(LabelScale);
        var yTickWidth = y.Labels.Max(l => BitmapFont.MeasureWidth(l, TickScale));
        var lastXTickWidth = x is null ? 0 : BitmapFont.MeasureWidth(xLabels[^1], TickScale);

        var top = Pad + (chart.Title.Length > 0 ? BitmapFont.MeasureHeight(TitleScale) + Pad : 0);
        var left = Pad + (chart.YLabel.Length > 0 ? labelHeight + Pad : 0) + yTickWidth + TickGap + TickLength;
        var bottom = Pad + (chart.XLabel.Length > 0 ? labelHeight + Pad : 0) + tickHeight + TickGap + TickLength;
        var right = Math.Max(Pad, (lastXTickWidth / 2) + Pad);
        var plot = new PixelRect(left, top, chart.Width - left - right, chart.Height - top - bottom);
        if (plot.Width < 50 || plot.Height < 50)
        {
            throw new ArgumentException(
                $"A {chart.Width}x{chart.Height} chart leaves a {plot.Width}x{plot.Height} plot area after its labels; make it larger.",
                nameof(chart));
        }

        var frame = new ChartFrame(new RasterCanvas(chart.Width, chart.Height, ChartPalette.Background), plot, x, categories, y);
        frame.DrawAxes(chart);
        return frame;
    }

    /// <summary>The column of <paramref name="value"/> on the numeric x axis.</summary>
    public int PixelX(double value)
    {
        if (X is null)
        {
            throw new InvalidOperationException("This chart's x axis is categories; use CategorySlot.");
        }

        return PlotArea.X + (int)Math.Round(X.Fraction(value) * (PlotArea.Width - 1));
    }

    public int PixelY(double value) => PlotArea.Bottom - 1 - (int)Math.Round(Y.Fraction(value) * (PlotArea.Height - 1));

    /// <summary>The columns of category <paramref name="index"/>: equal slots across the plot area.</summary>
    public PixelRect CategorySlot(int index)
    {
        var count = _categories?.Count ?? throw new InvalidOperationException("This chart's x axis is numeric; use PixelX.");
        var x0 = PlotArea.X + (int)Math.Round((double)index * PlotArea.Width / count);
        var x1 = PlotArea.X + (int)Math.Round((double)(index + 1) * PlotArea.Width / count);
        return new PixelRect(x0, PlotArea.Y, x1 - x0, PlotArea.Height);
    }

    /// <summary>Limits drawing to the plot area (true) or lets it reach the whole canvas again (false).</summary>
    public void ClipToPlot(bool clip) => Canvas.Clip = clip ? PlotArea : Canvas.Bounds;

    /// <summary>Limits drawing to the plot area grown by <paramref name="radius"/>: a marker on the edge of the data range overhangs the frame rather than be cut in half.</summary>
    public void ClipToPlotAndMarkers(int radius) => Canvas.Clip = PlotArea.Inflate(radius);

    /// <summary>Space between the plot area's edge and the legend box.</summary>
    public const int LegendInset = 8;

    /// <summary>Width of a legend entry's line, marker or colour sample.</summary>
    private const int LegendSwatchWidth = 20;

    /// <summary>The size in pixels of the legend box <see cref="DrawLegend"/> draws for <paramref name="entries"/> (0 x 0 for none).</summary>
    public static (int Width, int Height) MeasureLegend(IReadOnlyList<LegendEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var shown = entries.Where(e => e.Name.Length > 0).ToArray();
        if (shown.Length == 0)
        {
            return (0, 0);
        }

        var rowHeight = BitmapFont.MeasureHeight(LegendScale) + (3 * LegendScale);
        return (6 + LegendSwatchWidth + 6 + shown.Max(e => BitmapFont.MeasureWidth(e.Name, LegendScale)) + 8, 6 + (rowHeight * shown.Length) + 3);
    }

    /// <summary>
    /// Draws the legend in whichever corner of the plot area covers the fewest drawn data pixels. Entries with an empty
    /// name are left out; with none left there is no legend.
    /// </summary>
    public void DrawLegend(IReadOnlyList<LegendEntry> entries)
    {
        const int scale = LegendScale;
        ArgumentNullException.ThrowIfNull(entries);
        var shown = entries.Where(e => e.Name.Length > 0).ToArray();
        if (shown.Length == 0)
        {
            return;
        }

        var rowHeight = BitmapFont.MeasureHeight(scale) + (3 * scale);
        var (width, height) = MeasureLegend(shown);
        var box = PlaceBox(width, height, LegendInset);

        ClipToPlot(false);
        Canvas.FillRectangle(box, ChartPalette.Background);
        Canvas.DrawRectangle(box, ChartPalette.LegendBorder);
        for (var i = 0; i < shown.Length; i++)
        {
            var entry = shown[i];
            var rowTop = box.Y + 6 + (i * rowHeight);
            var middle = rowTop + (BitmapFont.CapHeight * scale / 2);
            var swatchLeft = box.X + 6;
            if (entry.Line)
            {
                Canvas.DrawLine(swatchLeft, middle, swatchLeft + LegendSwatchWidth - 1, middle, entry.Colour, width: 2);
            }

            if (entry.Marker is { } marker)
            {
                Canvas.FillMarker(marker, swatchLeft + (LegendSwatchWidth / 2), middle, 4, entry.Colour);
            }
            else if (!entry.Line)
            {
                Canvas.FillRectangle(new PixelRect(swatchLeft + 3, middle - 6, LegendSwatchWidth - 6, 12), entry.Colour);
            }

            Canvas.DrawText(entry.Name, swatchLeft + LegendSwatchWidth + 6, rowTop, ChartPalette.Text, scale);
        }
    }

    /// <summary>
    /// How many pixels of <paramref name="area"/> hold data or text rather than background or grid; used to put
    /// legends and labels where they hide the least.
    /// </summary>
    public int CountInk(PixelRect area)
    {
        var r = area.Intersect(Canvas.Bounds);
        var ink = 0;
        for (var y = r.Y; y < r.Bottom; y++)
        {
            for (var x = r.X; x < r.Right; x++)
            {
                var p = Canvas.GetPixel(x, y);
                if (p != ChartPalette.Background && p != ChartPalette.Grid)
                {
                    ink++;
                }
            }
        }

        return ink;
    }

    private PixelRect PlaceBox(int width, int height, int inset)
    {
        var area = PlotArea.Inflate(-inset);
        PixelRect[] corners =
        [
            new(area.Right - width, area.Y, width, height),
            new(area.X, area.Y, width, height),
            new(area.Right - width, area.Bottom - height, width, height),
            new(area.X, area.Bottom - height, width, height),
        ];
        var best = corners[0];
        var bestInk = int.MaxValue;
        foreach (var corner in corners)
        {
            // Strictly fewer, so ties keep the conventional top-right.
            var ink = CountInk(corner);
            if (ink < bestInk)
            {
                (best, bestInk) = (corner, ink);
            }
        }

        return best;
    }

    private void DrawAxes(Chart chart)
    {
        var canvas = Canvas;
        var frameBox = PlotArea.Inflate(1);
        var tickHeight = BitmapFont.MeasureHeight(TickScale);

        ClipToPlot(true);
        for (var i = 0; i < Y.Ticks.Count; i++)
        {
            var py = PixelY(Y.Ticks[i]);
            canvas.DrawLine(PlotArea.X, py, PlotArea.Right - 1, py, ChartPalette.Grid, dash: GridDash);
        }

        if (X is not null)
        {
            foreach (var tick in X.Ticks)
            {
                var px = PixelX(tick);
                canvas.DrawLine(px, PlotArea.Y, px, PlotArea.Bottom - 1, ChartPalette.Grid, dash: GridDash);
            }
        }

        ClipToPlot(false);
        canvas.DrawRectangle(frameBox, ChartPalette.Axis);
        var labelTop = frameBox.Bottom + TickLength + TickGap;
        for (var i = 0; i < Y.Ticks.Count; i++)
        {
            var py = PixelY(Y.Ticks[i]);
            canvas.DrawLine(frameBox.X - TickLength, py, frameBox.X - 1, py, ChartPalette.Axis);
            var label = Y.Labels[i];
            canvas.DrawText(
                label,
                frameBox.X - TickLength - TickGap - BitmapFont.MeasureWidth(label, TickScale),
                py - (BitmapFont.CapHeight * TickScale / 2),
                ChartPalette.Text,
                TickScale);
        }

        if (X is not null)
        {
            var labelledUpTo = int.MinValue;
            for (var i = 0; i < X.Ticks.Count; i++)
            {
                var px = PixelX(X.Ticks[i]);
                canvas.DrawLine(px, frameBox.Bottom, px, frameBox.Bottom + TickLength - 1, ChartPalette.Axis);
                // Many decades on a log axis can crowd the labels: a tick whose label would touch the last one stays unlabelled.
                var half = BitmapFont.MeasureWidth(X.Labels[i], TickScale) / 2;
                if (px - half > labelledUpTo + (2 * TickGap))
                {
                    labelledUpTo = DrawCentred(X.Labels[i], px, labelTop, TickScale);
                }
            }
        }
        else
        {
            for (var i = 0; i < _categories!.Count; i++)
            {
                var slot = CategorySlot(i);
                DrawCentred(_categories[i], slot.X + (slot.Width / 2), labelTop, TickScale);
            }
        }

        var plotCentre = PlotArea.X + (PlotArea.Width / 2);
        if (chart.Title.Length > 0)
        {
            DrawCentred(chart.Title, plotCentre, Pad, TitleScale);
        }

        if (chart.XLabel.Length > 0)
        {
            DrawCentred(chart.XLabel, plotCentre, labelTop + tickHeight + Pad, LabelScale);
        }

        if (chart.YLabel.Length > 0)
        {
            var length = BitmapFont.MeasureWidth(chart.YLabel, LabelScale);
            var y = Math.Clamp(PlotArea.Y + ((PlotArea.Height - length) / 2), 0, Math.Max(0, canvas.Height - length));
            canvas.DrawTextUpward(chart.YLabel, Pad, y, ChartPalette.Text, LabelScale);
        }
    }

    /// <summary>Text centred on column <paramref name="centre"/>, kept inside the canvas; returns its right edge.</summary>
    private int DrawCentred(string text, int centre, int top, int scale)
    {
        var width = BitmapFont.MeasureWidth(text, scale);
        var x = Math.Clamp(centre - (width / 2), 0, Math.Max(0, Canvas.Width - width));
        Canvas.DrawText(text, x, top, ChartPalette.Text, scale);
        return x + width;
    }
}
