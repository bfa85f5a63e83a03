using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Training;
using ScottPlot;

namespace CaptionDaemon.Training.Tests.Reporting;

/// <summary>
/// The charts as ScottPlot draws them, checked by structure: the PNG decodes at the asked size, is not blank, names one
/// legend entry per series and shows every series' colour.
/// </summary>
public sealed class ChartTests
{
    public static TheoryData<string> Examples => ["quality-speed", "training-curves", "quality-per-task", "forgetting"];

    [Fact]
    public void Font_ChartsUseDejaVuSans_IsInstalled()
    {
        // CI installs Debian's fonts-dejavu-core (.ci/run); without it the charts fall back to another family.
        Assert.True(ChartStyle.FontInstalled, $"{ChartStyle.FontFamily} is not installed: apt-get install fonts-dejavu-core");
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void RenderPng_ExampleChart_DecodesAtItsSizeWithInkAndEverySeries(string name)
    {
        var (chart, series) = Example(name);

        var image = ChartImage.Decode(chart.RenderPng());

        Assert.Equal((chart.Width, chart.Height), (image.Width, image.Height));
        Assert.InRange(image.InkShare, 0.02, 0.6);
        using var plot = chart.Build();
        Assert.Equal(series, plot.Legend.GetItems().Count(i => !string.IsNullOrEmpty(i.LabelText)));
        for (var s = 0; s < series; s++)
        {
            Assert.True(image.CountNear(ChartStyle.Series(s)) >= 20, $"series {s}'s colour {ChartStyle.Series(s)} is hardly in the image");
        }
    }

    [Fact]
    public void Build_LineWithAMissingPoint_BreaksTheLineButNamesTheSeriesOnce()
    {
        var chart = new LineChart { Series = [new ChartSeries("run", [new(1, 0.1), new(2, 0.2), new(3, double.NaN), new(4, 0.3), new(5, 0.35)])] };

        using var plot = chart.Build();

        Assert.Equal(2, plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Count());
        Assert.Equal("run", Assert.Single(plot.Legend.GetItems(), i => !string.IsNullOrEmpty(i.LabelText)).LabelText);
    }

    [Fact]
    public void Build_LogX_TicksAtPowersOfTenAtTheLogOfX()
    {
        var chart = new ScatterChart { LogX = true, Series = [new ChartSeries("m", [new(8, 0.3, "a"), new(900, 0.5, "b")])] };

        using var plot = chart.Build();
        plot.RenderInMemory(chart.Width, chart.Height);

        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).ToDictionary(t => t.Label, t => t.Position);
        Assert.Equal(1, ticks["10"], 9);
        Assert.Equal(2, ticks["100"], 9);
        var markers = Assert.Single(plot.GetPlottables().OfType<ScottPlot.Plottables.Markers>());
        Assert.Equal(Math.Log10(900), markers.Data.GetScatterPoints().Max(p => p.X), 9);
        Assert.Equal(["a", "b"], plot.GetPlottables().OfType<ScottPlot.Plottables.Text>().Select(t => t.LabelText).Order());
    }

    [Fact]
    public void Build_BarsWithAMissingValue_LeavesItOutAndLabelsTheOthers()
    {
        var chart = new BarChart { SeriesNames = ["a", "b"], Groups = [new BarGroup("x", [0.5, double.NaN]), new BarGroup("y", [0.25, 0.125])] };

        using var plot = chart.Build();

        var bars = plot.GetPlottables().OfType<ScottPlot.Plottables.BarPlot>().ToArray();
        Assert.Equal([2, 1], bars.Select(b => b.Bars.Count));
        Assert.Equal(["0.5", "0.25", "0.125"], bars.SelectMany(b => b.Bars).Select(b => b.Label));
    }

    [Theory]
    [InlineData("no series")]
    [InlineData("empty series")]
    [InlineData("only NaN")]
    [InlineData("log of zero")]
    [InlineData("bar count")]
    public void RenderPng_UnplottableData_ThrowsArgumentExceptionSayingWhy(string kind)
    {
        Chart chart = kind switch
        {
            "no series" => new LineChart { Series = [] },
            "empty series" => new LineChart { Series = [new ChartSeries("empty", [])] },
            "only NaN" => new LineChart { Series = [new ChartSeries("nan", [new(1, double.NaN)])] },
            "log of zero" => new ScatterChart { LogX = true, Series = [new ChartSeries("zero", [new(0, 1)])] },
            _ => new BarChart { SeriesNames = ["a", "b"], Groups = [new BarGroup("g", [1])] },
        };

        var e = Assert.Throws<ArgumentException>(() => chart.RenderPng());

        Assert.Contains(kind switch
        {
            "no series" => "at least one series",
            "empty series" => "'empty' has no points",
            "only NaN" => "finite",
            "log of zero" => "log axis",
            _ => "1 values for 2 series",
        }, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_ThreeEpochs_WritesLossAndValidationChartIntoTheRunFolder()
    {
        var run = Directory.CreateTempSubdirectory("captiond-curves-");
        try
        {
            EpochRecord Epoch(int epoch, double loss, double cider) =>
                new(epoch, loss, 1e-3, 10, 1, new CaptionScores(0, 0, 0, 0, 0, cider));

            var notDrawn = TrainingCurves.Write(run.FullName, [Epoch(1, 4.1, 0.05), Epoch(2, 3.2, 0.12), Epoch(3, 2.9, 0.16)]);

            Assert.Null(notDrawn);
            var image = ChartImage.Decode(File.ReadAllBytes(Path.Combine(run.FullName, TrainingCurves.FileName)));
            Assert.Equal((1000, 600), (image.Width, image.Height));
            Assert.True(image.CountNear(ChartStyle.Series(0)) >= 20 && image.CountNear(ChartStyle.Series(1)) >= 20);
            Assert.Contains("not drawn", TrainingCurves.Write(run.FullName, [Epoch(1, double.NaN, double.NaN)]), StringComparison.Ordinal);
        }
        finally
        {
            run.Delete(recursive: true);
        }
    }

    private static (Chart Chart, int Series) Example(string name) => name switch
    {
        "quality-speed" => (ExampleCharts.QualityAgainstSpeed(), 2),
        "training-curves" => (ExampleCharts.TrainingCurves(), 3),
        "quality-per-task" => (ExampleCharts.QualityPerTask(), 4),
        _ => (ExampleCharts.Forgetting(), 4),
    };
}
