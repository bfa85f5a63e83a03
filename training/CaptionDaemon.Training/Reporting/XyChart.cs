namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// A chart of series on two numeric axes. Validates the series, fits the axes to the finite points and draws the
/// frame; the subclass draws the data and names its legend swatch.
/// </summary>
internal abstract class XyChart : Chart
{
    public required IReadOnlyList<ChartSeries> Series { get; init; }

    /// <summary>Base-10 log x axis (e.g. milliseconds per clip across models of very different speed).</summary>
    public bool LogX { get; init; }

    /// <summary>Widening of the data range on each side, as a fraction of it, so markers do not sit on the frame.</summary>
    private protected virtual double RangePadding => 0;

    public sealed override ChartFrame Render()
    {
        var all = PlottablePoints();
        if (all.Length == 0)
        {
            throw new ArgumentException("No series has a point with finite x and y; nothing to plot.", nameof(Series));
        }

        var (xMin, xMax) = Pad(all.Min(p => p.X), all.Max(p => p.X), LogX);
        var (yMin, yMax) = Pad(all.Min(p => p.Y), all.Max(p => p.Y), log: false);
        var integerX = all.All(p => p.X == Math.Floor(p.X));
        // About one x tick per 100 pixels and one y tick per 60 keeps labels apart at the default size.
        var x = LogX ? ChartAxis.Log(xMin, xMax) : ChartAxis.Linear(xMin, xMax, Math.Max(2, (Width - 150) / 100), integerX);
        var y = ChartAxis.Linear(yMin, yMax, Math.Max(2, (Height - 120) / 60));
        var frame = ChartFrame.Draw(this, x, categories: null, y);

        frame.ClipToPlot(true);
        DrawData(frame);
        frame.ClipToPlot(false);
        frame.DrawLegend(
            Series.Select((s, i) => Swatch(s.Name, ChartPalette.Series(i), ChartPalette.Marker(i))).ToArray());
        return frame;
    }

    /// <summary>Draws <see cref="Series"/>, skipping points that fail <see cref="IsPlottable"/>.</summary>
    private protected abstract void DrawData(ChartFrame frame);

    private protected abstract LegendEntry Swatch(string name, Rgb colour, MarkerShape marker);

    /// <summary>Both coordinates finite; other points are missing values (NaN scores of a run that failed to evaluate).</summary>
    private protected static bool IsPlottable(DataPoint p) => double.IsFinite(p.X) && double.IsFinite(p.Y);

    /// <summary>The plottable points of all series, after checking each series has points (and positive x on a log axis).</summary>
    private DataPoint[] PlottablePoints()
    {
        if (Series is null || Series.Count == 0)
        {
            throw new ArgumentException("A chart needs at least one series.", nameof(Series));
        }

        var result = new List<DataPoint>();
        for (var i = 0; i < Series.Count; i++)
        {
            var series = Series[i] ?? throw new ArgumentException($"Series {i} is null.", nameof(Series));
            if (series.Points is null || series.Points.Count == 0)
            {
                throw new ArgumentException($"Series '{series.Name}' has no points.", nameof(Series));
            }

            foreach (var p in series.Points)
            {
                if (LogX && p.X <= 0)
                {
                    throw new ArgumentException($"Series '{series.Name}' has x = {p.X} on a log axis, which needs x > 0.", nameof(Series));
                }
            }

            result.AddRange(series.Points.Where(IsPlottable));
        }

        return [.. result];
    }

    private (double Min, double Max) Pad(double min, double max, bool log)
    {
        var padding = RangePadding;
        if (padding <= 0 || min == max)
        {
            return (min, max);
        }

        if (log)
        {
            var factor = Math.Pow(max / min, padding);
            return (min / factor, max * factor);
        }

        var pad = (max - min) * padding;
        // Scores and times are not negative: padding must not invent a negative tick below a zero minimum.
        return (min >= 0 ? Math.Max(0, min - pad) : min - pad, max <= 0 ? Math.Min(0, max + pad) : max + pad);
    }
}
