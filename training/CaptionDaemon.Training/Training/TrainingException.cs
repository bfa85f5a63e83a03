namespace CaptionDaemon.Training.Training;

/// <summary>A training run cannot start or continue as asked; the message says what and where.</summary>
internal sealed class TrainingException : Exception
{
    public TrainingException()
        : base("The training run cannot start.")
    {
    }

    public TrainingException(string message)
        : base(message)
    {
    }

    public TrainingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
