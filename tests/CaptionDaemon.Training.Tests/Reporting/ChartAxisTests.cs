using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

public sealed class ChartAxisTests
{
    [Fact]
    public void Linear_ZeroToPoint93_StepsOfPoint2UpToOne()
    {
        var axis = ChartAxis.Linear(0, 0.93, 5);

        Assert.Equal([0, 0.2, 0.4, 0.6, 0.8, 1.0], axis.Ticks);
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], axis.Labels);
        Assert.Equal((0, 1.0), (axis.Min, axis.Max));
    }

    [Fact]
    public void Linear_BoundOnAStep_DoesNotGrowAnExtraTick()
    {
        // 0.6 / 0.2 is 2.9999999999999996 in doubles.
        var axis = ChartAxis.Linear(0.2, 0.6, 2);

        Assert.Equal([0.2, 0.4, 0.6], axis.Ticks);
    }

    [Theory]
    [InlineData(0, 20, 7, new[] { 0.0, 5, 10, 15, 20 })]
    [InlineData(-0.3, 0.45, 4, new[] { -0.4, -0.2, 0, 0.2, 0.4, 0.6 })]
    [InlineData(1200, 48_000, 5, new[] { 0.0, 10_000, 20_000, 30_000, 40_000, 50_000 })]
    public void Linear_Range_UsesOneTwoFiveSteps(double min, double max, int intervals, double[] expected)
    {
        Assert.Equal(expected, ChartAxis.Linear(min, max, intervals).Ticks);
    }

    [Fact]
    public void Linear_IntegerSteps_NeverHalfAStep()
    {
        var axis = ChartAxis.Linear(1, 3, 5, integerSteps: true);

        Assert.Equal([1, 2, 3], axis.Ticks);
        Assert.Equal(["1", "2", "3"], axis.Labels);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0)]
    [InlineData(-3)]
    public void Linear_SingleValue_SpansANeighbourhoodAroundIt(double value)
    {
        var axis = ChartAxis.Linear(value, value, 5);

        Assert.True(axis.Min < value && axis.Max > value, $"[{axis.Min}, {axis.Max}] around {value}");
        Assert.InRange(axis.Fraction(value), 0.1, 0.9);
        Assert.True(axis.Ticks.Count >= 3);
    }

    [Fact]
    public void Log_OneToFiveHundred_PowersOfTen()
    {
        var axis = ChartAxis.Log(1, 500);

        Assert.Equal([1, 10, 100, 1000], axis.Ticks);
        Assert.Equal(["1", "10", "100", "1000"], axis.Labels);
        Assert.Equal(0.5, axis.Fraction(Math.Sqrt(1000)), 1e-12);
    }

    [Fact]
    public void Log_WithinOneDecade_AddsTwoAndFive()
    {
        Assert.Equal([10, 20, 50, 100], ChartAxis.Log(20, 80).Ticks);
        Assert.Equal([1, 2, 5, 10], ChartAxis.Log(3, 3).Ticks);
    }

    [Fact]
    public void Log_SmallAndLargeValues_LabelledReadably()
    {
        Assert.Equal(["0.001", "0.01", "0.1", "1"], ChartAxis.Log(0.002, 0.9).Labels);
        Assert.Equal("1E+7", ChartAxis.Log(5e5, 3e6 * 3).Labels[^1]);
    }

    [Fact]
    public void Fraction_Linear_MapsEndsToZeroAndOne()
    {
        var axis = ChartAxis.Linear(0, 0.93, 5);

        Assert.Equal(0, axis.Fraction(0));
        Assert.Equal(1, axis.Fraction(1.0));
        Assert.Equal(0.5, axis.Fraction(0.5), 1e-12);
    }

    [Fact]
    public void Linear_InvalidBounds_Throw()
    {
        Assert.Throws<ArgumentException>(() => ChartAxis.Linear(double.NaN, 1, 5));
        Assert.Throws<ArgumentException>(() => ChartAxis.Linear(0, double.PositiveInfinity, 5));
        Assert.Throws<ArgumentException>(() => ChartAxis.Linear(2, 1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChartAxis.Log(0, 10));
    }
}
