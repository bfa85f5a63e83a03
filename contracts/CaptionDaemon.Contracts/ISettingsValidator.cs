using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Contracts;

/// <summary>
/// Optional, on an <see cref="IAudioSourceFactory"/> or <see cref="ICaptionSinkFactory"/>: checks one source's or
/// sink's settings without creating it, so that <c>captiond check-config</c> finds what <c>captiond run</c> would, and
/// names the keys the type reads, so that a misspelt key is reported with the nearest known one.
/// </summary>
/// <remarks>
/// Validate with the same code that <c>Create</c> reads the settings with, so that the two cannot disagree. It must
/// open no device, socket, connection or file for writing: it may run beside a running daemon.
/// </remarks>
public interface ISettingsValidator
{
    /// <summary>
    /// The keys this type reads, relative to its section (<c>Path</c>, <c>Tls:CaFile</c>); <c>Headers:*</c> stands for
    /// any key under <c>Headers</c>. Case-insensitive. The host adds its own keys (<c>Type</c>, <c>Disabled</c>, ...).
    /// </summary>
    IReadOnlyCollection<string> SettingKeys { get; }

    /// <summary>Throws <see cref="PluginConfigurationException"/>, naming the key, when the settings are wrong.</summary>
    /// <param name="settings">The source's or sink's own section, e.g. <c>Sources:kitchen</c>.</param>
    void Validate(IConfigurationSection settings);
}
