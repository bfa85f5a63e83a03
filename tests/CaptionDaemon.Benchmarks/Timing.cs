using System.Diagnostics;

namespace CaptionDaemon.Benchmarks;

/// <summary>Mean wall and process CPU milliseconds per run of an action, the measuring loop every scenario shares.</summary>
internal static class Timing
{
    /// <summary>
    /// Runs <paramref name="action"/> once to warm up, then again until it has run <paramref name="minRuns"/> times and
    /// <paramref name="minSeconds"/> have passed. On a shared machine the CPU time says what the work costs.
    /// </summary>
    public static (double WallMs, double CpuMs) Measure(Action action, int minRuns = 3, double minSeconds = 0)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfLessThan(minRuns, 1);
        action();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var runs = 0;
        var clock = Stopwatch.StartNew();
        while (runs < minRuns || clock.Elapsed.TotalSeconds < minSeconds)
        {
            action();
            runs++;
        }

        var wall = clock.Elapsed.TotalMilliseconds / runs;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / runs);
    }
}
