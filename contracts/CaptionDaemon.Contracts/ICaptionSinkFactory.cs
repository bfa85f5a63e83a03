using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Contracts;

/// <summary>Creates caption sinks of one type (<c>mqtt</c>, <c>jsonl</c>, <c>webhook</c>, ...).</summary>
public interface ICaptionSinkFactory
{
    /// <summary>The type name that configuration uses (<c>"Type": "mqtt"</c>). Case-insensitive, unique per daemon.</summary>
    string TypeName { get; }

    /// <summary>Creates a sink. Throw <see cref="PluginConfigurationException"/> for wrong settings, naming the key.</summary>
    ICaptionSink Create(CaptionSinkContext context);
}

/// <summary>What the host gives a sink factory for one configured sink.</summary>
public sealed class CaptionSinkContext
{
    /// <summary>The sink's name (its configuration key).</summary>
    public required string Name { get; init; }

    /// <summary>The sink's own configuration section, e.g. <c>Sinks:mqtt</c>.</summary>
    public required IConfigurationSection Settings { get; init; }

    /// <summary>A logger named after the sink.</summary>
    public required ILogger Logger { get; init; }

    /// <summary>A folder the sink may keep state in (created by the host; under the daemon's state directory).</summary>
    public required string StateDirectory { get; init; }
}
