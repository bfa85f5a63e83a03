using System.Globalization;

namespace CaptionDaemon.Training.Reporting;

/// <summary>How the reproductions summarise one configuration's runs over several seeds.</summary>
internal static class SeedSpread
{
    /// <summary>"mean ± sample standard deviation" with four decimals (the deviation is 0 for a single value).</summary>
    public static string MeanSd(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var v = values.ToArray();
        if (v.Length == 0)
        {
            throw new ArgumentException("No values to summarise.", nameof(values));
        }

        var mean = v.Average();
        var sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, v.Length - 1));
        return string.Create(CultureInfo.InvariantCulture, $"{mean:0.0000} ± {sd:0.0000}");
    }
}
