using System.Text.Json;
using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Tests.Data;

namespace CaptionDaemon.Training.Tests.Incremental;

[Collection(TestSoundsCollection.Name)]
public sealed class IncrementalReproductionTests(TestSoundsFixture sounds)
{
    [Fact]
    public void Run_QuickPresetOnRealRecordings_EveryMethodGetsARowAndTheFilesAreWritten()
    {
        using var files = new TestFiles();
        var output = files.PathOf("reproduction");
        var options = IncrementalReproductionOptions.QuickPreset(output) with
        {
            SoundsDirectory = sounds.Directory,
            TaskCounts = [3],
            ClipsPerTask = 8,
            KdWeights = "audio=5",
            Threads = 2,
        };

        var rows = new IncrementalReproduction(options, new CaptionDaemon.Training.Training.TrainingProgress(TextWriter.Null, isTerminal: false)).Run();

        Assert.Equal(IncrementalReproduction.AllMethods, rows.Select(r => r.Method));
        Assert.All(rows, r => Assert.True(r.Tasks == 3 && double.IsFinite(r.AverageCiderD) && double.IsFinite(r.Forgetting) && r.AverageEventAccuracy is >= 0 and <= 1, r.ToString()));
        foreach (var file in new[] { "results.json", "results.md", "details.json", "forgetting.png", "cider-3-tasks.png", "event-accuracy-3-tasks.png" })
        {
            Assert.True(File.Exists(Path.Combine(output, file)), file + " missing");
        }

        using var details = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "details.json")));
        Assert.Equal("audio=5", details.RootElement.GetProperty("kd_weights").GetString());
        // The weight reaches the updates that use audio-KD, and the task scenes are split by clip: test scenes reuse training recordings.
        var update = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "runs", "3-tasks", "seed-1", "rehearsal+audio", "task-2", "model", "training.json")));
        Assert.Equal(5, update.RootElement.GetProperty("incremental").GetProperty("kd").GetProperty("audio").GetDouble());
        // Split by clip: the test scenes draw from the very recordings the training scenes draw from.
        using var splits = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "data", "3-tasks", "task-1", "splits.json")));
        var pools = splits.RootElement.EnumerateArray().ToDictionary(s => s.GetProperty("split").GetString()!, s => s.GetProperty("event_recordings").GetInt32());
        Assert.True(pools["development"] > 0);
        Assert.Equal(pools["development"], pools["evaluation"]);
    }

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

    [Theory]
    [InlineData(200, 300, 10, 23)] // a task of 3: 13 steps per epoch
    [InlineData(100, 300, 10, 43)] // a task of 6: 7 steps per epoch
    [InlineData(200, null, 10, 10)] // --base-epochs
    [InlineData(500, 10, 10, 1)] // never fewer than one epoch
    public void BaseEpochsFor_BaseSteps_GiveEveryTaskCountTheSameTrainingInSteps(int developmentClips, int? baseSteps, int baseEpochs, int expected)
    {
        var options = new IncrementalReproductionOptions { OutputDirectory = Path.GetTempPath(), BaseSteps = baseSteps, BaseEpochs = baseEpochs, BatchSize = 16 };

        Assert.Equal(expected, options.BaseEpochsFor(developmentClips));
    }

    [Theory]
    [InlineData(200, 70, 4, 5)] // a task of 3: 13 steps per epoch
    [InlineData(99, 70, 4, 10)] // a task of 6: 7 steps per epoch
    [InlineData(200, null, 4, 4)] // --epochs
    public void UpdateEpochsFor_UpdateSteps_GiveEveryTaskCountTheSameTrainingInSteps(int developmentClips, int? updateSteps, int epochs, int expected)
    {
        var options = new IncrementalReproductionOptions { OutputDirectory = Path.GetTempPath(), UpdateSteps = updateSteps, Epochs = epochs, BatchSize = 16 };

        Assert.Equal(expected, options.UpdateEpochsFor(developmentClips));
    }

    [Theory]
    [InlineData("--base-steps", "--base-epochs")]
    [InlineData("--update-steps", "--epochs")]
    public void ReproduceCommand_StepsAndEpochsTogether_IsRejectedNamingBoth(string steps, string epochs)
    {
        var error = new StringWriter();
        var root = new System.CommandLine.RootCommand { CaptionDaemon.Training.Incremental.IncrementalReproduceCommand.Create() };

        var exit = root.Parse(["incremental", "--out", Path.Combine(Path.GetTempPath(), "never-written"), steps, "100", epochs, "3"])
            .Invoke(new System.CommandLine.InvocationConfiguration { Error = error, Output = TextWriter.Null });

        Assert.Equal(2, exit);
        Assert.Contains($"{steps} and {epochs}", error.ToString(), StringComparison.Ordinal);
    }
}
