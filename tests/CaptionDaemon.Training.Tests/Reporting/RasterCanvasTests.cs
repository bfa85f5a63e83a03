using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

public sealed class RasterCanvasTests
{
    private static readonly Rgb _red = Rgb.FromHex(0xFF0000);

    [Fact]
    public void DrawLine_HorizontalWidthTwo_CoversExactlyTwoRows()
    {
        var canvas = new RasterCanvas(20, 10, Rgb.White);

        canvas.DrawLine(2, 4, 17, 4, _red, width: 2);

        for (var x = 2; x <= 17; x++)
        {
            Assert.Equal(_red, canvas.GetPixel(x, 4));
            Assert.Equal(_red, canvas.GetPixel(x, 5));
            Assert.Equal(Rgb.White, canvas.GetPixel(x, 3));
            Assert.Equal(Rgb.White, canvas.GetPixel(x, 6));
        }

        Assert.Equal(Rgb.White, canvas.GetPixel(1, 4));
    }

    [Fact]
    public void DrawLine_Steep_OnePixelPerRowFromEndToEnd()
    {
        var canvas = new RasterCanvas(10, 10, Rgb.White);

        canvas.DrawLine(3, 0, 5, 9, _red);

        Assert.Equal(_red, canvas.GetPixel(3, 0));
        Assert.Equal(_red, canvas.GetPixel(5, 9));
        for (var y = 0; y < 10; y++)
        {
            Assert.Equal(1, Enumerable.Range(0, 10).Count(x => canvas.GetPixel(x, y) == _red));
        }
    }

