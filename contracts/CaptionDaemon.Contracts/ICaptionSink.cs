namespace CaptionDaemon.Contracts;

/// <summary>Where captions go: an MQTT broker, a file, a webhook.</summary>
/// <remarks>
/// The host owns batching, the bounded queue in front of each sink, the outbox during outages and retry with
/// backoff. A sink only delivers: <see cref="PublishAsync"/> returns when the batch is delivered, throws
/// <see cref="SinkUnavailableException"/> when the destination is unreachable for now (the host keeps the batch and
/// retries it, in order), and any other exception (a bug, a refusal that retrying soon cannot fix) marks the sink
/// failed: reported, its outbox kept, and tried again on a slow timer; the other sinks go on.
/// Calls never overlap.
/// </remarks>
public interface ICaptionSink : IAsyncDisposable
{
    /// <summary>The sink's name from configuration, for logs and metrics.</summary>
    string Name { get; }

    /// <summary>Delivers a batch of captions, in order.</summary>
    Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken);
}

/// <summary>Optional: a sink that also publishes source states (e.g. MQTT's retained status topics).</summary>
public interface ISourceStatusSink
{
    /// <summary>Called for every change of a source's state, and once per source when the sink starts.</summary>
    Task PublishStatusAsync(SourceStatus status, CancellationToken cancellationToken);
}

/// <summary>Optional: a sink that describes sources to its consumers (e.g. Home Assistant discovery).</summary>
public interface ISourceDescriptionSink
{
    /// <summary>Called for every configured source when the sink starts, and again when the model changes.</summary>
    Task PublishDescriptionAsync(SourceDescription description, CancellationToken cancellationToken);
}

/// <summary>Optional: a sink that publishes the sources' audio levels (e.g. for tuning a microphone).</summary>
/// <remarks>Levels are not queued: a sink that is busy or unavailable gets the latest level of each source later.</remarks>
public interface ISourceLevelSink
{
    /// <summary>Called with a source's latest level, at most once per window of the source.</summary>
    Task PublishLevelAsync(SourceLevel level, CancellationToken cancellationToken);
}

/// <summary>
/// Optional: a sink that knows when its destination is reachable again (e.g. an MQTT client that reconnected), so that
/// the host delivers what waits in the outbox at once instead of at the end of its retry backoff.
/// </summary>
public interface ISinkAvailability
{
    /// <summary>Completes when the sink can deliver (at once when it can now); cancelled when the host stops waiting.</summary>
    Task WaitUntilAvailableAsync(CancellationToken cancellationToken);
}
