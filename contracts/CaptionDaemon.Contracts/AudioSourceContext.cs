using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Contracts;

/// <summary>What the host gives a source factory for one configured source.</summary>
public sealed class AudioSourceContext
{
    /// <summary>The source id (the configuration key, or the id given on the command line).</summary>
    public required string Id { get; init; }

    /// <summary>
    /// The source's own configuration section, e.g. <c>Sources:kitchen</c>; its path is the prefix to use in error
    /// messages.
    /// </summary>
    public required IConfigurationSection Settings { get; init; }

    /// <summary>A logger named after the source.</summary>
    public required ILogger Logger { get; init; }

    /// <summary>Where the source reports its state (published on <c>captiond/&lt;source&gt;/status</c>).</summary>
    public required ISourceStatusReporter Status { get; init; }
}
