using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Tests.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Xunit.Abstractions;

namespace CaptionDaemon.Plugins.Mqtt.Tests;

/// <summary>The sink against MQTTnet's own broker in this process, watched by an MQTTnet subscriber.</summary>
public sealed class MqttSinkMqttnetServerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ConcurrentQueue<MqttApplicationMessage> _received = new();
    private MqttServer _server = null!;
    private IMqttClient _subscriber = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = MosquittoBroker.FreePort();
        var factory = new MqttServerFactory();
        _server = factory.CreateMqttServer(factory.CreateServerOptionsBuilder().WithDefaultEndpoint().WithDefaultEndpointPort(_port)
            .WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback).WithDefaultEndpointBoundIPV6Address(System.Net.IPAddress.None).Build());
        await _server.StartAsync();
        _subscriber = new MqttClientFactory().CreateMqttClient();
        _subscriber.ApplicationMessageReceivedAsync += e =>
        {
            _received.Enqueue(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await _subscriber.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _port).WithClientId("watcher").Build());
        await _subscriber.SubscribeAsync("captiond/#", MqttQualityOfServiceLevel.AtLeastOnce);
    }

    public async Task DisposeAsync()
    {
        _subscriber.Dispose();
        await _server.StopAsync(new MqttServerStopOptions());
        _server.Dispose();
    }

    [Fact]
    public async Task PublishAsync_Connected_CaptionsArriveInOrderAtQos1NotRetained()
    {
        await using var sink = MqttTestSinks.Create(output, _port);
        await MqttTestSinks.WaitConnectedAsync(sink);

        await sink.PublishAsync([.. Enumerable.Range(1, 5).Select(i => MqttTestSinks.Caption("kitchen", i))], CancellationToken.None);
        await sink.PublishAsync([.. Enumerable.Range(6, 5).Select(i => MqttTestSinks.Caption("kitchen", i))], CancellationToken.None);

        await Poll.UntilAsync(() => Captions().Count == 10, TimeSpan.FromSeconds(10), "10 captions");
        var captions = Captions();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), captions.Select(m => JsonDocument.Parse(Encoding.UTF8.GetString(m.Payload)).RootElement.GetProperty("seq").GetInt64()));
        Assert.All(captions, m => Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, m.QualityOfServiceLevel));
        Assert.All(captions, m => Assert.False(m.Retain));
    }

    [Fact]
    public async Task ServerDropsConnection_WillSaysOfflineThenReconnectionRepublishesOnlineAndStates()
    {
        await using var sink = MqttTestSinks.Create(output, _port);
        await MqttTestSinks.WaitConnectedAsync(sink);
        await sink.PublishStatusAsync(new SourceStatus("kitchen", SourceState.Online, null, DateTimeOffset.UtcNow), CancellationToken.None);
        await Poll.UntilAsync(() => Texts("captiond/kitchen/status").Count == 1, TimeSpan.FromSeconds(10), "the kitchen's state");

        var client = Assert.Single(await _server.GetClientsAsync(), c => c.Id != "watcher");
        await client.DisconnectAsync(new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.AdministrativeAction });

        await Poll.UntilAsync(() => Texts("captiond/status").Contains("offline"), TimeSpan.FromSeconds(10), "the Will");
        await MqttTestSinks.WaitConnectedAsync(sink, connections: 2);
        // The state published before the connection dropped is published again after it (it may also have been sent twice before).
        await Poll.UntilAsync(() => AfterWill().Contains("captiond/kitchen/status=online"), TimeSpan.FromSeconds(10), "the kitchen's state again");
        Assert.Equal(["online", "offline", "online"], Texts("captiond/status"));
    }

    [Fact]
    public async Task PublishAsync_NoBroker_ThrowsSinkUnavailable()
    {
        await using var sink = MqttTestSinks.Create(output, MosquittoBroker.FreePort());

        var error = await Assert.ThrowsAsync<SinkUnavailableException>(() => sink.PublishAsync([MqttTestSinks.Caption("kitchen", 1)], CancellationToken.None));

        Assert.Contains("127.0.0.1", error.Message, StringComparison.Ordinal);
    }

    private List<MqttApplicationMessage> Captions() => [.. _received.Where(m => m.Topic == "captiond/kitchen/caption")];

    private List<string> AfterWill() =>
        [.. _received.Select(m => m.Topic + "=" + Encoding.UTF8.GetString(m.Payload)).SkipWhile(m => m != "captiond/status=offline")];

    private List<string> Texts(string topic) => [.. _received.Where(m => m.Topic == topic).Select(m => Encoding.UTF8.GetString(m.Payload))];
}
