using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionDaemon.Tests.Scheduling;
using Xunit.Abstractions;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// Nobody starved: the built daemon captions a real-time source while another source (UDP) is flooded as fast as this
/// machine can send; the real-time source's captions keep a p99 latency under one hop, and the flood is dropped on its
/// own account and counted.
/// </summary>
public sealed class FloodEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private const double HopSeconds = 1;
    private static readonly TimeSpan _flood = TimeSpan.FromSeconds(15);
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-flood-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task Run_OneSourceFloodedOverUdp_TheRealTimeSourceKeepsItsLatencyAndTheFloodIsCountedOnItsOwnAccount()
    {
        var udpPort = DaemonProcess.FreePort();
        var metricsPort = DaemonProcess.FreePort();
        var captions = Path.Combine(_temp.FullName, "captions.jsonl");
        var config = Path.Combine(_temp.FullName, "captiond.json");
        await File.WriteAllTextAsync(config, new JsonObject
        {
            ["StateDirectory"] = Path.Combine(_temp.FullName, "state"),
            ["Sources"] = new JsonObject
            {
                ["calm"] = new JsonObject { ["Type"] = "wav", ["Path"] = RepositoryFiles.Samples[1], ["Loop"] = "true", ["Realtime"] = "true" },
                ["flood"] = new JsonObject { ["Type"] = "udp", ["Listen"] = $"127.0.0.1:{udpPort}", ["SampleRate"] = "16000", ["Encoding"] = "f32le" },
            },
            ["Sinks"] = new JsonObject { ["file"] = new JsonObject { ["Type"] = "jsonl", ["Path"] = captions } },
            ["Broker"] = new JsonObject { ["Enabled"] = "false" },
            ["Captions"] = new JsonObject { ["SuppressRepeats"] = "false", ["MinConfidence"] = "0" },
        }.ToJsonString());
        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--model", RepositoryFiles.LabelledBundle, "--metrics", $"127.0.0.1:{metricsPort}", "--hop", HopSeconds.ToString(CultureInfo.InvariantCulture)]);
        await daemon.WaitForLineAsync(l => l.Contains("[calm ", StringComparison.Ordinal), TimeSpan.FromSeconds(90));

        // Noise, so that the flood's windows pass the silence gate: every one of them would be captioned if let in.
        var floodStart = DateTimeOffset.UtcNow;
        var sent = await Task.Run(() => Flood(udpPort, _flood));
        var floodEnd = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(3));

        var during = ReadCaptions(captions).Where(c => c.Source == "calm" && c.End >= floodStart && c.End <= floodEnd).Select(c => c.LatencyMs).Order().ToList();
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        var throttled = Sample(metrics, "captiond_source_throttled_seconds_total", "flood");
        var p99 = during.Count == 0 ? double.NaN : during[(int)Math.Ceiling(0.99 * during.Count) - 1];
        output.WriteLine($"sent {sent} datagrams ({sent * 1024 / 4 / 16000.0:0} s of audio) in {_flood.TotalSeconds} s; calm captions during the flood {during.Count}, p99 latency {p99:0} ms, max {during.LastOrDefault():0} ms; flood throttled {throttled:0} s");

        // A real-time source with a 1 s hop has about one caption per second of flood.
        Assert.True(during.Count >= _flood.TotalSeconds / HopSeconds / 2, $"only {during.Count} captions of the real-time source during the flood\n{daemon.Output()}");
        Assert.True(p99 < HopSeconds * 1000, $"p99 latency of the real-time source {p99:0} ms, not under one hop");
        Assert.True(throttled > 5, $"the flood should have been held back and counted, was {throttled} s");
        Assert.Equal(0, Sample(metrics, "captiond_windows_dropped_total", "calm"));
        Assert.False(daemon.HasExited);
    }

    private static long Flood(int port, TimeSpan duration)
    {
        using var udp = new UdpClient();
        udp.Connect(IPAddress.Loopback, port);
        var datagram = new byte[1024];
        var samples = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(datagram.AsSpan());
        var random = new Random(16);
        for (var i = 0; i < samples.Length; i++)
            samples[i] = (float)(random.NextDouble() - 0.5);
        long sent = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            udp.Send(datagram);
            sent++;
        }
        return sent;
    }

    /// <summary>The sum of a Prometheus sample's values whose labels include source="<paramref name="source"/>".</summary>
    private static double Sample(string metrics, string name, string source) =>
        metrics.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains($"source=\"{source}\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static List<(string Source, DateTimeOffset End, double LatencyMs)> ReadCaptions(string path)
    {
        var captions = new List<(string, DateTimeOffset, double)>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            captions.Add((root.GetProperty("source").GetString()!, DateTimeOffset.Parse(root.GetProperty("end").GetString()!, CultureInfo.InvariantCulture), root.GetProperty("latency_ms").GetDouble()));
        }
        return captions;
    }
}
