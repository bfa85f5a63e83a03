using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Mqtt;
using CaptionDaemon.Sinks;
using CaptionDaemon.Tests.Sinks;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace CaptionDaemon.Tests.Mqtt;

/// <summary>The host's pump with the real MQTT sink and a real mosquitto that goes away mid-stream and comes back.</summary>
public sealed class MqttOutageTests(ITestOutputHelper output) : IDisposable
{
    private readonly MetricsProbe _probe = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("captiond-outage-").FullName;

    [Fact]
    public async Task Publish_BrokerRestartsMidStream_EverySequenceArrivesOnceInOrderAfterDroppingDuplicates()
    {
        const int Count = 30;
        // Persistence keeps the subscriber's session and its queued QoS 1 messages across the broker's restart.
        using var broker = await MosquittoBroker.StartAsync(persistence: true);
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "captiond/+/caption", "-c", "-i", "outage-watcher", "-q", "1");
        var sink = CreateSink(broker.Port);
        await Poll.UntilAsync(() => ((MqttSink)sink).IsConnected, TimeSpan.FromSeconds(20), "the sink's connection");
        var options = new SinkPumpOptions { RetryInitialDelay = TimeSpan.FromMilliseconds(100), RetryMaxDelay = TimeSpan.FromSeconds(1) };
        await using var pump = new SinkPump(sink, options, null, _probe.Metrics, new XunitLogger(output, "pump"));
        pump.Start();
        var sawRetrying = false;

        for (var sequence = 1; sequence <= Count; sequence++)
        {
            pump.Publish(Captions.Make(sequence));
            if (sequence == 10)
            {
                await broker.StopAsync();
            }

            if (sequence == 20)
            {
                await broker.RestartAsync();
            }

            sawRetrying |= pump.Snapshot().State == SinkState.Retrying;
            await Task.Delay(100);
        }

        await subscriber.WaitForAsync(s => FirstOccurrences(s).Count == Count, "every sequence number", TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(1, Count).Select(i => (long)i), FirstOccurrences(subscriber));
        Assert.True(sawRetrying, "the pump should have retried while the broker was down");
        // Running is set just after the batch that ended the outage is counted, so wait for both.
        await Poll.UntilAsync(() => pump.Snapshot() is { Delivered: Count, State: SinkState.Running }, TimeSpan.FromSeconds(10), "all delivered");
        var state = pump.Snapshot();
        Assert.Equal(SinkState.Running, state.State);
        Assert.Equal(0, state.Dropped);
        Assert.True(((MqttSink)sink).Connections >= 2);
    }

    public void Dispose()
    {
        _probe.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Sequence numbers in arrival order, each kept at its first arrival (QoS 1 may repeat a retried batch).</summary>
    private static List<long> FirstOccurrences(MosquittoSubscriber subscriber)
    {
        var seen = new HashSet<long>();
        var order = new List<long>();
        foreach (var payload in subscriber.PayloadsOf("captiond/kitchen/caption"))
        {
            var sequence = JsonDocument.Parse(payload).RootElement.GetProperty("seq").GetInt64();
            if (seen.Add(sequence))
            {
                order.Add(sequence);
            }
        }

        return order;
    }

    private ICaptionSink CreateSink(int port)
    {
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Sinks:mqtt:Url"] = $"mqtt://127.0.0.1:{port}",
                ["Sinks:mqtt:ClientId"] = "captiond-outage",
                ["Sinks:mqtt:ReconnectDelaySeconds"] = "1",
                ["Sinks:mqtt:HomeAssistant:Enabled"] = "false",
            })
            .Build()
            .GetSection("Sinks:mqtt");
        return new MqttSinkFactory().Create(new CaptionSinkContext { Name = "mqtt", Settings = settings, Logger = new XunitLogger(output, "mqtt"), StateDirectory = _directory });
    }
}
