using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>The shipped demo scenes, a temporary folder per test, ffmpeg runs and free ports.</summary>
public sealed class TestFiles : IDisposable
{
    public TestFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), "captiond-audio-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    /// <summary>models/default/samples/eval_0000N.wav: real 16 kHz mono scenes, 10 s each.</summary>
    public static string Sample(int number)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.Directory.Exists(Path.Combine(dir.FullName, "models", "default", "samples")))
            dir = dir.Parent;
        if (dir is null)
            throw new DirectoryNotFoundException("models/default/samples not found above " + AppContext.BaseDirectory);
        return Path.Combine(dir.FullName, "models", "default", "samples", $"eval_{number:00000}.wav");
    }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Runs ffmpeg to completion and returns its stdout; fails the test with its stderr on a non-zero exit.</summary>
    public static async Task<byte[]> FfmpegAsync(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-hide_banner", "-nostdin", "-loglevel", "error", "-y", .. arguments])
            startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        using var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await copy;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"ffmpeg {string.Join(' ', arguments)} failed with {process.ExitCode}: {await errors}");
        return output.ToArray();
    }

    /// <summary>ffmpeg's own decode of a file to interleaved f32, same rate and channels: the reference to compare with.</summary>
    public static async Task<float[]> FfmpegDecodeAsync(string path)
    {
        var bytes = await FfmpegAsync("-i", path, "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1");
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    /// <summary>A port that nothing listens on right now (bound and released by this process).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a process that is being killed; the temp folder is cleaned by the OS eventually.
        }
    }
}
