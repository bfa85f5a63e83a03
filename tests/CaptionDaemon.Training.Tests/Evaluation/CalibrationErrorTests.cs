using CaptionDaemon.Training.Evaluation;

namespace CaptionDaemon.Training.Tests.Evaluation;

public sealed class CalibrationErrorTests
{
    [Fact]
    public void Expected_HandMadeSet_WeighsEachBinsGapByItsShare()
    {
        // Bin 0: 0.05 wrong (gap 0.05). Bin 1: 0.12 wrong, 0.18 right (mean 0.15, half right: gap 0.35). Bin 9: four at
        // 0.95 (one of them 1.0, which belongs to the last bin), three right (mean 0.9625, 0.75 right: gap 0.2125).
        double[] confidences = [0.05, 0.12, 0.18, 0.95, 0.95, 0.95, 1.0];
        bool[] right = [false, false, true, true, true, false, true];

        var ece = CalibrationError.Expected(confidences, right);

        Assert.Equal(((1 * 0.05) + (2 * 0.35) + (4 * 0.2125)) / 7, ece, 12);
    }

    [Fact]
    public void Expected_ConfidenceEqualToTheShareRightInEveryBin_IsZero()
    {
        double[] confidences = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
        bool[] right = [true, false, false, false, true, true, true, false];

        Assert.Equal(0, CalibrationError.Expected(confidences, right), 12);
    }

    [Fact]
    public void Expected_SilenceCaptionedAtHighConfidence_IsTheGap()
    {
        // The shipped model's failure: a quiet window (nothing to name) captioned at 0.87.
        Assert.Equal(0.87, CalibrationError.Expected([0.87], [false]), 12);
    }

    [Fact]
    public void Expected_BadInput_Refused()
    {
        Assert.Throws<ArgumentException>(() => CalibrationError.Expected([], []));
        Assert.Throws<ArgumentException>(() => CalibrationError.Expected([0.5], [true, false]));
        Assert.Throws<ArgumentException>(() => CalibrationError.Expected([1.5], [true]));
    }
}
