using System.Diagnostics;
using System.Globalization;

namespace CaptionDaemon.Benchmarks.Streams;

/// <summary>The process's resident memory and CPU time, as the kernel reports them.</summary>
internal static class ProcessResources
{
    /// <summary>Resident set size in MB (<c>VmRSS</c> of /proc/self/status; <see cref="Environment.WorkingSet"/> elsewhere).</summary>
    public static double RssMegabytes()
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            foreach (var line in File.ReadLines(Status))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
                    return kilobytes / 1024.0;
                }
            }
        }

        return Environment.WorkingSet / (1024.0 * 1024.0);
    }

    /// <summary>CPU time of all the process's threads (user + system) so far.</summary>
    public static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>Collects garbage fully, so that a memory reading is not inflated by what a previous run left behind.</summary>
    public static void Settle()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
