using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>Creates <see cref="MqttSink"/>s for sinks configured with <c>"Type": "mqtt"</c>.</summary>
internal sealed class MqttSinkFactory : ICaptionSinkFactory, ISettingsValidator
{
    public string TypeName => "mqtt";

    public IReadOnlyCollection<string> SettingKeys => MqttSinkSettings.Keys;

    public void Validate(IConfigurationSection settings) => _ = MqttSinkSettings.FromConfiguration(settings);

    public ICaptionSink Create(CaptionSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = MqttSinkSettings.FromConfiguration(context.Settings);
        return new MqttSink(context.Name, settings, context.Logger);
    }
}
