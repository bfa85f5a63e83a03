using CaptionDaemon.Plugins;
using CaptionDaemon.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionDaemon.Tests.Plugins;

public sealed class PluginCatalogTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-plugins-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public void Load_BrokenPluginFolders_EachReportedWithItsReasonWhileTheFirstPartyPluginsLoad()
    {
        var builtIn = Path.Combine(DaemonProcess.RepositoryRoot, "daemon", "CaptionDaemon", "bin", DaemonProcess.BuildConfiguration, "net10.0", "plugins");
        var extra = Path.Combine(_temp.FullName, "extra");

        // Not an assembly at all.
        Directory.CreateDirectory(Path.Combine(extra, "Garbage"));
        File.WriteAllText(Path.Combine(extra, "Garbage", "Garbage.dll"), "this is not a PE file");

        // A folder whose main assembly is missing.
        Directory.CreateDirectory(Path.Combine(extra, "Empty"));
        File.WriteAllText(Path.Combine(extra, "Empty", "readme.txt"), "nothing here");

        // A real assembly with no ICaptionDaemonPlugin in it: the contracts themselves.
        var contracts = typeof(CaptionDaemon.Contracts.ICaptionDaemonPlugin).Assembly.Location;
        Directory.CreateDirectory(Path.Combine(extra, "CaptionDaemon.Contracts"));
        File.Copy(contracts, Path.Combine(extra, "CaptionDaemon.Contracts", "CaptionDaemon.Contracts.dll"));

        // A second copy of a first-party plugin: its type names clash with the first copy's.
        CopyFolder(Path.Combine(builtIn, "CaptionDaemon.Plugins.Outputs"), Path.Combine(extra, "CaptionDaemon.Plugins.Outputs"));

        var catalog = PluginCatalog.Load([builtIn, extra], NullLogger.Instance);

        var loaded = catalog.Reports.Where(r => r.Loaded).Select(r => r.Name).ToList();
        Assert.Equal(["CaptionDaemon.Plugins.Audio", "CaptionDaemon.Plugins.Mqtt", "CaptionDaemon.Plugins.Outputs"], loaded);
        Assert.Equal(["ffmpeg", "tcp", "udp", "wav"], catalog.SourceTypes.Order(StringComparer.Ordinal));
        Assert.Equal(["jsonl", "mqtt", "webhook"], catalog.SinkTypes.Order(StringComparer.Ordinal));

        var failed = catalog.Reports.Where(r => !r.Loaded).ToDictionary(r => Path.GetFileName(Path.GetDirectoryName(r.Path))!, r => r.Error!);
        Assert.Equal(4, failed.Count);
        Assert.Contains("Garbage.dll", catalog.Reports.Single(r => r.Name == "Garbage").Path, StringComparison.Ordinal);
        Assert.Contains("must hold its main assembly named after the folder, Empty.dll", failed["Empty"], StringComparison.Ordinal);
        Assert.Contains("no public class implementing ICaptionDaemonPlugin", failed["CaptionDaemon.Contracts"], StringComparison.Ordinal);
        Assert.Contains("type name 'jsonl' is already registered by plugin CaptionDaemon.Plugins.Outputs", failed["CaptionDaemon.Plugins.Outputs"], StringComparison.Ordinal);
        Assert.Contains("format", failed["Garbage"], StringComparison.OrdinalIgnoreCase); // BadImageFormatException: not an assembly

        Assert.True(catalog.TryGetSinkFactory("jsonl", out var jsonl, out var owner));
        Assert.Equal("CaptionDaemon.Plugins.Outputs", owner);
        Assert.Equal("jsonl", jsonl.TypeName);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
