using CaptionDaemon.Hosting;

namespace CaptionDaemon;

internal static class Program
{
    private static Task<int> Main(string[] args) => DaemonCommands.InvokeAsync(args);
}
