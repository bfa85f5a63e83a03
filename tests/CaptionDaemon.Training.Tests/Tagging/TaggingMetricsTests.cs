using CaptionDaemon.Training.Tagging;

namespace CaptionDaemon.Training.Tests.Tagging;

public sealed class TaggingMetricsTests
{
    [Fact]
    public void Score_AWindowsBackgroundLabel_IsNeitherHitNorFalseAlarmForThatLabel()
    {
        // Three windows of a dog (label 0) and one of rain (label 1); the second dog window has rain under it, and the
        // tagger rightly scores rain highest there. Counted as a false alarm, that would halve rain's AP.
        float[][] probabilities = [[0.9f, 0.1f], [0.6f, 0.95f], [0.8f, 0.2f], [0.1f, 0.7f]];
        int[] truth = [0, 0, 0, 1];
        string[] labels = ["dog", "rain"];

        var plain = TaggingMetrics.Score(probabilities, truth, labels);
        var ignored = TaggingMetrics.Score(probabilities, truth, labels, ignored: [-1, 1, -1, -1]);

        Assert.Equal(0.5, plain.AveragePrecision["rain"], 9);
        Assert.Equal(1.0, ignored.AveragePrecision["rain"], 9);
        Assert.Equal(plain.AveragePrecision["dog"], ignored.AveragePrecision["dog"], 9);
        Assert.Equal(plain.Top1Accuracy, ignored.Top1Accuracy, 9);
    }

    [Fact]
    public void MeanOver_SomeLabels_AveragesTheirAPAloneAndIsNullWhenNoneHasOne()
    {
        // dog AP 1, rain AP 0.5 (its one window ranked second), piano AP 1; "cat" has no window, so no AP.
        float[][] probabilities = [[0.9f, 0.1f, 0.1f, 0f], [0.2f, 0.9f, 0.1f, 0f], [0.1f, 0.5f, 0.2f, 0f], [0.1f, 0.1f, 0.9f, 0f]];
        int[] truth = [0, 0, 1, 2];
        string[] labels = ["dog", "rain", "piano", "cat"];

        var scores = TaggingMetrics.Score(probabilities, truth, labels);

        Assert.Equal(0.5, scores.AveragePrecision["rain"], 9);
        Assert.Equal((scores.AveragePrecision["dog"] + 0.5) / 2, scores.MeanOver(new HashSet<string> { "dog", "rain", "cat" })!.Value, 9);
        Assert.NotEqual(scores.MeanAveragePrecision, scores.MeanOver(new HashSet<string> { "dog", "rain" })!.Value, 9);
        Assert.Null(scores.MeanOver(new HashSet<string> { "cat" }));
    }
}
