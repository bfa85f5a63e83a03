using System.Text.Json;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// An incremental update (<c>captiond-train incremental</c>, see tests/data/incremental-demo/README.md) dropped into the
/// model folder of a running daemon: picked up without a restart, captions name the newly learnt event, and the
/// caption sequence has no gap across the swap.
/// </summary>
public sealed class IncrementalReloadTests
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(90);
    private static readonly string _demo = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "data", "incremental-demo");

    [Fact]
    public async Task Run_IncrementalBundleDroppedIntoModelFolder_CaptionsNameTheNewEventWithoutRestartOrGap()
    {
        var temp = Directory.CreateTempSubdirectory("captiond-incremental-").FullName;
        var model = Path.Combine(temp, "model");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(DaemonProcess.RepositoryRoot, "models", "default")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        var captions = Path.Combine(temp, "captions.jsonl");
        var config = Path.Combine(temp, "captiond.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Sources = new { kitchen = new { Type = "wav", Path = Path.Combine(_demo, "vacuum-scene.wav"), Loop = true } },
            Sinks = new { file = new { Type = "jsonl", Path = captions, FlushEachBatch = true } },
            Broker = new { Enabled = false },
            // Every window published: the base names nothing in the scene, so its captions sit under the bundle's recommended minimum.
            Captions = new { SuppressRepeats = false, MinConfidence = 0.0 },
            Model = new { ReloadPollSeconds = 1 },
        }));
        await using var daemon = DaemonProcess.Start(["run", "--model", model, "--hop", "1", "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}", "--config", config]);
        var pid = daemon.Id;
        await WaitAsync(() => Read(captions).Count >= 2, daemon);
        Assert.DoesNotContain(Read(captions), c => c.Text.Contains("vacuum", StringComparison.Ordinal));

        // The graphs first and the manifest last, as an installer would; the daemon retries a half-copied folder anyway.
        var bundle = Path.Combine(_demo, "bundle");
        foreach (var file in Directory.EnumerateFiles(bundle).OrderBy(f => Path.GetFileName(f) == "manifest.json"))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)), overwrite: true);

        var (baseName, updatedName) = (ModelName(Path.Combine(DaemonProcess.RepositoryRoot, "models", "default")), ModelName(bundle));
        Assert.Equal(baseName + "+vacuum", updatedName);
        await WaitAsync(() => Read(captions).Count(c => c.Model == updatedName && c.Text.Contains("vacuum", StringComparison.Ordinal)) >= 2, daemon);

        Assert.False(daemon.HasExited);
        Assert.Equal(pid, daemon.Id);
        var all = Read(captions);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(c => c.Seq));
        Assert.Contains(all, c => c.Model == baseName);
        Assert.Contains(daemon.Lines, l => l.Contains(updatedName, StringComparison.Ordinal));
    }

    /// <summary>The <c>name</c> in a bundle's manifest: the update must be the shipped model's own lineage.</summary>
    private static string ModelName(string bundle)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(bundle, "manifest.json")));
        return manifest.RootElement.GetProperty("name").GetString()!;
    }

    private static async Task WaitAsync(Func<bool> condition, DaemonProcess daemon)
    {
        var deadline = DateTime.UtcNow + _timeout;
        while (!condition())
        {
            Assert.False(daemon.HasExited, daemon.Output());
            Assert.True(DateTime.UtcNow < deadline, daemon.Output());
            await Task.Delay(200);
        }
    }

    private static List<(long Seq, string Text, string Model)> Read(string path)
    {
        if (!File.Exists(path))
            return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var result = new List<(long, string, string)>();
        while (reader.ReadLine() is { } line)
        {
            // The writer may be in the middle of a line; only whole lines count.
            if (!line.EndsWith('}'))
                break;
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            result.Add((root.GetProperty("seq").GetInt64(), root.GetProperty("text").GetString()!, root.GetProperty("model").GetString()!));
        }

        return result;
    }
}
