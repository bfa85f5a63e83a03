using System.Net;
using CaptionDaemon.Contracts;
using CaptionDaemon.Mqtt;
using CaptionDaemon.Plugins.Mqtt;
using CaptionDaemon.Tests.Sinks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using Xunit.Abstractions;

namespace CaptionDaemon.Tests.Mqtt;

public sealed class EmbeddedBrokerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartAsync_Defaults_ListensOnLoopbackOnlyAndAcceptsLocalClients()
    {
        var options = new EmbeddedBrokerOptions();
        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(1883, options.Port);
        Assert.False(options.AllowAnonymous);
        options.Port = 0;
        await using var broker = Broker(options);

        await broker.StartAsync(CancellationToken.None);

        Assert.NotNull(broker.Endpoint);
        Assert.True(IPAddress.IsLoopback(broker.Endpoint.Address));
        Assert.NotEqual(0, broker.Endpoint.Port);
        Assert.True(await CanConnectAsync(broker, null, null));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public async Task StartAsync_BeyondLoopbackWithoutCredentials_RefusesNamingTheKeys(string host)
    {
        await using var broker = Broker(new EmbeddedBrokerOptions { Host = host, Port = 0 });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => broker.StartAsync(CancellationToken.None));

        Assert.Contains("Broker:Username", error.Message, StringComparison.Ordinal);
        Assert.Contains("Broker:AllowAnonymous", error.Message, StringComparison.Ordinal);
        Assert.Null(broker.Endpoint);
    }

    [Fact]
    public async Task StartAsync_BeyondLoopbackWithAllowAnonymous_Starts()
    {
        await using var broker = Broker(new EmbeddedBrokerOptions { Host = "0.0.0.0", Port = 0, AllowAnonymous = true });

        await broker.StartAsync(CancellationToken.None);

        Assert.True(await CanConnectAsync(broker, null, null));
    }

    [Fact]
    public async Task StartAsync_BadHost_RefusesNamingTheKey()
    {
        await using var broker = Broker(new EmbeddedBrokerOptions { Host = "broker.example", Port = 0 });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => broker.StartAsync(CancellationToken.None));

        Assert.Contains("Broker:Host", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_CredentialsConfigured_OnlyTheRightOnesAccepted()
    {
        await using var broker = Broker(new EmbeddedBrokerOptions { Host = "0.0.0.0", Port = 0, Username = "captiond", Password = "s3cret" });
        await broker.StartAsync(CancellationToken.None);

        Assert.True(await CanConnectAsync(broker, "captiond", "s3cret"));
        Assert.False(await CanConnectAsync(broker, "captiond", "wrong"));
        Assert.False(await CanConnectAsync(broker, "someone", "s3cret"));
        Assert.False(await CanConnectAsync(broker, null, null));
    }

    [Fact]
    public async Task StopAsync_Started_StopsListening()
    {
        await using var broker = Broker(new EmbeddedBrokerOptions { Port = 0 });
        await broker.StartAsync(CancellationToken.None);
        var endpoint = broker.Endpoint!;

        await broker.StopAsync(CancellationToken.None);

        using var client = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => client.ConnectAsync(endpoint.Address, endpoint.Port));
    }

    [Fact]
    public async Task MqttSink_EmbeddedBrokerWithCredentials_DeliversCaptionsWithTheirLabelsToASubscriber()
    {
        await using var broker = Broker(new EmbeddedBrokerOptions { Port = 0, Username = "captiond", Password = "s3cret" });
        await broker.StartAsync(CancellationToken.None);
        var port = broker.Endpoint!.Port;
        using var watcher = new MqttClientFactory().CreateMqttClient();
        var received = new System.Collections.Concurrent.ConcurrentQueue<(string Topic, string Payload)>();
        watcher.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue((e.ApplicationMessage.Topic, System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, e.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
        await watcher.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithCredentials("captiond", "s3cret").Build());
        await watcher.SubscribeAsync("captiond/#", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Sinks:mqtt:Url"] = $"mqtt://captiond:s3cret@127.0.0.1:{port}", ["Sinks:mqtt:HomeAssistant:Enabled"] = "false" })
            .Build()
            .GetSection("Sinks:mqtt");
        await using var sink = (MqttSink)new MqttSinkFactory().Create(new CaptionSinkContext
        {
            Name = "mqtt",
            Settings = settings,
            Logger = new XunitLogger(output, "mqtt"),
            StateDirectory = Path.GetTempPath(),
        });
        await Poll.UntilAsync(() => sink.IsConnected, TimeSpan.FromSeconds(20), "the sink's connection");

        await sink.PublishAsync([Captions.Make(1) with { Labels = [new("dog", "Dog", 0.91), new("speech", "Speech", 0.62)] }], CancellationToken.None);

        await Poll.UntilAsync(() => received.Any(m => m.Topic == "captiond/kitchen/caption"), TimeSpan.FromSeconds(20), "the caption");
        using var payload = System.Text.Json.JsonDocument.Parse(received.First(m => m.Topic == "captiond/kitchen/caption").Payload);
        Assert.Equal(
            [("dog", 0.91), ("speech", 0.62)],
            payload.RootElement.GetProperty("labels").EnumerateArray().Select(l => (l.GetProperty("label").GetString(), l.GetProperty("score").GetDouble())));
    }

    /// <summary>The README's <c>mosquitto_sub</c> line: mosquitto's tools (and paho's defaults) send no client id.</summary>
    [Theory]
    [InlineData("mqttv311")]
    [InlineData("mqttv5")]
    public async Task Connect_MosquittoToolsWithoutClientId_GetAnIdAndExchangeMessages(string protocol)
    {
        await using var broker = Broker(new EmbeddedBrokerOptions { Port = 0 });
        await broker.StartAsync(CancellationToken.None);
        var port = broker.Endpoint!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Retained, so the subscriber that connects afterwards is sure to get it.
        var published = await ChildProcess.RunAsync("mosquitto_pub", ["-h", "127.0.0.1", "-p", port, "-V", protocol, "-r", "-q", "1", "-t", "captiond/test/status", "-m", "online"], TimeSpan.FromSeconds(30));
        var received = await ChildProcess.RunAsync("mosquitto_sub", ["-h", "127.0.0.1", "-p", port, "-V", protocol, "-t", "captiond/#", "-v", "-C", "1", "-W", "20"], TimeSpan.FromSeconds(30));

        Assert.True(published.ExitCode == 0, $"mosquitto_pub: exit {published.ExitCode}: {published.Error}");
        Assert.True(received.ExitCode == 0, $"mosquitto_sub: exit {received.ExitCode}: {received.Error}");
        Assert.Equal("captiond/test/status online", received.Output.Trim());
    }

    private EmbeddedBroker Broker(EmbeddedBrokerOptions options) =>
        new(Options.Create(options), new XunitLoggerFactory(output).CreateLogger<EmbeddedBroker>());

    private static async Task<bool> CanConnectAsync(EmbeddedBroker broker, string? user, string? password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Endpoint!.Port).WithTimeout(TimeSpan.FromSeconds(10));
        if (user is not null)
        {
            builder = builder.WithCredentials(user, password);
        }

        try
        {
            var result = await client.ConnectAsync(builder.Build());
            return result.ResultCode == MqttClientConnectResultCode.Success;
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException)
        {
            return false;
        }
    }
}
