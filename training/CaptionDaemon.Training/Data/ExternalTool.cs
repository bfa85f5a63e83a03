using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace CaptionDaemon.Training.Data;

/// <summary>The outcome of one run of an external program.</summary>
internal sealed record ExternalToolResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>An external program the data layer needs (ffmpeg, dpkg-deb, apt-get) is not installed or could not start.</summary>
internal sealed class MissingToolException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

/// <summary>Runs the external programs the data layer relies on (ffmpeg, apt-get, apt-cache, dpkg-deb).</summary>
internal static class ExternalTool
{
    /// <summary>Starts <paramref name="fileName"/> with its output streams redirected.</summary>
    /// <exception cref="MissingToolException">The program is not installed; the message says which Debian package has it.</exception>
    public static Process Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (workingDirectory is not null)
        {
            startInfo.WorkingDirectory = workingDirectory;
        }

        try
        {
            return Process.Start(startInfo)
                ?? throw new MissingToolException($"Could not start '{fileName}'.");
        }
        catch (Win32Exception ex)
        {
            throw new MissingToolException(
                $"Could not run '{fileName}' ({ex.Message}); it must be installed and on PATH (Debian package: {PackageOf(fileName)}).",
                ex);
        }
    }

    /// <summary>Runs a program to completion and captures its output as text.</summary>
    public static async Task<ExternalToolResult> RunAsync(
        string fileName, IEnumerable<string> arguments, string? workingDirectory, CancellationToken cancellationToken)
    {
        using var process = Start(fileName, arguments, workingDirectory);
        using var registration = cancellationToken.Register(() => Kill(process));
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await process.WaitForExitAsync(CancellationToken.None);
        var result = new ExternalToolResult(process.ExitCode, await stdout, await stderr);
        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }

    /// <summary>Ends a child process and its children; used on cancellation and when its output is no longer needed.</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // The process exited between the check and the kill: nothing left to end.
        }
        catch (Win32Exception)
        {
            // Same race on some kernels (ESRCH); the process is gone either way.
        }
    }

    /// <summary>The last non-empty lines of a tool's error output, enough to say what went wrong without flooding the message.</summary>
    public static string Tail(string text, int maxLines = 6)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.TakeLast(maxLines));
    }

    private static string PackageOf(string fileName) => fileName switch
    {
        "ffmpeg" => "ffmpeg",
        "dpkg-deb" => "dpkg",
        "apt-get" or "apt-cache" => "apt",
        _ => fileName,
    };
}
