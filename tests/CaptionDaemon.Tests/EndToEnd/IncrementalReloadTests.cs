using System.Text.Json;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// An incremental update (<c>captiond-train incremental</c>, see tests/data/incremental-demo/README.md) dropped into the
/// model folder of a running daemon with default caption settings: picked up without a restart, captions name the newly
/// learnt event and carry its new label above the update's carried minimum confidence, and the caption sequence has no
/// gap across the swap.
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
            // The bundles' own recommended minimum confidence (no MinConfidence here): the update must clear its carried one.
            Captions = new { SuppressRepeats = false },
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
        // The update taught the tagger a vacuum label; the base's tagger had none.
        Assert.Contains(Read(captions), c => c.Model == updatedName && c.Labels.Contains("vacuum"));
        Assert.DoesNotContain(Read(captions), c => c.Model == baseName && c.Labels.Contains("vacuum"));

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

    private static List<(long Seq, string Text, string Model, string[] Labels)> Read(string path)
    {
        if (!File.Exists(path))
            return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var result = new List<(long, string, string, string[])>();
        while (reader.ReadLine() is { } line)
        {
            // The writer may be in the middle of a line; only whole lines count.
            if (!line.EndsWith('}'))
                break;
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var labels = root.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("label").GetString()!).ToArray();
            result.Add((root.GetProperty("seq").GetInt64(), root.GetProperty("text").GetString()!, root.GetProperty("model").GetString()!, labels));
        }

        return result;
    }
}
