using System.Text.Json;
using CaptionDaemon.Training.Incremental;

namespace CaptionDaemon.Training.Tests.Incremental;

public sealed class IncrementalReproductionTests
{
    [Fact]
    public void Summarise_ScoresAfterEachTask_AveragesLastAndForgettingFromTheBestEarlierScore()
    {
        // After task 1: task 1 at 0.8. After task 2: 0.9 and 0.5. After task 3: 0.3, 0.6, 0.7.
        var scores = new[]
        {
            new TaskScores([0.8], [0.5], 0.8, 0.5),
            new TaskScores([0.9, 0.5], [0.6, 0.4], 0.7, 0.5),
            new TaskScores([0.3, 0.6, 0.7], [0.2, 0.5, 0.6], 0.55, 0.4),
        };

        var row = IncrementalReproduction.Summarise("rehearsal+seq", 3, 2, scores);

        Assert.Equal((0.8 + 0.7 + 0.55) / 3, row.AverageCiderD, 6);
        Assert.Equal(0.55, row.LastCiderD, 6);
        Assert.Equal((0.5 + 0.5 + 0.4) / 3, row.AverageEventAccuracy, 6);
        // Task 1 fell from its best 0.9 to 0.3, task 2 rose from 0.5 to 0.6: (0.6 + -0.1) / 2.
        Assert.Equal(0.25, row.Forgetting, 6);
    }

    [Fact]
    public void ResultsJson_Rows_HaveExactlyTheIssuesFields()
    {
        var json = IncrementalReproduction.ResultsJson([new IncrementalResultRow("rehearsal+all", 6, 1, 0.41, 0.32, 0.5, 0.07)]);

        using var document = JsonDocument.Parse(json);
        var row = Assert.Single(document.RootElement.GetProperty("rows").EnumerateArray().ToArray());
        Assert.Equal(
            ["avg_cider_d", "avg_event_accuracy", "forgetting", "last_cider_d", "method", "seed", "tasks"],
            row.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("rehearsal+all", row.GetProperty("method").GetString());
        Assert.Equal(6, row.GetProperty("tasks").GetInt32());
        Assert.Equal(0.07, row.GetProperty("forgetting").GetDouble());
    }

    [Fact]
    public void Constructor_UnknownMethod_IsRejected()
    {
        var options = new IncrementalReproductionOptions { OutputDirectory = Path.GetTempPath(), Methods = ["rehearsal+ewc"] };

        Assert.Throws<ArgumentException>(() => new IncrementalReproduction(options, new CaptionDaemon.Training.Training.TrainingProgress(TextWriter.Null, isTerminal: false)));
    }

    [Fact]
    public void Constructor_MalformedKdWeights_IsRejectedBeforeAnyTraining()
    {
        var options = new IncrementalReproductionOptions { OutputDirectory = Path.GetTempPath(), KdWeights = "audio=10,pitch=1" };

        var error = Assert.Throws<ArgumentException>(() => new IncrementalReproduction(options, new CaptionDaemon.Training.Training.TrainingProgress(TextWriter.Null, isTerminal: false)));

        Assert.Contains("'pitch'", error.Message, StringComparison.Ordinal);
        _ = new IncrementalReproduction(options with { KdWeights = "audio=10" }, new CaptionDaemon.Training.Training.TrainingProgress(TextWriter.Null, isTerminal: false));
    }
}
