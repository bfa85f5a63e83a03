using System.Globalization;
using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Outputs;

/// <summary>Reads a sink's settings; a wrong value fails with the full key (e.g. <c>Sinks:hook:TimeoutSeconds</c>).</summary>
internal static class SinkSettings
{
    public static string Key(IConfigurationSection settings, string key) => $"{settings.Path}:{key}";

    public static bool GetBoolean(IConfigurationSection settings, string key, bool defaultValue)
    {
        var text = settings[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return defaultValue;
        }

        return bool.TryParse(text.Trim(), out var value)
            ? value
            : throw new PluginConfigurationException($"{Key(settings, key)}: must be true or false, was \"{text}\".");
    }

    public static double GetPositiveNumber(IConfigurationSection settings, string key, double defaultValue)
    {
        var text = settings[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return defaultValue;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value > 0
            ? value
            : throw new PluginConfigurationException($"{Key(settings, key)}: must be a number greater than 0, was \"{text}\".");
    }

    public static string GetRequiredString(IConfigurationSection settings, string key, string meaning)
    {
        var text = settings[key];
        return string.IsNullOrWhiteSpace(text)
            ? throw new PluginConfigurationException($"{Key(settings, key)}: required: {meaning}.")
            : text.Trim();
    }
}
