using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// The chart that <c>train</c> (and distillation) rewrites in its run folder after every epoch: the mean training loss
/// and the validation CIDEr-D by epoch, the loss against the left axis and the score against the right.
/// </summary>
internal static class TrainingCurves
{
    public const string FileName = "training-curves.png";

    public static LineChart Chart(IReadOnlyList<EpochRecord> history) => new()
    {
        Title = "Training loss and validation CIDEr-D by epoch",
        XLabel = "epoch",
        YLabel = "train loss (mean over the epoch)",
        RightYLabel = "validation CIDEr-D",
        ShowMarkers = true,
        Width = 1000,
        Height = 600,
        Series = [new ChartSeries("train loss", [.. history.Select(e => new DataPoint(e.Epoch, e.TrainLoss))])],
        RightSeries = [new ChartSeries("validation CIDEr-D", [.. history.Select(e => new DataPoint(e.Epoch, e.Validation.CiderD))])],
    };

    /// <summary>Writes <see cref="FileName"/> into <paramref name="runDirectory"/>; returns why not when no value is finite yet.</summary>
    public static string? Write(string runDirectory, IReadOnlyList<EpochRecord> history)
    {
        try
        {
            Chart(history).WritePng(Path.Combine(runDirectory, FileName));
            return null;
        }
        catch (ArgumentException e)
        {
            // A diverged first epoch (NaN loss) has nothing to draw; the run goes on and the next epoch draws again.
            return $"{FileName} not drawn: {e.Message}";
        }
    }
}
