using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// The built daemon heals and says so: <c>/healthz</c> is degraded while a source is not running and ok once it runs;
/// with the embedded broker, Home Assistant discovery is on and describes the model's labels, and the source's level
/// and status are published.
/// </summary>
public sealed class HealingEndToEndTests
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(90);
    private static readonly string _bundle = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "data", "labelled-bundle");

    [Fact]
    public async Task Run_TcpSourceWithoutSenderThenWithOne_HealthzDegradedThenOkAndEmbeddedBrokerCarriesDiscoveryLevelAndStatus()
    {
        var tcpPort = DaemonProcess.FreePort();
        var brokerPort = DaemonProcess.FreePort();
        var metricsPort = DaemonProcess.FreePort();
        var temp = Directory.CreateTempSubdirectory("captiond-heal-").FullName;
        var config = Path.Combine(temp, "captiond.json");
        var state = Path.Combine(temp, "state");
        await File.WriteAllTextAsync(config, $$"""
            {
              "StateDirectory": "{{state}}",
              "Sources": { "porch": { "Type": "tcp", "Listen": "127.0.0.1:{{tcpPort}}", "SampleRate": 16000, "Encoding": "f32le", "StallTimeoutSeconds": 2 } },
              "Broker": { "Port": {{brokerPort}} }
            }
            """);
        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--model", _bundle, "--metrics", $"127.0.0.1:{metricsPort}", "--hop", "1"]);
        using var http = new HttpClient();

        // Waiting for a sender: the source is not running, and /healthz says so.
        var degraded = await PollHealthAsync(http, metricsPort, h => h.GetProperty("status").GetString() == "degraded", daemon);
        Assert.Contains(degraded.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("source porch", StringComparison.Ordinal));

        // The embedded broker requires the credentials the daemon generated; mosquitto_sub reads them from their file.
        using var subscriber = SubscriberProcess.Start(brokerPort, "#", optionsFolder: Path.Combine(state, "mqtt-client"));
        using var sender = new TcpClient();
        await sender.ConnectAsync(IPAddress.Loopback, tcpPort);
        using var stream = sender.GetStream();
        using var send = new CancellationTokenSource();
        var sending = SendToneAsync(stream, send.Token);

        var ok = await PollHealthAsync(http, metricsPort, h => h.GetProperty("status").GetString() == "ok", daemon);
        Assert.Empty(ok.GetProperty("problems").EnumerateArray());
        Assert.Equal("online", ok.GetProperty("sources")[0].GetProperty("state").GetString());

        // Discovery is on with the embedded broker and its default sink: the event entity's types are the bundle's labels
        // and "caption".
        var configLine = await subscriber.WaitForLineAsync(l => l.StartsWith("homeassistant/event/", StringComparison.Ordinal) && l.Contains("/porch/config ", StringComparison.Ordinal), _timeout, daemon);
        using var discovery = JsonDocument.Parse(configLine[(configLine.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        var eventTypes = discovery.RootElement.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()!).ToList();
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_bundle, "manifest.json")));
        var labels = manifest.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("name").GetString()!).Where(n => n != "nothing").ToList();
        Assert.Equal([.. labels, "caption"], eventTypes);
        await subscriber.WaitForLineAsync(l => l == "captiond/porch/status online", _timeout, daemon);
        var level = await subscriber.WaitForLineAsync(l => l.StartsWith("captiond/porch/level ", StringComparison.Ordinal), _timeout, daemon);
        // A 0.3-amplitude sine is about -13.5 dBFS RMS.
        Assert.InRange(double.Parse(level["captiond/porch/level ".Length..], CultureInfo.InvariantCulture), -15, -12);
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        var gauge = metrics.Split('\n').Single(l => l.StartsWith("captiond_source_level_dbfs{", StringComparison.Ordinal) && l.Contains("source=\"porch\"", StringComparison.Ordinal));
        Assert.InRange(double.Parse(gauge[(gauge.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture), -15, -12);

        // Nobody else may publish: an anonymous client is refused.
        using (var fake = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{brokerPort}", "-t", "captiond/porch/caption", "-m", "fake"]) { RedirectStandardError = true })!)
        {
            await fake.WaitForExitAsync();
            Assert.NotEqual(0, fake.ExitCode);
        }
        Assert.DoesNotContain(subscriber.Lines, l => l == "captiond/porch/caption fake");

        // A sender that stays connected but sends nothing stalls: the status says so, and the next sender is accepted.
        await send.CancelAsync();
        await sending;
        var stalled = await PollHealthAsync(http, metricsPort, h => h.GetProperty("sources")[0].GetProperty("state").GetString() == "reconnecting", daemon);
        Assert.Contains("stalled", stalled.GetProperty("sources")[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        await subscriber.WaitForLineAsync(l => l.StartsWith("captiond/porch/status reconnecting", StringComparison.Ordinal) && l.Contains("stalled", StringComparison.Ordinal), _timeout, daemon);
        using var next = new TcpClient();
        await next.ConnectAsync(IPAddress.Loopback, tcpPort);
        using var nextStream = next.GetStream();
        using var sendNext = new CancellationTokenSource();
        var sendingNext = SendToneAsync(nextStream, sendNext.Token);
        await PollHealthAsync(http, metricsPort, h => h.GetProperty("sources")[0].GetProperty("state").GetString() == "online", daemon);
        await sendNext.CancelAsync();
        await sendingNext;
        GC.KeepAlive(sender);
    }

    [Fact]
    public async Task Run_WebhookRefusingThenFixed_HealthzShowsTheSinkDownWithItsErrorThenOkWithoutIt()
    {
        using var hook = new LoopbackHook(403);
        var metricsPort = DaemonProcess.FreePort();
        var config = Path.Combine(Directory.CreateTempSubdirectory("captiond-heal-sink-").FullName, "captiond.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Sources": { "room": { "Type": "wav", "Path": "{{Scheduling.RepositoryFiles.Samples[0]}}", "Loop": true } },
              "Sinks": { "hook": { "Type": "webhook", "Url": "{{hook.Url}}", "FailedRetrySeconds": 2 } },
              "Broker": { "Enabled": false },
              "Captions": { "SuppressRepeats": false, "MinConfidence": 0 }
            }
            """);
        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--model", _bundle, "--metrics", $"127.0.0.1:{metricsPort}", "--hop", "1"]);
        using var http = new HttpClient();

        // A 403 fails the sink: degraded, with the sink's error.
        var failed = await PollHealthAsync(http, metricsPort, h => Sink(h, "hook").GetProperty("state").GetString() == "failed", daemon);
        Assert.Equal("degraded", failed.GetProperty("status").GetString());
        Assert.Contains("403", Sink(failed, "hook").GetProperty("error").GetString(), StringComparison.Ordinal);

        // Fixed: the slow timer tries it again, it delivers, and neither the problem nor the old error stays.
        hook.Status = 204;
        var ok = await PollHealthAsync(http, metricsPort, h => h.GetProperty("status").GetString() == "ok", daemon);
        var sink = Sink(ok, "hook");
        Assert.Equal("running", sink.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, sink.GetProperty("error").ValueKind);
        Assert.True(sink.GetProperty("delivered").GetInt64() > 0);
    }

    private static JsonElement Sink(JsonElement health, string name) =>
        health.GetProperty("sinks").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);

    private static async Task SendToneAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var samples = new float[1600];
        var bytes = new byte[samples.Length * 4];
        var phase = 0L;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                for (var i = 0; i < samples.Length; i++, phase++)
                    samples[i] = 0.3f * MathF.Sin(2 * MathF.PI * 440 * phase / 16000f);
                Buffer.BlockCopy(samples, 0, bytes, 0, bytes.Length);
                await stream.WriteAsync(bytes, cancellationToken);
                await Task.Delay(100, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The test is done with the sender.
        }
    }

    private static async Task<JsonElement> PollHealthAsync(HttpClient http, int port, Func<JsonElement, bool> condition, DaemonProcess daemon)
    {
        var deadline = DateTime.UtcNow + _timeout;
        var last = "(no answer)";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await http.GetStringAsync($"http://127.0.0.1:{port}/healthz");
                var health = JsonDocument.Parse(last).RootElement;
                if (condition(health))
                    return health;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"/healthz never matched; last: {last}\n{daemon.Output()}");
    }
}
