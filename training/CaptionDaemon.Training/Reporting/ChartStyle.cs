using ScottPlot;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// The look every chart shares: DejaVu Sans (Debian's fonts-dejavu-core, which CI installs) so that charts read the same
/// on every machine, the colour-blind-safe Okabe-Ito palette, and a marker shape per series so that a grey print still
/// tells series apart.
/// </summary>
internal static class ChartStyle
{
    /// <summary>The font family of every text; when it is not installed, ScottPlot's detected default is used.</summary>
    public const string FontFamily = "DejaVu Sans";

    private static readonly Color[] _series = new ScottPlot.Palettes.ColorblindFriendly().Colors;

    private static readonly Lazy<bool> _fontInstalled = new(() =>
    {
        using var typeface = SkiaSharp.SKFontManager.Default.MatchFamily(FontFamily);
        return typeface is not null && typeface.FamilyName == FontFamily;
    });

    private static readonly MarkerShape[] _markers =
        [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledDiamond, MarkerShape.FilledTriangleUp];

    public static Color Series(int index) => _series[index % _series.Length];

    /// <summary>The marker of series <paramref name="index"/>; shifted once per colour cycle so that no two series match up to 32.</summary>
    public static MarkerShape Marker(int index) => _markers[(index + (index / _series.Length)) % _markers.Length];

    /// <summary>Whether <see cref="FontFamily"/> is installed (else texts fall back to another family).</summary>
    public static bool FontInstalled => _fontInstalled.Value;

    public static void Apply(Plot plot)
    {
        if (FontInstalled)
        {
            plot.Font.Set(FontFamily);
        }

        plot.Axes.Title.Label.FontSize = 18;
    }

    /// <summary>The font for text plottables (labels beside points, values on bars).</summary>
    public static string TextFont => FontInstalled ? FontFamily : Fonts.Default;
}