    [Fact]
    public void DrawLine_Diagonal_IsTheDiagonal()
    {
        var canvas = new RasterCanvas(10, 10, Rgb.White);

        canvas.DrawLine(9, 9, 0, 0, _red);

        Assert.Equal(10, CountOf(canvas, _red));
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(_red, canvas.GetPixel(i, i)));
    }

    [Fact]
    public void DrawLine_Dashed_AlternatesRunsOfTheDashLength()
    {
        var canvas = new RasterCanvas(16, 1, Rgb.White);

        canvas.DrawLine(0, 0, 15, 0, _red, dash: 4);

        var drawn = string.Concat(Enumerable.Range(0, 16).Select(x => canvas.GetPixel(x, 0) == _red ? '#' : '.'));
        Assert.Equal("####....####....", drawn);
    }

    [Fact]
    public void FillRectangle_WithClip_PaintsOnlyInsideTheClip()
    {
        var canvas = new RasterCanvas(20, 20, Rgb.White) { Clip = new PixelRect(5, 5, 5, 5) };

        canvas.FillRectangle(canvas.Bounds, _red);
        canvas.DrawLine(0, 0, 19, 19, Rgb.Black);

        Assert.Equal(20, CountOf(canvas, _red));
        Assert.Equal(5, CountOf(canvas, Rgb.Black));
        Assert.Equal(Rgb.White, canvas.GetPixel(4, 7));
    }

    [Theory]
    [InlineData(nameof(MarkerShape.Circle), new[] { 0, 0, 0, -4, 4, 0 }, new[] { 4, 4, 0, -5 })]
    [InlineData(nameof(MarkerShape.Square), new[] { 3, 3, -3, -3, 3, -3 }, new[] { 4, 0, 0, 4 })]
    [InlineData(nameof(MarkerShape.Diamond), new[] { 5, 0, 0, -5, 2, 3 }, new[] { 3, 3, 6, 0 })]
    [InlineData(nameof(MarkerShape.Triangle), new[] { 0, -4, -4, 4, 4, 4 }, new[] { -3, -3, 0, 5 })]
    public void FillMarker_Shape_CoversItsOutlineOnly(string shapeName, int[] inside, int[] outside)
    {
        var shape = Enum.Parse<MarkerShape>(shapeName);
        var canvas = new RasterCanvas(21, 21, Rgb.White);

        canvas.FillMarker(shape, 10, 10, 4, _red);

        Assert.Equal(_red, canvas.GetPixel(10, 10));
        for (var i = 0; i < inside.Length; i += 2)
        {
            Assert.True(canvas.GetPixel(10 + inside[i], 10 + inside[i + 1]) == _red, $"({inside[i]}, {inside[i + 1]}) should be inside");
        }

        for (var i = 0; i < outside.Length; i += 2)
        {
            Assert.True(canvas.GetPixel(10 + outside[i], 10 + outside[i + 1]) == Rgb.White, $"({outside[i]}, {outside[i + 1]}) should be outside");
        }
    }

    [Fact]
    public void DrawText_Scaled_StaysInItsMeasuredBoxAndReachesTheDescender()
    {
        var canvas = new RasterCanvas(60, 30, Rgb.White);
        var box = new PixelRect(3, 4, BitmapFont.MeasureWidth("Ag|", 2), BitmapFont.MeasureHeight(2));

        canvas.DrawText("Ag|", box.X, box.Y, Rgb.Black, scale: 2);

        Assert.Equal(CountOf(canvas, Rgb.Black), CountOf(canvas, Rgb.Black, box));
        Assert.True(CountOf(canvas, Rgb.Black) > 40);
        // The tail of 'g' is drawn in the two rows below the baseline (4 pixel rows at 2x).
        Assert.True(CountOf(canvas, Rgb.Black, box with { Y = box.Y + 14, Height = 4 }) > 0);
        // Scaling doubles every font pixel into a 2x2 block.
        Assert.Equal(canvas.GetPixel(box.X, box.Y + 8), canvas.GetPixel(box.X + 1, box.Y + 9));
    }

    [Fact]
    public void DrawTextUpward_IsDrawTextTurnedAnticlockwise()
    {
        const string text = "Hi1";
        var width = BitmapFont.MeasureWidth(text, 1);
        var height = BitmapFont.MeasureHeight(1);
        var flat = new RasterCanvas(width, height, Rgb.White);
        var turned = new RasterCanvas(height, width, Rgb.White);

        flat.DrawText(text, 0, 0, Rgb.Black);
        turned.DrawTextUpward(text, 0, 0, Rgb.Black);

        for (var u = 0; u < width; u++)
        {
            for (var v = 0; v < height; v++)
            {
                // Reading direction runs up the canvas; the glyphs' tops face left.
                Assert.Equal(flat.GetPixel(u, v), turned.GetPixel(v, width - 1 - u));
            }
        }

        // 'H' comes first, so it is at the bottom: its top-left pixel lands in the bottom-left corner.
        Assert.Equal(Rgb.Black, turned.GetPixel(0, width - 1));
    }

    [Fact]
    public void BitmapFont_PrintableAscii_EveryGlyphDistinctAndOnlySpaceBlank()
    {
        var glyphs = Enumerable.Range(32, 95).Select(c => Glyph((char)c)).ToArray();

        Assert.Equal("", glyphs[0].Replace(".", "", StringComparison.Ordinal));
        Assert.All(glyphs.Skip(1), g => Assert.Contains('#', g));
        Assert.Equal(95, glyphs.Distinct().Count());
        Assert.Equal(Glyph('?'), Glyph('é'));
    }

    [Fact]
    public void GetPixel_OutsideTheCanvas_Throws()
    {
        var canvas = new RasterCanvas(4, 4, Rgb.White);

        Assert.Throws<ArgumentOutOfRangeException>(() => canvas.GetPixel(4, 0));
    }

    private static string Glyph(char c) => string.Concat(
        Enumerable.Range(0, BitmapFont.GlyphHeight * BitmapFont.GlyphWidth)
            .Select(i => BitmapFont.IsSet(c, i % BitmapFont.GlyphWidth, i / BitmapFont.GlyphWidth) ? '#' : '.'));

    private static int CountOf(RasterCanvas canvas, Rgb colour) => CountOf(canvas, colour, canvas.Bounds);

    private static int CountOf(RasterCanvas canvas, Rgb colour, PixelRect area)
    {
        var count = 0;
        for (var y = area.Y; y < area.Bottom; y++)
        {
            for (var x = area.X; x < area.Right; x++)
            {
                count += canvas.GetPixel(x, y) == colour ? 1 : 0;
            }
        }

        return count;
    }
}
