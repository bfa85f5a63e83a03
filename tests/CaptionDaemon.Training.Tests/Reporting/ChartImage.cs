using ScottPlot;
using SkiaSharp;

namespace CaptionDaemon.Training.Tests.Reporting;

/// <summary>A chart's PNG decoded by Skia's PNG decoder (not the encoder that wrote it), for structural checks.</summary>
internal sealed class ChartImage
{
    private static readonly byte[] _signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly SKColor[] _pixels;

    private ChartImage(int width, int height, SKColor[] pixels)
    {
        Width = width;
        Height = height;
        _pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <exception cref="Xunit.Sdk.XunitException">Not a PNG, or it does not decode.</exception>
    public static ChartImage Decode(byte[] png)
    {
        Assert.True(png.AsSpan().StartsWith(_signature), "no PNG signature");
        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        return new ChartImage(bitmap.Width, bitmap.Height, bitmap.Pixels);
    }

    /// <summary>Share of pixels that are not the (white) background.</summary>
    public double InkShare => _pixels.Count(p => p.Red < 245 || p.Green < 245 || p.Blue < 245) / (double)_pixels.Length;

    /// <summary>Pixels within <paramref name="tolerance"/> of <paramref name="colour"/> in each channel.</summary>
    public int CountNear(Color colour, int tolerance = 24) =>
        _pixels.Count(p => Math.Abs(p.Red - colour.R) <= tolerance && Math.Abs(p.Green - colour.G) <= tolerance && Math.Abs(p.Blue - colour.B) <= tolerance);
}
