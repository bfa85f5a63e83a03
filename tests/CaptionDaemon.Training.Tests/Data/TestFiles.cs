using System.Diagnostics;

namespace CaptionDaemon.Training.Tests.Data;

/// <summary>A temporary folder for one test, deleted afterwards, and real audio made by ffmpeg's synthetic sources.</summary>
internal sealed class TestFiles : IDisposable
{
    public TestFiles()
    {
        Root = Path.Combine(Path.GetTempPath(), "captiond-data-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relative)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>Runs ffmpeg to write <paramref name="relative"/> from the given input/filter arguments.</summary>
    public string Ffmpeg(string relative, params string[] arguments)
    {
        var path = PathOf(relative);
        var startInfo = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-nostdin", "-y", "-hide_banner", "-loglevel", "error" }.Concat(arguments).Append(path))
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ffmpeg failed to make {relative}: {stderr}");
        return path;
    }

    /// <summary>A sine tone (ffmpeg's default amplitude 1/8) at a given rate, length and channel count.</summary>
    public string Sine(string relative, double seconds, int sampleRate = 16000, int channels = 1, int frequency = 440)
        => Ffmpeg(relative, "-f", "lavfi", "-i", FormattableString.Invariant($"sine=frequency={frequency}:sample_rate={sampleRate}:duration={seconds}"), "-ac", channels.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder must not fail a test run.
        }
    }
}
