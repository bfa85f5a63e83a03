namespace CaptionDaemon.Contracts;

/// <summary>Creates audio sources of one type (<c>ffmpeg</c>, <c>wav</c>, <c>udp</c>, ...).</summary>
public interface IAudioSourceFactory
{
    /// <summary>The type name that configuration uses (<c>"Type": "wav"</c>). Case-insensitive, unique per daemon.</summary>
    string TypeName { get; }

    /// <summary>
    /// Creates a source from its configuration. Throw <see cref="PluginConfigurationException"/> when the settings are
    /// wrong, naming the key; the host disables the source, reports it and keeps the other sources running. Any other
    /// exception (a device that is not there yet) is retried with backoff.
    /// </summary>
    IAudioSource Create(AudioSourceContext context);
}
