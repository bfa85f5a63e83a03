using System.Globalization;
using ScottPlot;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// A chart of series on two numeric axes. Validates the series and sets the x axis (linear or base-10 log); the subclass
/// adds the data, each point through <see cref="PlotX"/>.
/// </summary>
internal abstract class XyChart : Chart
{
    public required IReadOnlyList<ChartSeries> Series { get; init; }

    /// <summary>Base-10 log x axis (e.g. milliseconds per clip across models of very different speed).</summary>
    public bool LogX { get; init; }

    private protected sealed override void AddData(Plot plot)
    {
        var all = PlottablePoints(Series, LogX);
        AddSeries(plot);
        if (LogX)
        {
            plot.Axes.Bottom.TickGenerator = LogTicks(all.Min(p => p.X), all.Max(p => p.X));
        }
        else if (all.All(p => p.X == Math.Floor(p.X)))
        {
            // Epochs and tasks: no tick at 2.5.
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        }
    }

    /// <summary>Adds <see cref="Series"/>, skipping points that fail <see cref="IsPlottable"/>.</summary>
    private protected abstract void AddSeries(Plot plot);

    /// <summary>Where <paramref name="x"/> goes on the plot's x coordinate (its log10 on a log axis).</summary>
    private protected double PlotX(double x) => LogX ? Math.Log10(x) : x;

    /// <summary>Both coordinates finite; other points are missing values (NaN scores of a run that failed to evaluate).</summary>
    private protected static bool IsPlottable(DataPoint p) => double.IsFinite(p.X) && double.IsFinite(p.Y);

    /// <summary>The plottable points of <paramref name="series"/>, after checking each series has points (and positive x on a log axis).</summary>
    /// <exception cref="ArgumentException">No series, an empty one, x &lt;= 0 on a log axis, or no finite point at all.</exception>
    internal static DataPoint[] PlottablePoints(IReadOnlyList<ChartSeries> series, bool logX)
    {
        if (series is null || series.Count == 0)
        {
            throw new ArgumentException("A chart needs at least one series.", nameof(series));
        }

        var result = new List<DataPoint>();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i] ?? throw new ArgumentException($"Series {i} is null.", nameof(series));
            if (s.Points is null || s.Points.Count == 0)
            {
                throw new ArgumentException($"Series '{s.Name}' has no points.", nameof(series));
            }

            foreach (var p in s.Points)
            {
                if (logX && p.X <= 0)
                {
                    throw new ArgumentException($"Series '{s.Name}' has x = {p.X} on a log axis, which needs x > 0.", nameof(series));
                }
            }

            result.AddRange(s.Points.Where(IsPlottable));
        }

        return result.Count > 0
            ? [.. result]
            : throw new ArgumentException("No series has a point with finite x and y; nothing to plot.", nameof(series));
    }

    /// <summary>Ticks at 1, 2 and 5 times each power of ten between the data's ends (decades only past three of them).</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var low = (int)Math.Floor(Math.Log10(min));
        var high = (int)Math.Ceiling(Math.Log10(max));
        double[] steps = high - low > 3 ? [1] : [1, 2, 5];
        for (var decade = low; decade <= high; decade++)
        {
            foreach (var step in steps)
            {
                var value = step * Math.Pow(10, decade);
                if (value >= min / 2 && value <= max * 2)
                {
                    ticks.AddMajor(Math.Log10(value), value.ToString("G4", CultureInfo.InvariantCulture));
                }
            }
        }

        return ticks;
    }
}
