namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// An RGB raster with the few primitives charts need: rectangles, Bresenham lines (thick, dashed), filled markers and
/// text in <see cref="BitmapFont"/>. No anti-aliasing: flat colours keep PNGs small and pixels testable. Every drawing
/// call stays inside <see cref="Clip"/>.
/// </summary>
internal sealed class RasterCanvas
{
    private readonly byte[] _pixels;
    private PixelRect _clip;

    public RasterCanvas(int width, int height, Rgb background)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Width = width;
        Height = height;
        _pixels = new byte[width * height * 3];
        _clip = Bounds;
        FillRectangle(Bounds, background);
    }

    public int Width { get; }

    public int Height { get; }

    public PixelRect Bounds => new(0, 0, Width, Height);

    /// <summary>Rows top to bottom, 3 bytes (R, G, B) a pixel.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>Where drawing lands; set to the plot area so data never paints over axes and labels.</summary>
    public PixelRect Clip
    {
        get => _clip;
        set => _clip = value.Intersect(Bounds);
    }

    public Rgb GetPixel(int x, int y)
    {
        if (!Bounds.Contains(x, y))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside the {Width}x{Height} canvas.");
        }

        var i = ((y * Width) + x) * 3;
        return new Rgb(_pixels[i], _pixels[i + 1], _pixels[i + 2]);
    }

    public void SetPixel(int x, int y, Rgb colour)
    {
        if (!_clip.Contains(x, y))
        {
            return;
        }

        var i = ((y * Width) + x) * 3;
        _pixels[i] = colour.R;
        _pixels[i + 1] = colour.G;
        _pixels[i + 2] = colour.B;
    }

    public void FillRectangle(PixelRect rect, Rgb colour)
    {
        var r = rect.Intersect(_clip);
        for (var y = r.Y; y < r.Bottom; y++)
        {
            for (var x = r.X; x < r.Right; x++)
            {
                SetPixel(x, y, colour);
            }
        }
    }

    /// <summary>A one-pixel outline just inside <paramref name="rect"/>.</summary>
    public void DrawRectangle(PixelRect rect, Rgb colour)
    {
        FillRectangle(rect with { Height = 1 }, colour);
        FillRectangle(rect with { Y = rect.Bottom - 1, Height = 1 }, colour);
        FillRectangle(rect with { Width = 1 }, colour);
        FillRectangle(rect with { X = rect.Right - 1, Width = 1 }, colour);
    }

    /// <summary>
    /// A Bresenham line between pixel centres. <paramref name="width"/> stamps a square brush on every step;
    /// <paramref name="dash"/> &gt; 0 draws that many pixels, skips as many, and so on.
    /// </summary>
    public void DrawLine(int x0, int y0, int x1, int y1, Rgb colour, int width = 1, int dash = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        var dx = Math.Abs(x1 - x0);
        var dy = -Math.Abs(y1 - y0);
        var sx = x0 < x1 ? 1 : -1;
        var sy = y0 < y1 ? 1 : -1;
        var error = dx + dy;
        var lo = -(width - 1) / 2;
        var hi = width / 2;
        for (var step = 0; ; step++)
        {
            if (dash <= 0 || (step / dash) % 2 == 0)
            {
                for (var by = lo; by <= hi; by++)
                {
                    for (var bx = lo; bx <= hi; bx++)
                    {
                        SetPixel(x0 + bx, y0 + by, colour);
                    }
                }
            }

            if (x0 == x1 && y0 == y1)
            {
                return;
            }

            var e2 = 2 * error;
            if (e2 >= dy)
            {
                error += dy;
                x0 += sx;
            }

            if (e2 <= dx)
            {
                error += dx;
                y0 += sy;
            }
        }
    }

    /// <summary>A filled marker centred on (<paramref name="cx"/>, <paramref name="cy"/>) spanning about 2 * radius + 1 pixels.</summary>
    public void FillMarker(MarkerShape shape, int cx, int cy, int radius, Rgb colour)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        // Shapes are sized to look about equally heavy: a square of the same radius is much darker than a circle.
        var square = (int)Math.Round(radius * 0.85);
        var diamond = (int)Math.Round(radius * 1.25);
        for (var dy = -diamond; dy <= diamond; dy++)
        {
            for (var dx = -diamond; dx <= diamond; dx++)
            {
                var inside = shape switch
                {
                    MarkerShape.Circle => (dx * dx) + (dy * dy) <= (radius * radius) + radius,
                    MarkerShape.Square => Math.Abs(dx) <= square && Math.Abs(dy) <= square,
                    MarkerShape.Diamond => Math.Abs(dx) + Math.Abs(dy) <= diamond,
                    MarkerShape.Triangle => dy >= -radius && dy <= radius && 2 * Math.Abs(dx) <= dy + radius,
                    _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown marker shape."),
                };
                if (inside)
                {
                    SetPixel(cx + dx, cy + dy, colour);
                }
            }
        }
    }

    /// <summary>Text with its top-left corner at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public void DrawText(string text, int x, int y, Rgb colour, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        for (var i = 0; i < text.Length; i++)
        {
            var left = x + (i * BitmapFont.Advance * scale);
            ForEachGlyphPixel(text[i], scale, (u, v) => SetPixel(left + u, y + v, colour));
        }
    }

    /// <summary>
    /// Text turned 90 degrees anticlockwise, reading upwards (a y-axis label); (<paramref name="x"/>, <paramref name="y"/>)
    /// is the top-left of the turned box, which is <see cref="BitmapFont.MeasureHeight"/> wide and
    /// <see cref="BitmapFont.MeasureWidth"/> tall.
    /// </summary>
    public void DrawTextUpward(string text, int x, int y, Rgb colour, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        var length = BitmapFont.MeasureWidth(text, scale);
        for (var i = 0; i < text.Length; i++)
        {
            var along = i * BitmapFont.Advance * scale;
            // Along the text runs bottom to top; the glyph's top faces left.
            ForEachGlyphPixel(text[i], scale, (u, v) => SetPixel(x + v, y + length - 1 - (along + u), colour));
        }
    }

    private static void ForEachGlyphPixel(char c, int scale, Action<int, int> plot)
    {
        for (var row = 0; row < BitmapFont.GlyphHeight; row++)
        {
            for (var column = 0; column < BitmapFont.GlyphWidth; column++)
            {
                if (!BitmapFont.IsSet(c, column, row))
                {
                    continue;
                }

                for (var sy = 0; sy < scale; sy++)
                {
                    for (var sx = 0; sx < scale; sx++)
                    {
                        plot((column * scale) + sx, (row * scale) + sy);
                    }
                }
            }
        }
    }
}
