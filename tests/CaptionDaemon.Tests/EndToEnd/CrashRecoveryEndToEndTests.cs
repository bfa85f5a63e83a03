using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionDaemon.Tests.Mqtt;
using CaptionDaemon.Tests.Scheduling;
using Xunit.Abstractions;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// A caption accepted is a caption delivered: the built daemon with a persistent outbox in front of a real mosquitto is
/// killed (SIGKILL) at random moments, most of them while mosquitto is down, and restarted each time; every caption
/// that was in the journal on disk after any kill must reach a subscriber once mosquitto is back, in order per source,
/// numbered on from one start to the next under one run.
/// </summary>
public sealed class CrashRecoveryEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private const int KillsDuringOutage = 16;
    private const int KillsWhileDelivering = 6;
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-crash-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task Run_KilledAtRandomDuringABrokerOutage_EveryJournaledCaptionIsDeliveredInOrder()
    {
        var clock = Stopwatch.StartNew();
        using var broker = await MosquittoBroker.StartAsync(persistence: true);
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "captiond/+/caption", "-c", "-i", "crash-watcher", "-q", "1");
        var state = Path.Combine(_temp.FullName, "state");
        var journal = Path.Combine(state, "outbox", "mqtt", "outbox.jsonl");
        var config = Path.Combine(_temp.FullName, "captiond.json");
        await File.WriteAllTextAsync(config, new JsonObject
        {
            ["StateDirectory"] = state,
            ["Sources"] = new JsonObject
            {
                ["room"] = new JsonObject { ["Type"] = "wav", ["Path"] = RepositoryFiles.Samples[1], ["Loop"] = "true", ["Realtime"] = "true" },
                ["hall"] = new JsonObject { ["Type"] = "wav", ["Path"] = RepositoryFiles.Samples[2], ["Loop"] = "true", ["Realtime"] = "true" },
            },
            ["Sinks"] = new JsonObject
            {
                ["mqtt"] = new JsonObject
                {
                    ["Type"] = "mqtt",
                    ["Url"] = $"mqtt://127.0.0.1:{broker.Port}",
                    ["ReconnectDelaySeconds"] = "1",
                    ["HomeAssistant"] = new JsonObject { ["Enabled"] = "false" },
                    ["Outbox"] = new JsonObject { ["Persist"] = "true" },
                },
            },
            ["Broker"] = new JsonObject { ["Enabled"] = "false" },
            ["Captions"] = new JsonObject { ["SuppressRepeats"] = "false", ["MinConfidence"] = "0" },
        }.ToJsonString());
        var arguments = new[] { "run", "--config", config, "--model", RepositoryFiles.LabelledBundle, "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}", "--hop", "0.25" };

        // Every caption seen in the journal after a kill was accepted: it must be delivered.
        var accepted = new HashSet<(string Source, string Run, long Seq)>();
        var random = new Random(Environment.TickCount);
        await broker.StopAsync();
        for (var kill = 1; kill <= KillsDuringOutage + KillsWhileDelivering; kill++)
        {
            if (kill == KillsDuringOutage + 1)
                await broker.RestartAsync();
            var daemon = DaemonProcess.Start(arguments);
            // Any moment: during start-up, while captioning, while restoring or delivering the journal.
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(300, 4500)));
            var exited = daemon.HasExited;
            daemon.Kill();
            await daemon.DisposeAsync();
            Assert.False(exited, "captiond exited by itself before it was killed");
            var found = ReadJournal(journal);
            accepted.UnionWith(found);
            output.WriteLine($"kill {kill}: {found.Count} captions in the journal, {accepted.Count} accepted so far");
        }

        await using (var last = DaemonProcess.Start(arguments))
        {
            await subscriber.WaitForAsync(s => accepted.IsSubsetOf(Received(s)), "every accepted caption", TimeSpan.FromSeconds(60));
        }

        var received = ReceivedInOrder(subscriber);
        Assert.Empty(accepted.Except(received));
        // In order per source: the first time each caption arrives, its number is higher than any before it.
        foreach (var source in received.GroupBy(r => r.Source))
        {
            var sequences = source.Select(r => r.Seq).Distinct().ToList();
            Assert.Equal(sequences.Order(), sequences);
        }

        // One run throughout: numbering continued across 22 starts instead of starting again from 1.
        Assert.Single(received.Select(r => r.Run).Distinct());
        var lost = accepted.Count - accepted.Intersect(received).Count();
        output.WriteLine($"{KillsDuringOutage + KillsWhileDelivering} kills, {accepted.Count} captions accepted, {lost} lost, {received.Count} deliveries; {clock.Elapsed.TotalSeconds:0} s");
        Assert.True(accepted.Count >= KillsDuringOutage, $"only {accepted.Count} captions were accepted: the test proved little");
    }

    private static HashSet<(string, string, long)> ReadJournal(string path)
    {
        var found = new HashSet<(string, string, long)>();
        if (!File.Exists(path))
            return found;
        foreach (var line in File.ReadAllLines(path))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                found.Add((root.GetProperty("sourceId").GetString()!, root.GetProperty("run").GetString()!, root.GetProperty("sequence").GetInt64()));
            }
            catch (JsonException)
            {
                // A torn last line was never acknowledged: not accepted.
            }
        }
        return found;
    }

    private static HashSet<(string, string, long)> Received(MosquittoSubscriber subscriber) => [.. ReceivedInOrder(subscriber)];

    private static List<(string Source, string Run, long Seq)> ReceivedInOrder(MosquittoSubscriber subscriber)
    {
        var received = new List<(string, string, long)>();
        foreach (var line in subscriber.Lines)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0 || !line.StartsWith("captiond/", StringComparison.Ordinal))
                continue;
            using var document = JsonDocument.Parse(line[(space + 1)..]);
            var root = document.RootElement;
            received.Add((root.GetProperty("source").GetString()!, root.GetProperty("run").GetString()!, root.GetProperty("seq").GetInt64()));
        }
        return received;
    }
}
