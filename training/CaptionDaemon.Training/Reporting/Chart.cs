namespace CaptionDaemon.Training.Reporting;

/// <summary>What every chart has: a title, axis labels and a size; renders to PNG.</summary>
internal abstract class Chart
{
    public string Title { get; init; } = "";

    public string XLabel { get; init; } = "";

    public string YLabel { get; init; } = "";

    public int Width { get; init; } = 800;

    public int Height { get; init; } = 500;

    /// <summary>Draws the chart; the frame tells where values landed.</summary>
    /// <exception cref="ArgumentException">The data is empty, has no finite value, or does not fit the chart.</exception>
    public abstract ChartFrame Render();

    /// <inheritdoc cref="Render"/>
    public byte[] RenderPng() => PngEncoder.Encode(Render().Canvas);

    /// <summary>Renders and writes the PNG to <paramref name="path"/>, creating its directory.</summary>
    /// <inheritdoc cref="Render"/>
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
}
