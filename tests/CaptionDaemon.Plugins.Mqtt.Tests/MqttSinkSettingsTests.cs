using CaptionDaemon.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Plugins.Mqtt.Tests;

public sealed class MqttSinkSettingsTests
{
    [Fact]
    public void FromConfiguration_UrlWithCredentials_TakesHostPortAndUser()
    {
        var settings = MqttSinkSettings.FromConfiguration(MqttTestSinks.Section(new Dictionary<string, string?> { ["Url"] = "mqtt://cap%40home:s3cr%3At@broker.lan:1884" }));

        Assert.Equal("broker.lan", settings.Host);
        Assert.Equal(1884, settings.Port);
        Assert.False(settings.UseTls);
        Assert.Equal("cap@home", settings.Username);
        Assert.Equal("s3cr:t", settings.Password);
        Assert.Equal("captiond", settings.TopicPrefix);
        Assert.True(settings.HomeAssistantEnabled);
        Assert.Equal("homeassistant", settings.HomeAssistantPrefix);
        Assert.StartsWith("captiond-", settings.ClientId, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_MqttsWithoutPort_UsesTlsPort8883AndKeysOverrideUrlCredentials()
    {
        var settings = MqttSinkSettings.FromConfiguration(MqttTestSinks.Section(new Dictionary<string, string?>
        {
            ["Url"] = "mqtts://old:old@[::1]",
            ["Username"] = "new",
            ["Password"] = "pw",
        }));

        Assert.True(settings.UseTls);
        Assert.Equal(8883, settings.Port);
        Assert.Equal("::1", settings.Host);
        Assert.Equal("new", settings.Username);
        Assert.Equal("pw", settings.Password);
    }

    [Theory]
    [InlineData("Url", null, "Sinks:mqtt:Url")]
    [InlineData("Url", "http://broker:80", "Sinks:mqtt:Url")]
    [InlineData("TopicPrefix", "captiond/#", "Sinks:mqtt:TopicPrefix")]
    [InlineData("KeepAliveSeconds", "often", "Sinks:mqtt:KeepAliveSeconds")]
    [InlineData("HomeAssistant:Enabled", "maybe", "Sinks:mqtt:HomeAssistant:Enabled")]
    [InlineData("HomeAssistant:NodeId", "my node", "Sinks:mqtt:HomeAssistant:NodeId")]
    [InlineData("Tls:CaFile", "/nonexistent/ca.pem", "Sinks:mqtt:Tls:CaFile")]
    public void FromConfiguration_BadValue_ThrowsNamingTheKey(string key, string? value, string expectedKey)
    {
        var values = new Dictionary<string, string?> { ["Url"] = "mqtt://127.0.0.1", [key] = value };

        var error = Assert.Throws<PluginConfigurationException>(() => MqttSinkSettings.FromConfiguration(MqttTestSinks.Section(values)));

        Assert.StartsWith(expectedKey + ":", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_AddsSinkFactoryNamedMqtt()
    {
        var services = new ServiceCollection();

        new MqttPlugin().Register(services);

        var descriptor = Assert.Single(services, d => d.ServiceType == typeof(ICaptionSinkFactory));
        var factory = Assert.IsType<MqttSinkFactory>(Activator.CreateInstance(descriptor.ImplementationType!));
        Assert.Equal("mqtt", factory.TypeName);
    }
}
