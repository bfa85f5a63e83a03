using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>Creates <see cref="MqttSink"/>s for sinks configured with <c>"Type": "mqtt"</c>.</summary>
internal sealed class MqttSinkFactory : ICaptionSinkFactory
{
    public string TypeName => "mqtt";

    public ICaptionSink Create(CaptionSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = MqttSinkSettings.FromConfiguration(context.Settings);
        return new MqttSink(context.Name, settings, context.Logger);
    }
}
