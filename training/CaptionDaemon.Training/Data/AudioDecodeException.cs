namespace CaptionDaemon.Training.Data;

/// <summary>An audio file could not be decoded; names the file and what ffmpeg (or the check that failed) said.</summary>
internal sealed class AudioDecodeException : Exception
{
    public AudioDecodeException()
        : this("Audio decoding failed.")
    {
    }

    public AudioDecodeException(string message)
        : base(message)
    {
        FilePath = string.Empty;
        Reason = message;
    }

    public AudioDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
        FilePath = string.Empty;
        Reason = message;
    }

    public AudioDecodeException(string filePath, string reason, Exception? innerException = null)
        : base($"Cannot decode audio file '{filePath}': {reason}", innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>The file that failed (absolute path).</summary>
    public string FilePath { get; }

    /// <summary>Why it failed: ffmpeg's error output, or the check that did not hold.</summary>
    public string Reason { get; }
}
