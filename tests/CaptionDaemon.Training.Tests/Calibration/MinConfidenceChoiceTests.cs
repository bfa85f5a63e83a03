using CaptionDaemon.Training.Calibration;

namespace CaptionDaemon.Training.Tests.Calibration;

public sealed class MinConfidenceChoiceTests
{
    [Fact]
    public void Choose_ThreeFalseAlarmsInTwentyQuietWindows_DropsAllButOneJustAboveTheHighestThatMustGo()
    {
        // 5% of 20 quiet windows: 1 false alarm may stay (the one at 0.9); the one at 0.6 and below must go, so the
        // minimum lies midway between 0.6 and the next confidence above it of any window (a recording at 0.65).
        var quiet = Enumerable.Repeat((0.05, false), 17).Concat([(0.9, true), (0.6, true), (0.4, true)]).ToList();
        (double, bool)[] recordings = [(0.95, true), (0.7, true), (0.5, true), (0.65, false), (0.2, false)];

        var choice = MinConfidenceChoice.Choose(recordings, quiet);

        Assert.Equal(0.625, choice.MinConfidence, 12);
        Assert.Equal(0.05, choice.QuietFalseAlarms, 12);
        Assert.Equal((2, 3), (choice.NamedKept, choice.Named));
    }

    [Fact]
    public void Choose_FewFalseAlarmsAlready_IsZeroAndKeepsEveryNamedRecording()
    {
        var quiet = Enumerable.Repeat((0.8, false), 19).Append((0.99, true)).ToList();
        (double, bool)[] recordings = [(0.01, true), (0.5, false)];

        var choice = MinConfidenceChoice.Choose(recordings, quiet);

        Assert.Equal(0, choice.MinConfidence);
        Assert.Equal((1, 1), (choice.NamedKept, choice.Named));
        Assert.Equal(0.05, choice.QuietFalseAlarms, 12);
    }

    [Fact]
    public void Choose_HighestFalseAlarmAboveEveryWindow_LiesMidwayToOne()
    {
        var choice = MinConfidenceChoice.Choose([(0.3, true)], [(0.8, true), (0.1, false)]);

        Assert.Equal(0.9, choice.MinConfidence, 12);
        Assert.Equal(0, choice.QuietFalseAlarms);
    }

    [Fact]
    public void At_AGivenMinimum_CountsWhatItKeepsAndLetsThrough()
    {
        (double, bool)[] quiet = [(0.9, true), (0.2, true), (0.1, false), (0.05, true)];
        (double, bool)[] recordings = [(0.3, true), (0.15, true), (0.6, false)];

        var choice = MinConfidenceChoice.At(0.18, recordings, quiet);

        Assert.Equal(0.18, choice.MinConfidence);
        Assert.Equal(0.5, choice.QuietFalseAlarms, 12);     // 0.9 and 0.2 pass; 0.05 does not
        Assert.Equal((1, 2), (choice.NamedKept, choice.Named));
        Assert.Throws<ArgumentOutOfRangeException>(() => MinConfidenceChoice.At(1.5, recordings, quiet));
    }

    [Fact]
    public void ForUncaptionedShare_TenPercentOfTwenty_KeepsAllButTheTwoLowest()
    {
        // Two of twenty may go: the minimum lies half a reported unit under the third lowest, so it stays.
        var confidences = Enumerable.Range(1, 20).Select(i => i / 100.0).Reverse().ToArray();

        var min = MinConfidenceChoice.ForUncaptionedShare(confidences, 0.10);

        Assert.Equal(0.02995, min, 12);
        Assert.Equal(2, confidences.Count(c => c < min));
    }

    [Fact]
    public void ForUncaptionedShare_TiesAtTheLimit_KeepTheWholeTie()
    {
        // Three recordings at 0.1 straddle the allowed two: all three stay rather than dropping part of a tie.
        double[] confidences = [0.05, 0.1, 0.1, 0.1, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

        var min = MinConfidenceChoice.ForUncaptionedShare(confidences, 0.2);

        Assert.Equal(1, confidences.Count(c => c < min));
        Assert.Equal(0, MinConfidenceChoice.ForUncaptionedShare([0.00001, 0.5], 0.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MinConfidenceChoice.ForUncaptionedShare(confidences, 1.0));
        Assert.Throws<ArgumentException>(() => MinConfidenceChoice.ForUncaptionedShare([], 0.1));
    }
}
