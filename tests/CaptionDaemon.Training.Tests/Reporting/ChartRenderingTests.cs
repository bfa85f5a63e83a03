using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

/// <summary>Charts are checked on the decoded PNG: the pixel where a value must land has its series' colour.</summary>
public sealed class ChartRenderingTests
{
    private static readonly Rgb _first = ChartPalette.Series(0);
    private static readonly Rgb _second = ChartPalette.Series(1);

    [Fact]
    public void LineChart_TwoSeries_LinesInSeriesColoursOnWhite()
    {
        var chart = new LineChart
        {
            Title = "t",
            XLabel = "epoch",
            YLabel = "loss",
            Series =
            [
                new ChartSeries("flat", [new(0, 0.5), new(10, 0.5)]),
                new ChartSeries("rising", [new(0, 0), new(10, 1)]),
            ],
        };

        var (frame, png) = Render(chart);

        Assert.Equal((800, 500), (png.Width, png.Height));
        Assert.Equal(Rgb.White, png.Pixel(0, 0));
        Assert.Equal(_first, png.Pixel(frame.PixelX(2), frame.PixelY(0.5)));
        Assert.Equal(_first, png.Pixel(frame.PixelX(2), frame.PixelY(0.5) + 1));
        // The rising line crosses column x = 7 near y = 0.7 (Bresenham is within a pixel of it).
        var column = frame.PixelX(7);
        var row = frame.PixelY(0.7);
        Assert.True(png.Count(_second, new PixelRect(column, row - 2, 1, 5)) > 0, "rising line near (7, 0.7)");
        Assert.Equal(ChartPalette.Axis, png.Pixel(frame.PlotArea.X - 1, frame.PlotArea.Y + 3));
        Assert.True(png.Count(ChartPalette.Grid, frame.PlotArea) > 100, "dashed grid lines");
    }

    [Fact]
    public void LineChart_NaNPoint_SkippedAndBreaksTheLine()
    {
        var chart = new LineChart { Series = [new ChartSeries("run", [new(0, 1), new(1, double.NaN), new(2, 1), new(3, 1)])] };

        var (frame, png) = Render(chart);

        var y = frame.PixelY(1);
        Assert.Equal(_first, png.Pixel(frame.PixelX(2.5), y));
        Assert.NotEqual(_first, png.Pixel(frame.PixelX(1), y));
        // The first point has no neighbour left to join, so it is drawn as a marker.
        Assert.Equal(_first, png.Pixel(frame.PixelX(0), y));
    }

    [Fact]
    public void LineChart_OnePoint_DrawsAMarkerThere()
    {
        var chart = new LineChart { Series = [new ChartSeries("only", [new(3, 0.25)])] };

        var (frame, png) = Render(chart);

        var (x, y) = (frame.PixelX(3), frame.PixelY(0.25));
        Assert.Equal(_first, png.Pixel(x, y));
        Assert.Equal(_first, png.Pixel(x + 3, y));
        Assert.InRange(x, frame.PlotArea.X + 20, frame.PlotArea.Right - 20);
    }

    [Fact]
    public void LineChart_AllEqualValues_FlatLineInsideThePlot()
    {
        var chart = new LineChart { Series = [new ChartSeries("same", [new(1, 0.4), new(2, 0.4), new(3, 0.4)])] };

        var (frame, png) = Render(chart);

        var y = frame.PixelY(0.4);
        Assert.InRange(y, frame.PlotArea.Y + 20, frame.PlotArea.Bottom - 20);
        Assert.Equal(_first, png.Pixel(frame.PixelX(1.5), y));
    }

    [Fact]
    public void LineChart_ShowMarkers_MarkerAtEveryPointEvenOnTheEdge()
    {
        var chart = new LineChart
        {
            ShowMarkers = true,
            Series = [new ChartSeries("a", [new(1, 0.2), new(2, 0.3)]), new ChartSeries("b", [new(1, 0.25), new(2, 0.2)])],
        };

        var (frame, png) = Render(chart);

        // Series b uses a square: its corner pixel beside the line proves the marker, not the line, is there.
        var (x, y) = (frame.PixelX(1), frame.PixelY(0.25));
        Assert.Equal(MarkerShape.Square, ChartPalette.Marker(1));
        Assert.Equal(_second, png.Pixel(x + 3, y - 3));
        // On the left edge the marker overhangs the frame rather than being cut in half.
        Assert.Equal(_second, png.Pixel(x - 3, y - 3));
    }

