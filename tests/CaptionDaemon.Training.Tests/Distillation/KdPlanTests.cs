using CaptionDaemon.Training.Distillation;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class KdPlanTests
{
    [Fact]
    public void Create_FullPresetSizes_ListsTheTeacherEveryStudentAndTheAudioOnlyRunsWithTheirSteps()
    {
        var options = new KdReproductionOptions { OutputDirectory = "unused", Seeds = [1, 2] };

        var plan = KdPlan.Create(options, developmentClips: 480, validationClips: 80, evaluationClips: 200);

        // Teacher + 4 methods x 2 fractions x 2 seeds + the best KD method with audio-only data x 2 seeds.
        Assert.Equal(19, plan.Runs.Count);
        var teacher = plan.Runs[0];
        Assert.Equal((KdReproduction.TeacherMethod, 6, 60, 8), (teacher.Name, teacher.Epochs, teacher.StepsPerEpoch, teacher.ClipsPerStep));
        Assert.Equal(60, plan.Runs.Single(r => r.Name == "sup+seq-f1-s2").StepsPerEpoch);
        var scarce = plan.Runs.Single(r => r.Name == "sup+seq+mse-f0.1-s1");
        Assert.Equal((6, 20), (scarce.StepsPerEpoch, scarce.Epochs)); // 48 labelled clips, as many steps as a full-label run
        var audioOnly = plan.Runs.Where(r => r.Name.Contains("+audio-only", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, audioOnly.Length);
        Assert.All(audioOnly, r => Assert.Equal((54, 16, 2), (r.StepsPerEpoch, r.ClipsPerStep, r.Epochs))); // 432 audio-only clips
        Assert.Equal(plan.Runs.Sum(r => r.EstimatedSeconds) + plan.TargetSeconds, plan.TotalSeconds, 6);
        Assert.True(teacher.EstimatedSeconds > plan.Runs.Single(r => r.Name == "sup-f1-s1").EstimatedSeconds);
        Assert.Contains("19 runs on 480 development", plan.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Create_GivenTeacher_CountsOnlyItsEvaluation()
    {
        var options = new KdReproductionOptions { OutputDirectory = "unused", TeacherDirectory = "trained", Seeds = [1] };

        var plan = KdPlan.Create(options, developmentClips: 100, validationClips: 10, evaluationClips: 20);

        Assert.Equal(10, plan.Runs.Count);
        Assert.Equal(0, plan.Runs[0].Epochs);
        Assert.Equal(20 * options.Cost.TeacherEvaluationSecondsPerClip, plan.Runs[0].EstimatedSeconds, 6);
    }

    [Fact]
    public void Create_TaggerStudentsAndRecordings_CountsTheRecordingsInEveryEvaluationAndSaysTheCostsAreUnmeasured()
    {
        var cnn = new KdReproductionOptions { OutputDirectory = "unused", TeacherDirectory = "trained", Seeds = [1] };
        var onTaggers = cnn with { StudentEncoder = "small-tagger" };

        var without = KdPlan.Create(cnn, developmentClips: 100, validationClips: 10, evaluationClips: 20);
        var with = KdPlan.Create(onTaggers, developmentClips: 100, validationClips: 10, evaluationClips: 20, recordings: 30);

        Assert.Equal(50 * cnn.Cost.TeacherEvaluationSecondsPerClip, with.Runs[0].EstimatedSeconds, 6);
        Assert.All(with.Runs.Skip(1).Zip(without.Runs.Skip(1)), pair => Assert.Equal(30 * cnn.Cost.StudentEvaluationSecondsPerClip, pair.First.EstimatedSeconds - pair.Second.EstimatedSeconds, 6));
        Assert.Contains("20 evaluation clips and 30 isolated recordings", with.Describe(), StringComparison.Ordinal);
        Assert.Contains("have not been measured", with.Describe(), StringComparison.Ordinal);
        Assert.DoesNotContain("have not been measured", without.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 2, 20, 0)]
    [InlineData(1, 2, 2, 1)]
    [InlineData(1, 2, 20, 10)]   // scarce labels: 10x the epochs, the same half of the steps frozen
    [InlineData(1, 3, 3, 1)]
    [InlineData(2, 3, 4, 3)]
    [InlineData(1, 20, 20, 1)]
    public void EqualStepFrozenEpochs_LongerRuns_FreezeTheSameShareOfStepsAndKeepAnUnfrozenEpoch(int frozen, int studentEpochs, int runEpochs, int expected)
    {
        Assert.Equal(expected, KdReproduction.EqualStepFrozenEpochs(frozen, studentEpochs, runEpochs));
    }

    [Fact]
    public void Options_FreezingEveryStudentEpoch_IsRefusedBecauseEncoderKdWouldOnlyTrainItsHeads()
    {
        var options = new KdReproductionOptions { OutputDirectory = "unused", StudentEncoder = "small-tagger", StudentEpochs = 2, FreezeEncoderEpochs = 2 };

        var error = Assert.Throws<ArgumentException>(() => new KdReproduction(options, new CaptionDaemon.Training.Training.TrainingProgress(TextWriter.Null, isTerminal: false)));

        Assert.Contains("--freeze-encoder-epochs", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, (options with { FreezeEncoderEpochs = null }).StudentFrozenEpochs);
        Assert.Equal(0, (options with { FreezeEncoderEpochs = null, StudentEpochs = 1 }).StudentFrozenEpochs);
    }
}
