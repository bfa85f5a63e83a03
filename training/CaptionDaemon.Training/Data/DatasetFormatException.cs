namespace CaptionDaemon.Training.Data;

/// <summary>A data set on disk does not have the expected layout; the message names the file (and line) and what is wrong.</summary>
internal sealed class DatasetFormatException : Exception
{
    public DatasetFormatException()
        : base("The data set does not have the expected layout.")
    {
    }

    public DatasetFormatException(string message)
        : base(message)
    {
    }

    public DatasetFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
