namespace CaptionDaemon.Contracts;

/// <summary>
/// Thrown by <see cref="ICaptionSink.PublishAsync"/> when the destination cannot take captions right now (broker
/// down, HTTP 503). The host keeps the batch in its outbox and retries it later, in order.
/// </summary>
public sealed class SinkUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SinkUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message saying what is unreachable.</summary>
    public SinkUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying failure.</summary>
    public SinkUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
