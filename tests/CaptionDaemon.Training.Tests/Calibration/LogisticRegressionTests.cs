using CaptionDaemon.Training.Calibration;

namespace CaptionDaemon.Training.Tests.Calibration;

public sealed class LogisticRegressionTests
{
    [Fact]
    public void Fit_SyntheticDataFromKnownWeights_RecoversThem()
    {
        // Features on the scales of the real ones (logits, a log-probability), outcomes drawn from known weights.
        double[] weights = [1.2, -0.8, 0.6];
        const double bias = -0.5;
        var random = new Random(7);
        var rows = new List<double[]>();
        var targets = new List<bool>();
        for (var i = 0; i < 20000; i++)
        {
            double[] x = [(random.NextDouble() * 8) - 4, (random.NextDouble() * 8) - 4, -random.NextDouble() * 3];
            var z = bias + (weights[0] * x[0]) + (weights[1] * x[1]) + (weights[2] * x[2]);
            rows.Add(x);
            targets.Add(random.NextDouble() < 1 / (1 + Math.Exp(-z)));
        }

        var fit = LogisticRegression.Fit(rows, targets);

        Assert.InRange(fit.Iterations, 2, 30);
        Assert.Equal(bias, fit.Bias, 0.1);
        for (var j = 0; j < weights.Length; j++)
        {
            Assert.Equal(weights[j], fit.Weights[j], 0.06);
        }
    }

    [Fact]
    public void Fit_SeparableData_PenaltyKeepsTheWeightFinite()
    {
        // y = x > 0 exactly: without a penalty the weight would grow without bound.
        double[][] rows = [[-2], [-1], [-0.5], [0.5], [1], [2]];
        bool[] targets = [false, false, false, true, true, true];

        var fit = LogisticRegression.Fit(rows, targets);
        var light = LogisticRegression.Fit(rows, targets, penalty: 0.1);

        Assert.InRange(fit.Weights[0], 0.5, 20);
        Assert.True(light.Weights[0] > fit.Weights[0], $"a lighter penalty should allow a larger weight ({light.Weights[0]} vs {fit.Weights[0]})");
        Assert.Equal(0, fit.Bias, 1e-6); // symmetric data
    }

    [Theory]
    [InlineData(false, "All 3 targets are 0")]
    [InlineData(true, "All 3 targets are 1")]
    public void Fit_OneOutcomeOnly_RefusedSayingWhich(bool outcome, string expected)
    {
        double[][] rows = [[1], [2], [3]];

        var e = Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(rows, [outcome, outcome, outcome]));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_NonFiniteFeature_Refused()
    {
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[1.0], [double.NegativeInfinity]], [true, false]));
    }
}
