namespace CaptionDaemon.Training.Training.Features;

/// <summary>A log-mel cache is missing, unreadable, stale or made for another front end; the message names the file and what differs.</summary>
internal sealed class FeatureCacheException : Exception
{
    public FeatureCacheException()
        : base("The log-mel feature cache cannot be used.")
    {
    }

    public FeatureCacheException(string message)
        : base(message)
    {
    }

    public FeatureCacheException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
