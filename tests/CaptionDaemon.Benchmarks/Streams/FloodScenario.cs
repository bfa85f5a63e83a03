using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionDaemon.Benchmarks.Streams;

/// <summary>
/// Scenario <c>flood</c>: the built daemon (a child process) captions a real-time WAV source while a UDP source is
/// flooded as fast as this process can send. Prints the daemon's RSS before, during and after the flood (and how long it
/// took to come back within 20% of where it was), and the real-time source's latency during the flood.
/// </summary>
internal static class FloodScenario
{
    public static Command CreateCommand()
    {
        var floodOption = new Option<double>("--flood") { Description = "Seconds of flood.", DefaultValueFactory = _ => 30 };
        var afterOption = new Option<double>("--after") { Description = "Seconds watched after the flood.", DefaultValueFactory = _ => 60 };
        var hopOption = new Option<double>("--hop") { Description = "Windowing:HopSeconds.", DefaultValueFactory = _ => 2 };
        var modelOption = new Option<DirectoryInfo?>("--model") { Description = "Bundle folder; default: the repository's models/default." };
        var command = new Command("flood", "One UDP source flooded, one real-time source: the daemon's RSS before, during and after, and the real-time source's latency.");
        foreach (var option in new Option[] { floodOption, afterOption, hopOption, modelOption })
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) => await RunAsync(
            parse.GetValue(floodOption), parse.GetValue(afterOption), parse.GetValue(hopOption),
            parse.GetValue(modelOption)?.FullName ?? Metadata("CaptionDaemon.DefaultModel"), cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> RunAsync(double floodSeconds, double afterSeconds, double hop, string model, CancellationToken cancellationToken)
    {
        var daemonDirectory = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Metadata("CaptionDaemon.DaemonPlugins")))!;
        var temp = Directory.CreateTempSubdirectory("outbox-flood-bench-").FullName;
        var captions = Path.Combine(temp, "captions.jsonl");
        var udpPort = FreePort();
        var sample = Directory.GetFiles(Path.Combine(Metadata("CaptionDaemon.DefaultModel"), "samples"), "*.wav").Order(StringComparer.Ordinal).First();
        var config = Path.Combine(temp, "captiond.json");
        await File.WriteAllTextAsync(config, new JsonObject
        {
            ["StateDirectory"] = Path.Combine(temp, "state"),
            ["Sources"] = new JsonObject
            {
                ["calm"] = new JsonObject { ["Type"] = "wav", ["Path"] = sample, ["Loop"] = "true", ["Realtime"] = "true" },
                ["flood"] = new JsonObject { ["Type"] = "udp", ["Listen"] = $"127.0.0.1:{udpPort}", ["SampleRate"] = "16000", ["Encoding"] = "f32le" },
            },
            ["Sinks"] = new JsonObject { ["file"] = new JsonObject { ["Type"] = "jsonl", ["Path"] = captions } },
            ["Broker"] = new JsonObject { ["Enabled"] = "false" },
            ["Captions"] = new JsonObject { ["SuppressRepeats"] = "false", ["MinConfidence"] = "0" },
        }.ToJsonString(), cancellationToken).ConfigureAwait(false);

        var start = new ProcessStartInfo(Path.Combine(daemonDirectory, "captiond"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "run", "--config", config, "--model", model, "--metrics", $"127.0.0.1:{FreePort()}", "--hop", hop.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        start.Environment["CAPTIOND_CONFIG_DIR"] = Path.Combine(temp, "no-config");
        using var daemon = Process.Start(start) ?? throw new InvalidOperationException("captiond did not start");
        daemon.OutputDataReceived += (_, _) => { };
        daemon.ErrorDataReceived += (_, _) => { };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        try
        {
            // Warm: the model loaded and captioning for a while, so that the baseline is the daemon at work.
            var warm = Stopwatch.StartNew();
            while (Read(captions).Count < 5 && warm.Elapsed < TimeSpan.FromSeconds(120))
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            var before = Rss(daemon.Id);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"flood: model {model}, hop {hop} s, {Environment.ProcessorCount} cores; RSS before the flood {before:0} MB"));

            var peak = before;
            var floodStart = DateTimeOffset.UtcNow;
            using var stopFlood = new CancellationTokenSource(TimeSpan.FromSeconds(floodSeconds));
            var flooding = Task.Run(() => Flood(udpPort, stopFlood.Token), CancellationToken.None);
            while (!flooding.IsCompleted)
            {
                await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                peak = Math.Max(peak, Rss(daemon.Id));
            }
            var sent = await flooding.ConfigureAwait(false);
            var floodEnd = DateTimeOffset.UtcNow;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"flood: {sent} datagrams ({sent * 256 / 16000.0:0} s of audio) in {floodSeconds} s; RSS peak {peak:0} MB ({100 * (peak - before) / before:+0;-0}%)"));

            double? backWithin = null;
            var after = Stopwatch.StartNew();
            var last = peak;
            while (after.Elapsed < TimeSpan.FromSeconds(afterSeconds))
            {
                await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                last = Rss(daemon.Id);
                if (backWithin is null && Math.Abs(last - before) <= 0.2 * before)
                    backWithin = after.Elapsed.TotalSeconds;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"flood: RSS {afterSeconds:0} s after {last:0} MB ({100 * (last - before) / before:+0;-0}%); within 20% of before {(backWithin is { } b ? $"{b:0} s after the flood" : "never")}"));

            var during = Read(captions).Where(c => c.Source == "calm" && c.End >= floodStart && c.End <= floodEnd).Select(c => c.LatencyMs).Order().ToList();
            var p99 = during.Count == 0 ? double.NaN : during[(int)Math.Ceiling(0.99 * during.Count) - 1];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"flood: real-time source during the flood: {during.Count} captions, p50 {(during.Count == 0 ? double.NaN : during[during.Count / 2]):0} ms, p99 {p99:0} ms (one hop = {hop * 1000:0} ms)"));
            return backWithin is not null && p99 < hop * 1000 ? 0 : 1;
        }
        finally
        {
            daemon.Kill(entireProcessTree: true);
            await daemon.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            Directory.Delete(temp, recursive: true);
        }
    }

    private static long Flood(int port, CancellationToken cancellationToken)
    {
        using var udp = new UdpClient();
        udp.Connect(IPAddress.Loopback, port);
        var datagram = new byte[1024];
        var samples = MemoryMarshal.Cast<byte, float>(datagram.AsSpan());
        var random = new Random(16);
        for (var i = 0; i < samples.Length; i++)
            samples[i] = (float)(random.NextDouble() - 0.5);
        long sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            udp.Send(datagram);
            sent++;
        }
        return sent;
    }

    /// <summary>VmRSS of a process in MB.</summary>
    private static double Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture) / 1024.0;
        }
        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS");
    }

    private static List<(string Source, DateTimeOffset End, double LatencyMs)> Read(string path)
    {
        var captions = new List<(string, DateTimeOffset, double)>();
        if (!File.Exists(path))
            return captions;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                captions.Add((root.GetProperty("source").GetString()!, DateTimeOffset.Parse(root.GetProperty("end").GetString()!, CultureInfo.InvariantCulture), root.GetProperty("latency_ms").GetDouble()));
            }
            catch (JsonException)
            {
                // The sink is writing this line right now.
            }
        }
        return captions;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Metadata(string key) =>
        typeof(FloodScenario).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The benchmark was built without {key}.");
}
