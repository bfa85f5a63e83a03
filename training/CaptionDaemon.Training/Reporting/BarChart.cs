using System.Globalization;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Grouped bars: one cluster per <see cref="BarGroup"/> along x, one bar per series inside it, from zero to the value
/// (negative values hang below zero). Each bar carries its value when the label fits above it.
/// </summary>
/// <example><code>
/// new BarChart
/// {
///     Title = "Forgetting", YLabel = "CIDEr-D drop",
///     SeriesNames = ["fine-tune", "EWC", "replay"],
///     Groups = [new BarGroup("3 tasks", [0.21, 0.12, 0.05]), new BarGroup("6 tasks", [0.33, 0.19, 0.08])],
/// }.WritePng("reports/forgetting.png");
/// </code></example>
internal sealed class BarChart : Chart
{
    /// <summary>Share of a group's slot filled by its bars; the rest separates groups.</summary>
    private const double GroupFill = 0.75;
    private const int ValueScale = ChartFrame.SmallScale;

    /// <summary>The series (methods): legend entries, and the order of every group's values.</summary>
    public required IReadOnlyList<string> SeriesNames { get; init; }

    public required IReadOnlyList<BarGroup> Groups { get; init; }

    /// <summary>Format of the value written on each bar (invariant culture); empty for none.</summary>
    public string ValueFormat { get; init; } = "0.###";

    public override ChartFrame Render()
    {
        Validate();
        var values = Groups.SelectMany(g => g.Values).Where(double.IsFinite).ToArray();
        if (values.Length == 0)
        {
            throw new ArgumentException("No group has a finite value; nothing to plot.", nameof(Groups));
        }

        // Bars start at zero, so zero is always on the axis. Many series make a tall legend, which would hide the
        // tallest bars in every corner: the axis then reaches higher, so that all bars and their values stay below it.
        var legend = SeriesNames.Select((n, i) => new LegendEntry(n, ChartPalette.Series(i), null, Line: false)).ToArray();
        var (low, high) = (Math.Min(0, values.Min()), Math.Max(0, values.Max()));
        var frame = DrawFrame(low, high);
        var headroom = ChartFrame.MeasureLegend(legend).Height + (2 * ChartFrame.LegendInset) + (BitmapFont.CapHeight * ValueScale) + 3;
        var share = headroom / (double)frame.PlotArea.Height;
        if (high > 0 && share < 0.5 && frame.PixelY(high) < frame.PlotArea.Y + headroom)
        {
            // With the axis from m to t, 'high' sits (t - high) / (t - m) of the height below the top; solve for t.
            frame = DrawFrame(low, (high - (share * frame.Y.Min)) / (1 - share));
        }

        var canvas = frame.Canvas;
        var zero = frame.PixelY(0);

        for (var g = 0; g < Groups.Count; g++)
        {
            foreach (var (bar, value, s) in Bars(frame, g))
            {
                var top = frame.PixelY(value);
                var rect = value >= 0
                    ? new PixelRect(bar.X, top, bar.Width, zero - top + 1)
                    : new PixelRect(bar.X, zero, bar.Width, top - zero + 1);
                frame.ClipToPlot(true);
                canvas.FillRectangle(rect, ChartPalette.Series(s));
                frame.ClipToPlot(false);
                DrawValue(frame, value, rect);
            }
        }

        frame.ClipToPlot(true);
        canvas.DrawLine(frame.PlotArea.X, zero, frame.PlotArea.Right - 1, zero, ChartPalette.Axis);
        frame.ClipToPlot(false);
        frame.DrawLegend(legend);
        return frame;
    }

    private ChartFrame DrawFrame(double low, double high) =>
        ChartFrame.Draw(this, x: null, Groups.Select(g => g.Name).ToArray(), ChartAxis.Linear(low, high, Math.Max(2, (Height - 120) / 60)));

    /// <summary>The columns of each drawn bar of group <paramref name="group"/>, with its value and series index.</summary>
    internal IEnumerable<(PixelRect Columns, double Value, int Series)> Bars(ChartFrame frame, int group)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var slot = frame.CategorySlot(group);
        var barWidth = Math.Max(1, (int)(slot.Width * GroupFill / SeriesNames.Count));
        var left = slot.X + ((slot.Width - (barWidth * SeriesNames.Count)) / 2);
        for (var s = 0; s < SeriesNames.Count; s++)
        {
            var value = Groups[group].Values[s];
            if (double.IsFinite(value))
            {
                // One pixel of white between neighbours keeps equal-height bars apart.
                yield return (new PixelRect(left + (s * barWidth), slot.Y, Math.Max(1, barWidth - 1), slot.Height), value, s);
            }
        }
    }

    private void DrawValue(ChartFrame frame, double value, PixelRect bar)
    {
        if (ValueFormat.Length == 0)
        {
            return;
        }

        var text = value.ToString(ValueFormat, CultureInfo.InvariantCulture);
        var width = BitmapFont.MeasureWidth(text, ValueScale);
        var height = BitmapFont.CapHeight * ValueScale;
        if (width > bar.Width + 4)
        {
            return;
        }

        var top = value >= 0 ? bar.Y - height - 3 : bar.Bottom + 3;
        var label = new PixelRect(bar.X + ((bar.Width - width) / 2), top, width, height);
        if (frame.PlotArea.Contains(label))
        {
            frame.Canvas.DrawText(text, label.X, label.Y, ChartPalette.Text, ValueScale);
        }
    }

    private void Validate()
    {
        if (SeriesNames is null || SeriesNames.Count == 0)
        {
            throw new ArgumentException("A bar chart needs at least one series name.", nameof(SeriesNames));
        }

        if (Groups is null || Groups.Count == 0)
        {
            throw new ArgumentException("A bar chart needs at least one group.", nameof(Groups));
        }

        foreach (var group in Groups)
        {
            if (group?.Values is null || group.Values.Count != SeriesNames.Count)
            {
                throw new ArgumentException(
                    $"Group '{group?.Name}' has {group?.Values?.Count ?? 0} values for {SeriesNames.Count} series; give one per series (NaN for none).",
                    nameof(Groups));
            }
        }
    }
}
