using System.Diagnostics;
using System.Text.Json;
using CaptionDaemon.Tests.Mqtt;
using CaptionDaemon.Tests.Scheduling;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// The real captiond binary with its real plugins and the shipped model, against Debian's mosquitto and a real
/// mosquitto_sub; metrics and health scraped over HTTP.
/// </summary>
public sealed class DaemonEndToEndTests
{
    private static readonly TimeSpan _captionTimeout = TimeSpan.FromSeconds(90);

    private static string Sample(int index) => RepositoryFiles.Samples[index];

    [Fact]
    public async Task Run_WavSourceToMosquitto_MosquittoSubReceivesDocumentedCaptions()
    {
        using var broker = await MosquittoBroker.StartAsync();
        using var subscriber = SubscriberProcess.Start(broker.Port, "captiond/#");
        var metricsPort = DaemonProcess.FreePort();
        await using var daemon = DaemonProcess.Start([
            "run", "--source", "scene=file:" + Sample(0), "--mqtt", $"mqtt://127.0.0.1:{broker.Port}",
            "--metrics", $"127.0.0.1:{metricsPort}", "--hop", "1",
        ]);

        var line = await subscriber.WaitForLineAsync(l => l.StartsWith("captiond/scene/caption ", StringComparison.Ordinal), _captionTimeout, daemon);
        using var payload = JsonDocument.Parse(line["captiond/scene/caption ".Length..]);
        var root = payload.RootElement;
        Assert.Equal(["source", "seq", "run", "start", "end", "text", "confidence", "model", "latency_ms", "labels"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("scene", root.GetProperty("source").GetString());
        Assert.Equal(1, root.GetProperty("seq").GetInt64());
        var start = DateTimeOffset.Parse(root.GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse(root.GetProperty("end").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.EndsWith("Z", root.GetProperty("end").GetString(), StringComparison.Ordinal);
        Assert.Equal(10, (end - start).TotalSeconds, 2);
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("text").GetString()));
        Assert.InRange(root.GetProperty("confidence").GetDouble(), 0, 1);
        Assert.Equal(RepositoryFiles.DefaultModelName, root.GetProperty("model").GetString());
        Assert.True(root.GetProperty("latency_ms").GetDouble() >= 0);
        AssertLabels(root.GetProperty("labels"));
        await subscriber.WaitForLineAsync(l => l == "captiond/status online", TimeSpan.FromSeconds(10), daemon);
        await subscriber.WaitForLineAsync(l => l == "captiond/scene/status online", TimeSpan.FromSeconds(10), daemon);

        // The documented metrics, scraped over HTTP by a Prometheus-style GET.
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        foreach (var name in new[]
        {
            "captiond_windows_processed_total", "captiond_captions_published_total", "captiond_inference_duration_seconds_bucket",
            "captiond_caption_latency_seconds_bucket", "captiond_batch_size", "captiond_source_up", "captiond_sink_outbox_depth",
            "captiond_execution_provider", "captiond_plugins_loaded",
        })
        {
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }
        Assert.Contains("provider=\"cpu\"", metrics, StringComparison.Ordinal);

        var health = await http.GetAsync($"http://127.0.0.1:{metricsPort}/healthz");
        Assert.True(health.IsSuccessStatusCode);
        using var healthJson = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        Assert.Equal("ok", healthJson.RootElement.GetProperty("status").GetString());
        Assert.Equal(RepositoryFiles.DefaultModelName, healthJson.RootElement.GetProperty("model").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Run_BadSourcesAndAThrowingPlugin_ReportedWhileTheGoodSourceKeepsCaptioning()
    {
        var temp = Directory.CreateTempSubdirectory("captiond-e2e-").FullName;
        var corrupt = Path.Combine(temp, "corrupt.wav");
        await File.WriteAllBytesAsync(corrupt, [.. "RIFX"u8.ToArray(), .. new byte[200]]);
        var truncated = Path.Combine(temp, "truncated.wav");
        var whole = await File.ReadAllBytesAsync(Sample(1));
        await File.WriteAllBytesAsync(truncated, whole.AsSpan(0, whole.Length / 2).ToArray());
        var plugins = FaultyPluginFolder(temp);
        var udpPort = DaemonProcess.FreePort();
        var metricsPort = DaemonProcess.FreePort();
        var config = Path.Combine(temp, "captiond.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Sources": {
                "broken-stream": { "Type": "ffmpeg", "Input": "http://127.0.0.1:{{DaemonProcess.FreePort()}}/nothing-here", "MaxBackoffSeconds": 2 },
                "faulty": { "Type": "faulty", "Chunks": 5 },
                "nosuchtype": { "Type": "no-such-source" },
                "garbage": { "Type": "udp", "Listen": "127.0.0.1:{{udpPort}}", "SampleRate": 16000, "Encoding": "f32le" }
              },
              "Sinks": {
                "out": { "Type": "jsonl", "Path": "{{Path.Combine(temp, "captions.jsonl")}}" },
                "bug": { "Type": "faulty" }
              },
              "Broker": { "Enabled": false }
            }
            """);
        await using var daemon = DaemonProcess.Start([
            "run", "--config", config, "--plugins", plugins, "--metrics", $"127.0.0.1:{metricsPort}",
            "--source", "good=file:" + Sample(0), "--source", "corrupt=file:" + corrupt, "--source", "truncated=file:" + truncated,
        ]);

        // Garbage on UDP: odd lengths and NaNs must not take the source or the daemon down.
        using (var udp = new System.Net.Sockets.UdpClient())
        {
            var rng = new Random(7);
            for (var i = 0; i < 50; i++)
            {
                var datagram = new byte[rng.Next(1, 1400)];
                rng.NextBytes(datagram);
                await udp.SendAsync(datagram, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, udpPort));
            }
        }

        await daemon.WaitForLineAsync(l => l.Contains("Source corrupt is disabled", StringComparison.Ordinal) && l.Contains("corrupt.wav", StringComparison.Ordinal), _captionTimeout);
        // A plugin source that throws is restarted with backoff: it fails again after its restart, and waits longer.
        await daemon.WaitForLineAsync(l => l.Contains("Source faulty: Reconnecting faulty source: simulated device failure; restarting in 1 s", StringComparison.Ordinal), _captionTimeout);
        await daemon.WaitForLineAsync(l => l.Contains("Source faulty: Reconnecting faulty source: simulated device failure; restarting in 2 s", StringComparison.Ordinal), _captionTimeout);
        await daemon.WaitForLineAsync(l => l.Contains("Source nosuchtype is disabled", StringComparison.Ordinal) && l.Contains("no-such-source", StringComparison.Ordinal), _captionTimeout);
        await daemon.WaitForLineAsync(l => l.Contains("broken-stream", StringComparison.Ordinal) && l.Contains("Reconnecting", StringComparison.Ordinal), _captionTimeout);
        await daemon.WaitForLineAsync(l => l.Contains("[good ", StringComparison.Ordinal), _captionTimeout);
        await daemon.WaitForLineAsync(l => l.Contains("[truncated ", StringComparison.Ordinal), _captionTimeout);
        await daemon.WaitForLineAsync(l => l.Contains("bug", StringComparison.Ordinal) && l.Contains("faulty sink: simulated bug", StringComparison.Ordinal), _captionTimeout);

        using var http = new HttpClient();
        using var health = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/healthz"));
        Assert.Equal("degraded", health.RootElement.GetProperty("status").GetString());
        var sources = health.RootElement.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!, s => s.GetProperty("state").GetString());
        Assert.Equal("error", sources["corrupt"]);
        Assert.Contains(sources["faulty"], new[] { "online", "reconnecting" });
        Assert.NotEqual("error", sources["garbage"]);
        var sinks = health.RootElement.GetProperty("sinks").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("state").GetString());
        Assert.Equal("failed", sinks["bug"]);
        Assert.NotEqual("failed", sinks["out"]);
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Contains("captiond_plugin_failures_total", metrics, StringComparison.Ordinal);

        // `captiond plugins` asks the running daemon what is failing.
        await using (var listing = DaemonProcess.Start(["plugins", "--plugins", plugins, "--daemon", $"127.0.0.1:{metricsPort}"]))
        {
            await listing.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.Contains(listing.Lines, l => l.Contains("source corrupt", StringComparison.Ordinal) && l.Contains("disabled", StringComparison.Ordinal));
            Assert.True(listing.Lines.Any(l => l.Contains("sink bug (faulty): failed: faulty sink: simulated bug", StringComparison.Ordinal)), listing.Output());
        }

        // The good sources' captions still reach the healthy sink.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < _captionTimeout && !(File.Exists(Path.Combine(temp, "captions.jsonl")) && (await File.ReadAllTextAsync(Path.Combine(temp, "captions.jsonl"))).Contains("\"source\":\"good\"", StringComparison.Ordinal)))
            await Task.Delay(200);
        Assert.Contains("\"source\":\"good\"", await File.ReadAllTextAsync(Path.Combine(temp, "captions.jsonl")), StringComparison.Ordinal);
        Assert.False(daemon.HasExited);
    }

    [Fact]
    public async Task Run_CorruptBundleDropped_RefusedAndOldModelKeepsCaptioning_ThenGoodBundleSwappedIn()
    {
        var temp = Directory.CreateTempSubdirectory("captiond-reload-").FullName;
        var model = Path.Combine(temp, "model");
        CopyBundle(Path.Combine(DaemonProcess.RepositoryRoot, "models", "default"), model);
        await using var daemon = DaemonProcess.Start([
            "run", "--model", model, "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}", "--hop", "1",
            "--config", WriteJson(temp, $$"""
                {
                  "Sources": { "scene": { "Type": "wav", "Path": "{{Sample(0)}}", "Loop": true } },
                  "Broker": { "Enabled": false }, "Sinks": { "none": { "Disabled": true } }, "Captions": { "SuppressRepeats": false }
                }
                """),
        ]);
        await daemon.WaitForLineAsync(l => l.Contains("[scene ", StringComparison.Ordinal), _captionTimeout);

        // A corrupt graph: the checksum no longer matches. Refused with the file named; captions go on.
        var encoder = Path.Combine(model, "encoder.onnx");
        var bytes = await File.ReadAllBytesAsync(encoder);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(encoder, bytes);
        await daemon.WaitForLineAsync(l => l.Contains("encoder.onnx", StringComparison.Ordinal) && l.Contains("refused", StringComparison.OrdinalIgnoreCase), _captionTimeout);
        var before = daemon.Lines.Count(l => l.Contains("[scene ", StringComparison.Ordinal));
        await daemon.WaitForLineAsync(_ => daemon.Lines.Count(l => l.Contains("[scene ", StringComparison.Ordinal)) > before + 1, _captionTimeout);

        // A good bundle under a new name, announced with SIGHUP: swapped in between batches.
        CopyBundle(Path.Combine(DaemonProcess.RepositoryRoot, "models", "default"), model);
        var manifest = Path.Combine(model, "manifest.json");
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace($"\"{RepositoryFiles.DefaultModelName}\"", $"\"{RepositoryFiles.DefaultModelName}-reloaded\"", StringComparison.Ordinal));
        Assert.True(DaemonProcess.Signal(daemon.Id, 1));
        await daemon.WaitForLineAsync(l => l.Contains($"{RepositoryFiles.DefaultModelName}-reloaded", StringComparison.Ordinal), _captionTimeout);
        var afterSwap = daemon.Lines.Count(l => l.Contains("[scene ", StringComparison.Ordinal));
        await daemon.WaitForLineAsync(_ => daemon.Lines.Count(l => l.Contains("[scene ", StringComparison.Ordinal)) > afterSwap, _captionTimeout);
        Assert.False(daemon.HasExited);
    }

    [Fact]
    public async Task Caption_GoodShortAndBadFiles_PrintsOneLinePerWindowAndFailsOnlyTheBadFile()
    {
        var temp = Directory.CreateTempSubdirectory("captiond-caption-").FullName;
        var shortFile = Path.Combine(temp, "short.wav");
        var whole = await File.ReadAllBytesAsync(Sample(2));
        await File.WriteAllBytesAsync(shortFile, whole.AsSpan(0, 44 + (3 * 16000 * 2)).ToArray());
        var bad = Path.Combine(temp, "bad.wav");
        await File.WriteAllTextAsync(bad, "this is not audio");
        await using var daemon = DaemonProcess.Start(["caption", Sample(0), shortFile, bad, "--hop", "2", "--beam", "1"]);
        var exit = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 1, daemon.Output());
        var json = daemon.Lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var full = json.Where(j => j.GetProperty("file").GetString() == Sample(0)).ToList();
        Assert.True(full.Count == 1, daemon.Output()); // a 10 s scene at a 10 s window: one window
        Assert.Equal(["file", "start", "end", "text", "confidence", "labels"], full[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Array, full[0].GetProperty("labels").ValueKind);
        AssertLabels(full[0].GetProperty("labels"));
        var shortLines = json.Where(j => j.GetProperty("file").GetString() == shortFile).ToList();
        Assert.Single(shortLines);
        Assert.Equal(3, shortLines[0].GetProperty("end").GetDouble(), 1);
        Assert.Contains(daemon.Lines, l => l.Contains(bad, StringComparison.Ordinal) && !l.StartsWith('{'));
        Assert.DoesNotContain(json, j => j.GetProperty("file").GetString() == bad);
    }

    [Fact]
    public async Task Caption_LabelledBundle_EachLinePrintsItsLabelsAboveThresholdHighestFirst()
    {
        var bundle = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "data", "labelled-bundle");
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "manifest.json")));
        var thresholds = manifest.RootElement.GetProperty("labels").EnumerateArray()
            .ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("threshold").GetDouble());
        await using var daemon = DaemonProcess.Start(["caption", Sample(0), "--model", bundle, "--hop", "1", "--beam", "1"]);

        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, daemon.Output());
        var lines = daemon.Lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(lines.Count == 10, daemon.Output()); // a 10 s scene in the bundle's 1 s windows
        foreach (var line in lines)
        {
            Assert.Equal(["file", "start", "end", "text", "confidence", "labels"], line.EnumerateObject().Select(p => p.Name));
            var labels = line.GetProperty("labels").EnumerateArray().Select(l => (Label: l.GetProperty("label").GetString()!, Score: l.GetProperty("score").GetDouble())).ToList();
            Assert.All(labels, l => Assert.True(l.Score >= thresholds[l.Label] - 1e-6, $"{l.Label} {l.Score} < {thresholds[l.Label]}"));
            Assert.Equal(labels.OrderByDescending(l => l.Score).Select(l => l.Label), labels.Select(l => l.Label));
            Assert.DoesNotContain(labels, l => l.Label == "nothing");
        }

        Assert.Contains(lines, l => l.GetProperty("labels").GetArrayLength() > 0);
    }

    [Fact]
    public async Task Caption_WindowOption_CutsWindowsOfThatLengthAndRefusesOneLongerThanTheModels()
    {
        await using (var daemon = DaemonProcess.Start(["caption", Sample(0), "--window", "5", "--hop", "5", "--beam", "1"]))
        {
            Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, daemon.Output());
            var json = daemon.Lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal([(0.0, 5.0), (5.0, 10.0)], json.Select(j => (j.GetProperty("start").GetDouble(), j.GetProperty("end").GetDouble())));
        }

        await using (var daemon = DaemonProcess.Start(["caption", Sample(0), "--window", "20"]))
        {
            Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 2, daemon.Output());
            Assert.Contains(daemon.Lines, l => l.Contains("Windowing:WindowSeconds", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Run_InvalidSetting_OneLineNamingTheKeyAndExitCode2()
    {
        await using var daemon = DaemonProcess.Start(
            ["run", "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}"],
            new Dictionary<string, string> { ["CAPTIOND__Windowing__HopSeconds"] = "-5" });

        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 2, daemon.Output());
        Assert.Contains(daemon.Lines, l => l.StartsWith("captiond: configuration error:", StringComparison.Ordinal) && l.Contains("Windowing:HopSeconds", StringComparison.Ordinal));
        Assert.DoesNotContain(daemon.Lines, l => l.Contains("Hosting failed to start", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_MissingModelFolder_OneLineNamingTheFolderAndExitCode1()
    {
        var missing = Path.Combine(Path.GetTempPath(), "captiond-no-such-model-" + Guid.NewGuid().ToString("N"));
        await using var daemon = DaemonProcess.Start(["run", "--model", missing, "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}"]);

        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 1, daemon.Output());
        Assert.Contains(daemon.Lines, l => l.StartsWith("captiond: cannot start:", StringComparison.Ordinal) && l.Contains(missing, StringComparison.Ordinal));
        Assert.DoesNotContain(daemon.Lines, l => l.Contains("Unhandled exception", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    private static string WriteJson(string directory, string json)
    {
        var path = Path.Combine(directory, "captiond.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static void CopyBundle(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }

    /// <summary>The faulty test plugin, copied into a plugins folder of its own, as a user would install a plugin.</summary>
    private static string FaultyPluginFolder(string temp)
    {
        var configuration = DaemonProcess.BuildConfiguration;
        var built = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "CaptionDaemon.Tests.FaultyPlugin", "bin", configuration, "net10.0");
        var folder = Path.Combine(temp, "plugins", "CaptionDaemon.Tests.FaultyPlugin");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(built))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        return Path.Combine(temp, "plugins");
    }

    /// <summary>The shipped model reports the labels it heard above their thresholds: label and score, highest first, never 'nothing'.</summary>
    private static void AssertLabels(JsonElement labels)
    {
        Assert.Equal(JsonValueKind.Array, labels.ValueKind);
        var entries = labels.EnumerateArray().ToList();
        Assert.All(entries, e => Assert.Equal(["label", "score"], e.EnumerateObject().Select(p => p.Name)));
        Assert.DoesNotContain(entries, e => e.GetProperty("label").GetString() == "nothing");
        var scores = entries.Select(e => e.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.All(scores, v => Assert.InRange(v, 0, 1));
    }
}
