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
}