    [Fact]
    public void LineChart_DataInTheTopRightCorner_LegendMovesAway()
    {
        var chart = new LineChart
        {
            ShowMarkers = true,
            Series = [new ChartSeries("rising", [new(0, 0), new(10, 1)]), new ChartSeries("also rising", [new(0, 0.1), new(10, 0.9)])],
        };

        var (frame, png) = Render(chart);

        Assert.Equal(_first, png.Pixel(frame.PixelX(10) - 1, frame.PixelY(1) + 1));
        Assert.True(png.Count(ChartPalette.LegendBorder, frame.PlotArea) > 100, "legend border drawn");
        var topLeft = new PixelRect(frame.PlotArea.X, frame.PlotArea.Y, frame.PlotArea.Width / 2, frame.PlotArea.Height / 2);
        Assert.True(png.Count(ChartPalette.LegendBorder, topLeft) > 100, "legend in the empty top-left corner");
    }

    [Fact]
    public void ScatterChart_LogX_MarkersAtTheirDataCoordinatesWithLabels()
    {
        var chart = new ScatterChart
        {
            LogX = true,
            Series =
            [
                new ChartSeries("ours", [new(12.5, 0.41, "student")]),
                new ChartSeries("published", [new(300, 0.48, "teacher"), new(double.NaN, 0.3, "lost")]),
            ],
        };

        var (frame, png) = Render(chart);

        Assert.True(frame.X!.IsLog);
        Assert.Equal(_first, png.Pixel(frame.PixelX(12.5), frame.PixelY(0.41)));
        Assert.Equal(_second, png.Pixel(frame.PixelX(300), frame.PixelY(0.48)));
        // 12.5 lies between 10 and 100 at log10(1.25) of the decade.
        var decade = frame.PixelX(100) - frame.PixelX(10);
        Assert.Equal(frame.PixelX(10) + (Math.Log10(1.25) * decade), frame.PixelX(12.5), 1.0);
        // A label is written beside each marker, in the text colour.
        var near = new PixelRect(frame.PixelX(12.5) - 120, frame.PixelY(0.41) - 30, 240, 60);
        Assert.True(png.Count(ChartPalette.Text, near) > 20, "label next to the student point");
    }

    [Fact]
    public void ScatterChart_ManyDecadesOnANarrowChart_TickLabelsDoNotRunTogether()
    {
        var chart = new ScatterChart { Width = 400, LogX = true, Series = [new ChartSeries("", [new(0.001, 1), new(1e6, 2)])] };

        var (frame, png) = Render(chart);

        // Columns of the tick-label row that hold text, split where at least 9 columns are blank: each run is one label.
        var band = new PixelRect(0, frame.PlotArea.Bottom + 10, png.Width, BitmapFont.MeasureHeight(ChartFrame.TickScale));
        var inked = Enumerable.Range(0, png.Width).Select(x => png.Count(ChartPalette.Text, band with { X = x, Width = 1 }) > 0).ToArray();
        var runs = new List<int>();
        var (start, blank) = (-1, 0);
        for (var x = 0; x <= png.Width; x++)
        {
            if (x < png.Width && inked[x])
            {
                start = start < 0 ? x : start;
                blank = 0;
            }
            else if (start >= 0 && (++blank >= 9 || x == png.Width))
            {
                runs.Add(x - blank + 1 - start);
                start = -1;
            }
        }

        var widest = frame.X!.Labels.Max(l => BitmapFont.MeasureWidth(l, ChartFrame.TickScale));
        Assert.True(frame.X.Ticks.Count >= 10, "a decade tick from 0.001 to 1E+6 at least");
        Assert.InRange(runs.Count, 2, frame.X.Ticks.Count - 1);
        Assert.All(runs, width => Assert.True(width <= widest, $"a run of {width} columns is wider than any label ({widest}): labels overlap"));
    }

    [Fact]
    public void BarChart_Groups_BarsFromZeroInSeriesColoursWithGapsForNaN()
    {
        var chart = new BarChart
        {
            SeriesNames = ["a", "b", "c"],
            Groups = [new BarGroup("3 tasks", [0.2, -0.1, 0.05]), new BarGroup("6 tasks", [0.3, double.NaN, 0.1])],
        };

        var frame = chart.Render();
        var png = PngReader.Read(PngEncoder.Encode(frame.Canvas));

        Assert.True(frame.Y.Min <= -0.1 && frame.Y.Max >= 0.3);
        var zero = frame.PixelY(0);
        for (var g = 0; g < 2; g++)
        {
            foreach (var (bar, value, series) in chart.Bars(frame, g))
            {
                var middle = bar.X + (bar.Width / 2);
                Assert.Equal(ChartPalette.Series(series), png.Pixel(middle, (zero + frame.PixelY(value)) / 2));
                Assert.NotEqual(ChartPalette.Series(series), png.Pixel(middle, frame.PixelY(value) + (value > 0 ? -3 : 3)));
            }
        }

        Assert.Equal(3, chart.Bars(frame, 0).Count());
        Assert.Equal([0, 2], chart.Bars(frame, 1).Select(b => b.Series));
        var secondSlot = frame.CategorySlot(1);
        Assert.Equal(0, png.Count(_second, secondSlot with { Y = zero - 20, Height = 40 }));
    }

