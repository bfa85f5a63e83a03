using CaptionDaemon.Contracts;
using CaptionDaemon.Tests.Mqtt;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace CaptionDaemon.Plugins.Mqtt.Tests;

/// <summary>Creates MQTT sinks the way the daemon does: through the plugin's factory, from a configuration section.</summary>
internal static class MqttTestSinks
{
    public static IConfigurationSection Section(IDictionary<string, string?> settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(p => new KeyValuePair<string, string?>("Sinks:mqtt:" + p.Key, p.Value)))
            .Build()
            .GetSection("Sinks:mqtt");

    public static MqttSink Create(ITestOutputHelper output, int port, params (string Key, string? Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Url"] = $"mqtt://127.0.0.1:{port}",
            ["ClientId"] = "captiond-test-" + Guid.NewGuid().ToString("N")[..6],
            ["HomeAssistant:NodeId"] = "testnode",
            ["ReconnectDelaySeconds"] = "1",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var context = new CaptionSinkContext
        {
            Name = "mqtt",
            Settings = Section(values),
            Logger = new XunitLogger(output, "mqtt"),
            StateDirectory = Path.GetTempPath(),
        };
        return (MqttSink)new MqttSinkFactory().Create(context);
    }

    public static Caption Caption(string source, long sequence, string text = "a dog barks") =>
        new(source, sequence, new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero).AddSeconds(sequence),
            new DateTimeOffset(2026, 1, 2, 3, 4, 15, 678, TimeSpan.Zero).AddSeconds(sequence), text, 0.8125, "student-scenes-v1", TimeSpan.FromMilliseconds(412.5));

    public static Task WaitConnectedAsync(MqttSink sink, int connections = 1) =>
        Poll.UntilAsync(() => sink.IsConnected && sink.Connections >= connections, TimeSpan.FromSeconds(20), $"the sink's connection #{connections}");
}
