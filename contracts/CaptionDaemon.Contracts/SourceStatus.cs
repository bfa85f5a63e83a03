namespace CaptionDaemon.Contracts;

/// <summary>The state of a source, as MQTT's <c>captiond/&lt;source&gt;/status</c> and the metrics show it.</summary>
public enum SourceState
{
    /// <summary>Created, not delivering audio yet.</summary>
    Starting,

    /// <summary>Delivering audio.</summary>
    Online,

    /// <summary>Lost its input and is retrying (e.g. ffmpeg restarting with backoff).</summary>
    Reconnecting,

    /// <summary>Finished or stopped on purpose.</summary>
    Offline,

    /// <summary>Failed and disabled; the detail says why.</summary>
    Error,
}

/// <summary>A change of a source's state.</summary>
/// <param name="SourceId">The source.</param>
/// <param name="State">Its new state.</param>
/// <param name="Detail">Why, in words, for <see cref="SourceState.Reconnecting"/> and <see cref="SourceState.Error"/>.</param>
/// <param name="Time">When it changed (UTC).</param>
public sealed record SourceStatus(string SourceId, SourceState State, string? Detail, DateTimeOffset Time);

/// <summary>Where a source reports changes of its state.</summary>
public interface ISourceStatusReporter
{
    /// <summary>Reports a new state; cheap and non-blocking.</summary>
    void Report(SourceState state, string? detail = null);
}