    [Fact]
    public void BarChart_ManySeries_AxisLeavesRoomSoTheLegendCoversNoBar()
    {
        // The incremental reproduction's forgetting chart: seven methods, the tallest bars in the first group.
        string[] names = ["finetune", "rehearsal", "rehearsal+audio", "rehearsal+token", "rehearsal+seq", "rehearsal+audio+seq", "rehearsal+all"];
        var chart = new BarChart
        {
            SeriesNames = names,
            Groups = [new BarGroup("3 tasks", [0.107, 0.080, 0.066, 0.020, 0.023, 0.023, 0.024]), new BarGroup("6 tasks", [0.090, 0.116, 0.077, 0.067, 0.047, 0.047, 0.0])],
        };

        var (frame, png) = Render(chart);

        var legendHeight = ChartFrame.MeasureLegend(names.Select(n => new LegendEntry(n, ChartPalette.Text, null, Line: false)).ToArray()).Height;
        Assert.True(frame.Y.Max >= 0.116);
        for (var g = 0; g < 2; g++)
        {
            foreach (var (bar, value, series) in chart.Bars(frame, g).Where(b => b.Value > 0))
            {
                var top = frame.PixelY(value);
                Assert.True(top >= frame.PlotArea.Y + legendHeight + ChartFrame.LegendInset, $"bar {names[series]} of group {g} reaches row {top}, under the legend");
                Assert.Equal(ChartPalette.Series(series), png.Pixel(bar.X + (bar.Width / 2), top + 1));
            }
        }
    }

    [Fact]
    public void WritePng_CustomSize_CreatesDirectoryAndDecodes()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"captiond-plots-{Guid.NewGuid():N}");
        var path = Path.Combine(directory, "nested", "curve.png");
        try
        {
            new LineChart { Width = 640, Height = 400, Series = [new ChartSeries("r", [new(0, 1), new(1, 2)])] }.WritePng(path);

            var png = PngReader.Read(File.ReadAllBytes(path));
            Assert.Equal((640, 400), (png.Width, png.Height));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Render_EmptySeries_ThrowsNamingIt()
    {
        var chart = new LineChart { Series = [new ChartSeries("good", [new(0, 1)]), new ChartSeries("empty run", [])] };

        var error = Assert.Throws<ArgumentException>(() => chart.Render());

        Assert.Contains("'empty run' has no points", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_InvalidData_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new ScatterChart { Series = [] }.Render());
        Assert.Throws<ArgumentException>(() => new LineChart { Series = [new ChartSeries("nan", [new(double.NaN, 1), new(1, double.NaN)])] }.Render());
        Assert.Throws<ArgumentException>(() => new ScatterChart { LogX = true, Series = [new ChartSeries("zero", [new(0, 1)])] }.Render());
        Assert.Throws<ArgumentException>(() => new BarChart { SeriesNames = ["a", "b"], Groups = [new BarGroup("g", [1])] }.Render());
        Assert.Throws<ArgumentException>(() => new BarChart { SeriesNames = ["a"], Groups = [] }.Render());
        Assert.Throws<ArgumentException>(() => new BarChart { SeriesNames = ["a"], Groups = [new BarGroup("g", [double.NaN])] }.Render());
        Assert.Throws<ArgumentException>(() => new LineChart { Width = 120, Height = 90, Title = "tiny", Series = [new ChartSeries("s", [new(0, 1)])] }.Render());
    }

    [Fact]
    public void ExampleCharts_EachKind_RendersEverySeriesColour()
    {
        Chart[] charts = [ExampleCharts.QualityAgainstSpeed(), ExampleCharts.TrainingCurves(), ExampleCharts.QualityPerTask(), ExampleCharts.Forgetting()];
        int[] seriesCounts = [2, 3, 4, 4];

        for (var c = 0; c < charts.Length; c++)
        {
            var png = PngReader.Read(charts[c].RenderPng());
            Assert.Equal((800, 500), (png.Width, png.Height));
            for (var s = 0; s < seriesCounts[c]; s++)
            {
                Assert.True(png.Count(ChartPalette.Series(s)) > 30, $"chart {c} series {s}");
            }

            Assert.True(png.Count(ChartPalette.Text) > 500, $"chart {c} text");
        }
    }

    private static (ChartFrame Frame, DecodedPng Png) Render(Chart chart)
    {
        var frame = chart.Render();
        return (frame, PngReader.Read(PngEncoder.Encode(frame.Canvas)));
    }
}
