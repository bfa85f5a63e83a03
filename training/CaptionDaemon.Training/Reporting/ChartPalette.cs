namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Fixed colours: the Okabe-Ito palette, which stays distinct under the common colour-vision deficiencies, ordered so
/// the first series contrast most with white (yellow last). Markers cycle through shapes too, so series differ in
/// print and past the eighth colour.
/// </summary>
internal static class ChartPalette
{
    private static readonly Rgb[] _series =
    [
        Rgb.FromHex(0x0072B2), // blue
        Rgb.FromHex(0xD55E00), // vermillion
        Rgb.FromHex(0x009E73), // bluish green
        Rgb.FromHex(0xCC79A7), // reddish purple
        Rgb.FromHex(0xE69F00), // orange
        Rgb.FromHex(0x56B4E9), // sky blue
        Rgb.FromHex(0x000000), // black
        Rgb.FromHex(0xF0E442), // yellow
    ];

    private static readonly MarkerShape[] _markers = Enum.GetValues<MarkerShape>();

    public static Rgb Background => Rgb.White;

    public static Rgb Text { get; } = Rgb.FromHex(0x202020);

    public static Rgb Axis { get; } = Rgb.FromHex(0x404040);

    public static Rgb Grid { get; } = Rgb.FromHex(0xCCCCCC);

    public static Rgb LegendBorder { get; } = Rgb.FromHex(0x999999);

    public static int SeriesCount => _series.Length;

    public static Rgb Series(int index) => _series[index % _series.Length];

    /// <summary>The marker of series <paramref name="index"/>; shifted once per colour cycle so no two series match up to 32.</summary>
    public static MarkerShape Marker(int index) => _markers[(index + (index / _series.Length)) % _markers.Length];
}
