using System.Globalization;
using System.Text;

namespace CaptionDaemon.Training.Distillation;

/// <summary>
/// Seconds per clip of each stage of <c>reproduce kd</c> at 2 threads on the project's 2-core machine when it is not
/// shared, from the full run's training records (training/results/kd, Distillation/README.md "Budget of the full run");
/// <see cref="KdPlan"/> estimates a run's wall time from them.
/// </summary>
internal sealed record KdCostModel
{
    /// <summary>A student training step (forward, backward, AdamW) per clip in the batch: 0.075–0.115 in the full run, 0.19 with audio-only batches.</summary>
    public double StudentTrainSecondsPerClip { get; init; } = 0.12;

    /// <summary>A teacher training step per clip: 541–610 s per epoch of 480 clips in the full run, about 10x the student's.</summary>
    public double TeacherTrainSecondsPerClip { get; init; } = 1.2;

    /// <summary>Greedy validation captions per clip and epoch (TorchSharp, as the trainers score an epoch): 0.05 in the full run.</summary>
    public double StudentValidationSecondsPerClip { get; init; } = 0.05;

    /// <summary>The full run's teacher: 9–13 s for 80 clips.</summary>
    public double TeacherValidationSecondsPerClip { get; init; } = 0.14;

    /// <summary>Beam-3 evaluation through the inference library per evaluation clip, with the bundle export.</summary>
    public double StudentEvaluationSecondsPerClip { get; init; } = 0.05;

    public double TeacherEvaluationSecondsPerClip { get; init; } = 0.45;

    /// <summary>The teacher's beam caption and pooled embedding per development clip (computed once, then cached).</summary>
    public double TeacherTargetSecondsPerClip { get; init; } = 0.5;
}

/// <summary>One training run of the plan: its steps and estimated seconds including validation and evaluation.</summary>
internal sealed record KdPlannedRun(string Name, int Epochs, int StepsPerEpoch, int ClipsPerStep, double EstimatedSeconds);

/// <summary>
/// The runs <c>reproduce kd</c> will make for a given data size and settings, with their steps and estimated wall time
/// (<see cref="KdCostModel"/>); printed when the reproduction starts, so the budget is visible before it is spent.
/// </summary>
internal sealed class KdPlan
{
    private KdPlan(IReadOnlyList<KdPlannedRun> runs, double targetSeconds, int developmentClips, int validationClips, int evaluationClips, int recordings, bool onTaggers)
    {
        Recordings = recordings;
        OnTaggers = onTaggers;
        Runs = runs;
        TargetSeconds = targetSeconds;
        DevelopmentClips = developmentClips;
        ValidationClips = validationClips;
        EvaluationClips = evaluationClips;
    }

    public IReadOnlyList<KdPlannedRun> Runs { get; }

    /// <summary>The teacher's beam captions and embeddings of the development split.</summary>
    public double TargetSeconds { get; }

    public int DevelopmentClips { get; }

    public int ValidationClips { get; }

    public int EvaluationClips { get; }

    /// <summary>Isolated recordings every model is also captioned on (scored like evaluation clips).</summary>
    public int Recordings { get; }

    /// <summary>Whether a student or the trained teacher runs on a tagger: the cost model was measured on the CNN presets.</summary>
    public bool OnTaggers { get; }

    public double TotalSeconds => Runs.Sum(r => r.EstimatedSeconds) + TargetSeconds;

    /// <summary>
    /// The plan for <paramref name="options"/> on a set of the given split sizes; the teacher row is left out when a
    /// trained teacher is given (its evaluation still counts). Each model is evaluated on the evaluation clips and on
    /// <paramref name="recordings"/> isolated recordings.
    /// </summary>
    public static KdPlan Create(KdReproductionOptions options, int developmentClips, int validationClips, int evaluationClips, int recordings = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cost = options.Cost;
        var batch = options.BatchSize;
        var runs = new List<KdPlannedRun>();
        var teacherSteps = Steps(developmentClips, batch);
        var teacherEvaluation = cost.TeacherEvaluationSecondsPerClip * (evaluationClips + recordings);
        runs.Add(options.TeacherDirectory is null
            ? new KdPlannedRun(
                KdReproduction.TeacherMethod,
                options.TeacherEpochs,
                teacherSteps,
                batch,
                (options.TeacherEpochs * ((teacherSteps * batch * cost.TeacherTrainSecondsPerClip) + (validationClips * cost.TeacherValidationSecondsPerClip))) + teacherEvaluation)
            : new KdPlannedRun(KdReproduction.TeacherMethod + " (given; evaluation only)", 0, 0, 0, teacherEvaluation));

        double Student(int epochs, int stepsPerEpoch, int clipsPerStep) =>
            (epochs * ((stepsPerEpoch * clipsPerStep * cost.StudentTrainSecondsPerClip) + (validationClips * cost.StudentValidationSecondsPerClip)))
            + ((evaluationClips + recordings) * cost.StudentEvaluationSecondsPerClip);

        foreach (var fraction in new[] { 1.0, options.ScarceFraction })
        {
            var labelled = LabelledSplit.LabelledCount(developmentClips, fraction);
            foreach (var method in KdReproduction.Methods)
            {
                foreach (var seed in options.Seeds)
                {
                    var steps = Steps(labelled, batch);
                    var epochs = KdReproduction.EqualStepEpochs(options.StudentEpochs, developmentClips, labelled);
                    runs.Add(new KdPlannedRun(KdReproduction.RunName(method.Method, fraction, seed, audioOnly: false), epochs, steps, batch, Student(epochs, steps, batch)));
                }
            }
        }

        var scarce = LabelledSplit.LabelledCount(developmentClips, options.ScarceFraction);
        foreach (var seed in options.Seeds)
        {
            // Each step takes a labelled batch and an audio-only batch; the larger (audio-only) pool sets the steps.
            var pool = Math.Max(scarce, developmentClips - scarce);
            var steps = Steps(pool, batch);
            var epochs = KdReproduction.EqualStepEpochs(options.StudentEpochs, developmentClips, pool);
            runs.Add(new KdPlannedRun(KdReproduction.RunName("best", options.ScarceFraction, seed, audioOnly: true), epochs, steps, 2 * batch, Student(epochs, steps, 2 * batch)));
        }

        var onTaggers = options.StudentEncoder is not null || (options.TeacherDirectory is null && options.TeacherEncoder is not null);
        return new KdPlan(runs, developmentClips * cost.TeacherTargetSecondsPerClip, developmentClips, validationClips, evaluationClips, recordings, onTaggers);
    }

    /// <summary>A readable plan: one line per run and the estimated total.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"plan: {Runs.Count} runs on {DevelopmentClips} development, {ValidationClips} validation and {EvaluationClips} evaluation clips{(Recordings > 0 ? $" and {Recordings} isolated recordings" : string.Empty)}; estimated {TotalSeconds / 60:0} min at 2 threads on an otherwise idle 2-core machine"));
        if (OnTaggers)
        {
            text.AppendLine("  (seconds per clip measured on the CNN presets; the tagger-based models' have not been measured, so take the minutes as a rough guide)");
        }

        foreach (var run in Runs)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {run.Name}: {run.Epochs} epochs x {run.StepsPerEpoch} steps of {run.ClipsPerStep} clips, ~{run.EstimatedSeconds / 60:0.0} min"));
        }

        text.Append(string.Create(CultureInfo.InvariantCulture, $"  teacher targets for {DevelopmentClips} clips (once): ~{TargetSeconds / 60:0.0} min"));
        return text.ToString();
    }

    private static int Steps(int clips, int batch) => (clips + batch - 1) / batch;
}
