using System.Globalization;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// One axis of a chart: its range, tick values and their labels, and the map from a value to a fraction of the axis
/// length. Linear axes step by 1, 2 or 5 times a power of ten and widen the data range to whole steps; log axes put
/// ticks on powers of ten (with 2 and 5 in between when the data spans less than two decades).
/// </summary>
internal sealed class ChartAxis
{
    private readonly double _low;
    private readonly double _span;

    private ChartAxis(bool isLog, double[] ticks, string[] labels)
    {
        IsLog = isLog;
        Ticks = ticks;
        Labels = labels;
        Min = ticks[0];
        Max = ticks[^1];
        _low = isLog ? Math.Log10(Min) : Min;
        _span = (isLog ? Math.Log10(Max) : Max) - _low;
    }

    public bool IsLog { get; }

    public double Min { get; }

    public double Max { get; }

    /// <summary>Tick values, ascending; the first and last are the ends of the axis.</summary>
    public IReadOnlyList<double> Ticks { get; }

    /// <summary>The label of each tick, invariant culture, with as many decimals as the step needs.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Where <paramref name="value"/> lies between <see cref="Min"/> (0) and <see cref="Max"/> (1).</summary>
    public double Fraction(double value) => ((IsLog ? Math.Log10(value) : value) - _low) / _span;

    /// <summary>
    /// A linear axis over [<paramref name="min"/>, <paramref name="max"/>] with about <paramref name="intervals"/> steps;
    /// <paramref name="integerSteps"/> keeps steps at 1 or more (epochs, task indices), never 0.5.
    /// </summary>
    /// <exception cref="ArgumentException">A bound is not finite or <paramref name="min"/> &gt; <paramref name="max"/>.</exception>
    public static ChartAxis Linear(double min, double max, int intervals, bool integerSteps = false)
    {
        CheckRange(min, max);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(intervals);
        if (max - min <= Math.Max(Math.Abs(max), 1) * 1e-12)
        {
            // One value (or all equal): show a small neighbourhood around it rather than divide by zero.
            var pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            (min, max) = (min - pad, max + pad);
        }

        var step = NiceStep((max - min) / intervals);
        if (integerSteps && step < 1)
        {
            step = 1;
        }

        // A small tolerance so a bound that is a whole step (0.6 / 0.2 = 2.9999...) does not grow an extra tick.
        var first = (long)Math.Floor((min / step) + 1e-9);
        var last = (long)Math.Ceiling((max / step) - 1e-9);
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        var plain = decimals <= 6 && Math.Max(Math.Abs(first), Math.Abs(last)) * step < 1e7;
        var ticks = new double[last - first + 1];
        var labels = new string[ticks.Length];
        for (var i = 0; i < ticks.Length; i++)
        {
            ticks[i] = Math.Round((first + i) * step, Math.Min(decimals, 15));
            labels[i] = plain
                ? ticks[i].ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
                : ticks[i].ToString("0.##E+0", CultureInfo.InvariantCulture);
        }

        return new ChartAxis(isLog: false, ticks, labels);
    }

    /// <summary>A base-10 log axis over [<paramref name="min"/>, <paramref name="max"/>], widened to whole decades.</summary>
    /// <exception cref="ArgumentException">A bound is not finite and positive or <paramref name="min"/> &gt; <paramref name="max"/>.</exception>
    public static ChartAxis Log(double min, double max)
    {
        CheckRange(min, max);
        if (min <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(min), min, "A log axis needs positive values.");
        }

        var low = (int)Math.Floor(Math.Log10(min) + 1e-9);
        var high = (int)Math.Ceiling(Math.Log10(max) - 1e-9);
        if (high == low)
        {
            high++;
        }

        var ticks = new List<double>();
        for (var exponent = low; exponent <= high; exponent++)
        {
            var decade = Math.Pow(10, exponent);
            ticks.Add(decade);
            if (high - low == 1 && exponent < high)
            {
                // A single decade with two ticks says little; 2 and 5 read naturally on a log scale.
                ticks.Add(2 * decade);
                ticks.Add(5 * decade);
            }
        }

        var labels = ticks.Select(t => t is >= 1e-4 and < 1e6
                ? t.ToString("0.####", CultureInfo.InvariantCulture)
                : t.ToString("0E+0", CultureInfo.InvariantCulture))
            .ToArray();
        return new ChartAxis(isLog: true, [.. ticks], labels);
    }

    /// <summary>1, 2 or 5 times a power of ten, the smallest not below <paramref name="raw"/>.</summary>
    private static double NiceStep(double raw)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var fraction = raw / magnitude;
        var nice = fraction <= 1 + 1e-9 ? 1 : fraction <= 2 + 1e-9 ? 2 : fraction <= 5 + 1e-9 ? 5 : 10;
        return nice * magnitude;
    }

    private static void CheckRange(double min, double max)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max))
        {
            throw new ArgumentException($"Axis bounds must be finite, got [{min}, {max}].", nameof(min));
        }

        if (min > max)
        {
            throw new ArgumentException($"Axis minimum {min} is above its maximum {max}.", nameof(min));
        }
    }
}
