using ScottPlot;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// What every chart has: a title, axis labels and a size. A subclass validates its data and lays it out as a ScottPlot
/// <see cref="Plot"/>; ScottPlot renders it headless (SkiaSharp) to PNG.
/// </summary>
internal abstract class Chart
{
    public string Title { get; init; } = "";

    public string XLabel { get; init; } = "";

    public string YLabel { get; init; } = "";

    public int Width { get; init; } = 800;

    public int Height { get; init; } = 500;

    /// <summary>The plot of the data, styled; the caller disposes it.</summary>
    /// <exception cref="ArgumentException">The data is empty, has no finite value, or does not fit the chart.</exception>
    public Plot Build()
    {
        if (Width < 200 || Height < 150)
        {
            throw new ArgumentException($"A {Width}x{Height} chart is too small for its labels; make it at least 200x150.", nameof(Width));
        }

        var plot = new Plot();
        try
        {
            ChartStyle.Apply(plot);
            plot.Title(Title);
            plot.XLabel(XLabel);
            plot.YLabel(YLabel);
            AddData(plot);
            return plot;
        }
        catch
        {
            plot.Dispose();
            throw;
        }
    }

    /// <inheritdoc cref="Build"/>
    public byte[] RenderPng()
    {
        using var plot = Build();
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Renders and writes the PNG to <paramref name="path"/>, creating its directory.</summary>
    /// <inheritdoc cref="Build"/>
    public void WritePng(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var png = RenderPng();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllBytes(path, png);
    }

    /// <summary>Adds the data's plottables (one legend entry per series) and sets the axes.</summary>
    private protected abstract void AddData(Plot plot);
}
