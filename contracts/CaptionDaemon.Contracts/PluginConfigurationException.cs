namespace CaptionDaemon.Contracts;

/// <summary>A plugin's settings are wrong. The message names the configuration key and what is wrong with it.</summary>
public sealed class PluginConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PluginConfigurationException()
    {
    }

    /// <summary>Creates the exception, e.g. <c>"Sources:kitchen:Port: must be 1-65535, was 0"</c>.</summary>
    public PluginConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the underlying failure.</summary>
    public PluginConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
