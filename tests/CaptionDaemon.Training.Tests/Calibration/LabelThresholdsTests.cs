using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Calibration;

namespace CaptionDaemon.Training.Tests.Calibration;

public sealed class LabelThresholdsTests
{
    private static readonly BundleLabel[] Labels =
    [
        new() { Name = "dog", Display = "Dog", Threshold = 0.9 },
        new() { Name = "nothing", Display = "Nothing notable", Threshold = 0.3 },
        new() { Name = "rain", Display = "Rain", Threshold = 0.9 },
    ];

    [Fact]
    public void Choose_HandMadeWindows_MaximisesF1PerLabelAndFallsBackWithFewPositives()
    {
        // dog: positives at 0.9, 0.8, 0.4; negatives 0.7 (a cat), 0.3 (rain), 0.1 and 0.1 (quiet). Reporting the top 4
        // (down to 0.4) gives F1 = 2 x 3 / (4 + 3) = 0.857, better than the top 2 (0.8) or all; the threshold lies
        // midway between 0.4 and 0.3. rain has 1 positive: the pooled threshold, where dog's and rain's windows ranked
        // together (4 positives) give the best F1 reporting down to 0.4 (8/9), also 0.35. nothing keeps its threshold.
        float[][] probabilities =
        [
            [0.9f, 0.1f, 0.2f],
            [0.8f, 0.1f, 0.2f],
            [0.4f, 0.1f, 0.2f],
            [0.7f, 0.1f, 0.2f],
            [0.3f, 0.1f, 0.9f],
            [0.1f, 0.9f, 0.1f],
            [0.1f, 0.8f, 0.1f],
        ];
        string?[] categories = ["dog", "dog", "dog", "cat", "rain", null, null];

        var chosen = LabelThresholds.Choose(Labels, probabilities, categories);

        Assert.Equal(["dog", "nothing", "rain"], chosen.Select(c => c.Name));
        Assert.Equal(0.35, chosen[0].Threshold, 6);
        Assert.Equal(6.0 / 7, chosen[0].F1!.Value, 6);
        Assert.Equal(3, chosen[0].Positives);
        Assert.Equal((0.3, (double?)null), (chosen[1].Threshold, chosen[1].F1));
        Assert.Equal((0.35, 1, (double?)null), (Math.Round(chosen[2].Threshold, 6), chosen[2].Positives, chosen[2].F1));
    }

    [Fact]
    public void Choose_ThinLabels_TakeThePooledThresholdNotTheFallback()
    {
        // No label has 3 positives. Pooled over both labels: positives at 0.6 (dog) and 0.55 (rain), negatives at 0.58,
        // 0.2, 0.1 ...: reporting down to 0.55 gives F1 2 x 2 / (3 + 2) = 0.8, the best cut; threshold midway to 0.2.
        float[][] probabilities = [[0.6f, 0, 0.1f], [0.58f, 0, 0.1f], [0.1f, 0, 0.55f], [0.1f, 0, 0.2f]];
        string?[] categories = ["dog", "cat", "rain", null];

        var chosen = LabelThresholds.Choose(Labels, probabilities, categories);

        Assert.Equal(0.375, chosen[0].Threshold, 6);
        Assert.Equal(0.375, chosen[2].Threshold, 6);
        Assert.All(new[] { chosen[0], chosen[2] }, c => Assert.Null(c.F1));
    }

    [Fact]
    public void Choose_NoPositiveWindowAtAll_ThinLabelsFallBack()
    {
        float[][] probabilities = [[0.6f, 0, 0.1f], [0.1f, 0.9f, 0.2f]];
        string?[] categories = ["cat", null];

        var chosen = LabelThresholds.Choose(Labels, probabilities, categories);

        Assert.Equal([LabelThresholds.Fallback, 0.3, LabelThresholds.Fallback], chosen.Select(c => c.Threshold));
    }

    [Fact]
    public void Choose_PerfectlySeparated_ThresholdBetweenTheClassesAndF1One()
    {
        float[][] probabilities = [[0.95f, 0, 0], [0.9f, 0, 0], [0.85f, 0, 0], [0.2f, 0, 0], [0.05f, 0, 0]];
        string?[] categories = ["dog", "dog", "dog", "rain", null];

        var dog = LabelThresholds.Choose(Labels, probabilities, categories)[0];

        Assert.Equal(0.525, dog.Threshold, 6);
        Assert.Equal(1.0, dog.F1!.Value, 9);
    }

    [Fact]
    public void Choose_PositivesOnlyAtLowProbabilities_ThresholdStopsAtTheFloor()
    {
        // An under-confident tagger: the dogs at 0.04-0.06, everything else at 0.01 or less. F1 would cut at 0.025,
        // which on real test data reported a label for one recording in thirteen; the floor keeps it at 0.25.
        float[][] probabilities = [[0.06f, 0, 0], [0.05f, 0, 0], [0.04f, 0, 0], [0.01f, 0, 0], [0.005f, 0, 0]];
        string?[] categories = ["dog", "dog", "dog", "rain", null];

        var dog = LabelThresholds.Choose(Labels, probabilities, categories)[0];

        Assert.Equal(LabelThresholds.Floor, dog.Threshold);
        Assert.Equal(1.0, dog.F1!.Value, 9);
    }
}
