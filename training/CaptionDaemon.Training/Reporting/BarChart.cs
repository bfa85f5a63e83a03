using System.Globalization;
using ScottPlot;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Grouped bars: one cluster per <see cref="BarGroup"/> along x, one bar per series inside it, from zero to the value
/// (negative values hang below zero). Each bar carries its value.
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

    /// <summary>The series (methods): legend entries, and the order of every group's values.</summary>
    public required IReadOnlyList<string> SeriesNames { get; init; }

    public required IReadOnlyList<BarGroup> Groups { get; init; }

    /// <summary>Format of the value written on each bar (invariant culture); empty for none.</summary>
    public string ValueFormat { get; init; } = "0.###";

    private protected override void AddData(Plot plot)
    {
        Validate();
        var values = Groups.SelectMany(g => g.Values).Where(double.IsFinite).ToArray();
        if (values.Length == 0)
        {
            throw new ArgumentException("No group has a finite value; nothing to plot.", nameof(Groups));
        }

        var width = GroupFill / SeriesNames.Count;
        for (var s = 0; s < SeriesNames.Count; s++)
        {
            var bars = new List<Bar>();
            for (var g = 0; g < Groups.Count; g++)
            {
                var value = Groups[g].Values[s];
                if (double.IsFinite(value))
                {
                    bars.Add(new Bar
                    {
                        Position = g - (GroupFill / 2) + ((s + 0.5) * width),
                        Value = value,
                        Size = width * 0.95,
                        FillColor = ChartStyle.Series(s),
                        LineWidth = 0,
                        Label = ValueFormat.Length == 0 ? "" : value.ToString(ValueFormat, CultureInfo.InvariantCulture),
                    });
                }
            }

            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = SeriesNames[s];
            plottable.ValueLabelStyle.FontName = ChartStyle.TextFont;
            plottable.ValueLabelStyle.FontSize = 11;
        }

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var g = 0; g < Groups.Count; g++)
        {
            ticks.AddMajor(g, Groups[g].Name);
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Grid.XAxisStyle.IsVisible = false;
        // Bars grow from zero: no margin below it when nothing is negative, room above for the values and the legend.
        plot.Axes.Margins(bottom: values.Min() >= 0 ? 0 : 0.1, top: 0.1 + (0.04 * SeriesNames.Count));
        plot.ShowLegend(Alignment.UpperRight);
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
