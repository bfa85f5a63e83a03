using System.Diagnostics;

namespace CaptionDaemon.Tests;

/// <summary>Runs a program to its end and collects what it printed.</summary>
internal static class ChildProcess
{
    /// <exception cref="OperationCanceledException">The program ran longer than <paramref name="timeout"/>.</exception>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await output, await error);
    }
}
