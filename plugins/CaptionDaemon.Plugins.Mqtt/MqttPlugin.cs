using CaptionDaemon.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>Registers the <c>mqtt</c> caption sink: captions over MQTT (QoS 1), retained states, Home Assistant discovery.</summary>
public sealed class MqttPlugin : ICaptionDaemonPlugin
{
    /// <inheritdoc />
    public void Register(IServiceCollection services) => services.AddSingleton<ICaptionSinkFactory, MqttSinkFactory>();
}
