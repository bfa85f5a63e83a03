namespace CaptionDaemon.Sinks;

/// <summary>What a sink's pump is doing, for <c>captiond plugins</c> and <c>/healthz</c>.</summary>
internal enum SinkState
{
    /// <summary>Delivering, or idle with nothing to deliver.</summary>
    Running,

    /// <summary>The destination is unreachable; the batch at the head is retried with backoff.</summary>
    Retrying,

    /// <summary>The sink threw something other than <c>SinkUnavailableException</c>; it is tried again on a slow timer.</summary>
    Failed,
}

/// <summary>A snapshot of one sink's pump.</summary>
/// <param name="Name">The sink's name.</param>
/// <param name="State">Running, Retrying or Failed.</param>
/// <param name="LastError">The last failure's message (kept after recovery), or null.</param>
/// <param name="Depth">Captions waiting, including the batch being delivered.</param>
/// <param name="Delivered">Captions delivered since start.</param>
/// <param name="Dropped">Captions dropped since start (outbox full, or left undelivered at shutdown without persistence).</param>
internal sealed record SinkPumpState(string Name, SinkState State, string? LastError, long Depth, long Delivered, long Dropped);
