using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Training;

public sealed class TrainingProgressTests
{
    [Fact]
    public void Step_Terminal_RewritesOneLineWithCarriageReturns()
    {
        using var writer = new StringWriter();
        var progress = new TrainingProgress(writer, isTerminal: true);
        progress.StartEpoch();

        for (var step = 1; step <= 3; step++)
        {
            progress.Step(1, 2, step, 3, 2.5, 1e-3);
        }

        var text = writer.ToString();
        Assert.Equal(3, text.Count(c => c == '\r'));
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("epoch 1/2  step 3/3  loss 2.5000", text, StringComparison.Ordinal);
        Assert.Contains("ETA 0m00s", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_NotTerminal_WritesFirstAndLastStepsAsPlainLines()
    {
        using var writer = new StringWriter();
        var progress = new TrainingProgress(writer, isTerminal: false);
        progress.StartEpoch();

        for (var step = 1; step <= 50; step++)
        {
            progress.Step(3, 9, step, 50, 1.0, 1e-3);
        }

        var lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain('\r', writer.ToString());
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("epoch 3/9  step 1/50", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("epoch 3/9  step 50/50", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(59, "0m59s")]
    [InlineData(3725, "1h02m")]
    public void Format_Duration_ShowsMinutesOrHours(int seconds, string expected)
    {
        Assert.Equal(expected, TrainingProgress.Format(TimeSpan.FromSeconds(seconds)));
    }
}
