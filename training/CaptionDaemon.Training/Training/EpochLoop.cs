using System.Diagnostics;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// One step's outcome: the total loss, its terms (the caller's own breakdown, possibly empty) and whether the update was
/// applied (false when the loss or gradient was not finite).
/// </summary>
internal readonly record struct StepOutcome(bool Applied, double Loss, double[] Terms)
{
    public static StepOutcome Of(StepResult result) => new(result.Applied, result.Loss, []);
}

/// <summary>What an epoch came to: mean loss and terms over the applied steps, the last learning rate, the time spent.</summary>
internal sealed record EpochSummary(int Epoch, double MeanLoss, double[] MeanTerms, double LearningRate, double TrainSeconds);

/// <summary>
/// The epoch and step loop that <c>train</c>, <c>distill</c> (and its encoder pre-training) and incremental updates share:
/// the learning-rate schedule (<see cref="LearningRateAt"/>), per-step random streams, skipped
/// non-finite steps, the progress line, mid-epoch checkpoints, continuing a partial epoch, and the divergence check.
/// What a step does, what an epoch's end does (validation, <c>best/</c>, <c>last/</c>) and how a checkpoint is written
/// stay with the caller.
/// <para>
/// The loop's position is kept in a <see cref="TrainingRecord"/> (<see cref="TrainingRecord.EpochsCompleted"/>,
/// <see cref="TrainingRecord.GlobalStep"/>, <see cref="TrainingRecord.SkippedSteps"/>,
/// <see cref="TrainingRecord.InProgress"/>), which is what a checkpoint saves, so a run resumed from one continues at the
/// next step. The clip order of an epoch comes from the epoch's seed, and each step reseeds torch (dropout) and gets its
/// own <see cref="Random"/> from (seed, epoch, step): a resumed run draws the same numbers as one that never stopped.
/// </para>
/// </summary>
internal sealed class EpochLoop
{
    /// <summary>The cosine decay ends at this fraction of the peak learning rate rather than 0, so the last epoch still learns.</summary>
    private const double FinalLearningRateFraction = 0.01;

    public required int Epochs { get; init; }

    public required int StepsPerEpoch { get; init; }

    /// <summary>Steps of linear warm-up; null: <see cref="DefaultWarmupSteps"/>.</summary>
    public long? WarmupSteps { get; init; }

    public required double PeakLearningRate { get; init; }

    public required int Seed { get; init; }

    /// <summary>-1 derives the random streams from negative epoch numbers, so a second loop of the same run (encoder pre-training) does not replay the first's.</summary>
    public int SeedEpochSign { get; init; } = 1;

    /// <summary>Save a checkpoint inside an epoch when this much time has passed since the last one; null: only at epoch ends.</summary>
    public TimeSpan? CheckpointInterval { get; init; }

    /// <summary>What diverged, for the error ("Training", "Distillation", "The update").</summary>
    public string Name { get; init; } = "Training";

    /// <summary>What to do about divergence, for the error.</summary>
    public string DivergenceAdvice { get; init; } = "lower --lr or check the data";

    public long TotalSteps => (long)StepsPerEpoch * Epochs;

    /// <summary>The warm-up when none is given: 5% of all steps, at least one.</summary>
    public static int DefaultWarmupSteps(long totalSteps) => (int)Math.Max(1, totalSteps / 20);

    /// <summary>
    /// Runs the epochs after <see cref="TrainingRecord.EpochsCompleted"/> of <paramref name="state"/>, continuing its
    /// <see cref="TrainingRecord.InProgress"/> epoch at the next step.
    /// </summary>
    /// <param name="optimizer">Its learning rate is set before every step.</param>
    /// <param name="state">The run's position; updated as the loop goes.</param>
    /// <param name="progress">Receives the progress line and the loop's messages.</param>
    /// <param name="startEpoch">Called before an epoch's first step with the epoch and the epoch's random stream (clip order; put the modules in training mode here).</param>
    /// <param name="step">One step: (epoch, step index, the step's random stream).</param>
    /// <param name="saveCheckpoint">Writes <c>last/</c> inside an epoch, after the state has been updated; null when the run is not checkpointed.</param>
    /// <param name="endEpoch">Called after an epoch's last step, when the state says the epoch is complete: validation and saving.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="TrainingException">More than half the steps of an epoch were skipped.</exception>
    public void Run(
        TorchSharp.Modules.OptimizerHelper optimizer,
        TrainingRecord state,
        TrainingProgress progress,
        Action<int, Random> startEpoch,
        Func<int, int, Random, StepOutcome> step,
        Action? saveCheckpoint,
        Action<EpochSummary> endEpoch,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(progress);
        var globalStep = state.GlobalStep;
        var warmupSteps = WarmupSteps ?? DefaultWarmupSteps(TotalSteps);
        for (var epoch = state.EpochsCompleted + 1; epoch <= Epochs; epoch++)
        {
            var epochSeed = EpochSeed(Seed, SeedEpochSign * epoch);
            startEpoch(epoch, new Random((int)(epochSeed & int.MaxValue)));
            progress.StartEpoch();
            var partial = state.InProgress is { } p && p.Epoch == epoch ? p : null;
            var firstStep = partial?.Steps ?? 0;
            var lossSum = partial?.LossSum ?? 0;
            var termSums = partial?.TermSums is { } earlier ? (double[])earlier.Clone() : null;
            var applied = partial?.AppliedSteps ?? 0;
            var earlierSeconds = partial?.TrainSeconds ?? 0;
            if (firstStep > 0)
            {
                progress.Message($"continuing epoch {epoch} at step {firstStep + 1}/{StepsPerEpoch}");
            }

            var clock = Stopwatch.StartNew();
            var sinceCheckpoint = Stopwatch.StartNew();
            var learningRate = 0.0;
            for (var index = firstStep; index < StepsPerEpoch; index++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var stepSeed = StepSeed(Seed, SeedEpochSign * epoch, index);
                random.manual_seed(stepSeed);
                learningRate = LearningRateAt(globalStep, TotalSteps, warmupSteps, PeakLearningRate);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = learningRate;
                }

                var outcome = step(epoch, index, new Random((int)(stepSeed & int.MaxValue)));
                globalStep++;
                if (outcome.Applied)
                {
                    lossSum += outcome.Loss;
                    termSums ??= new double[outcome.Terms.Length];
                    for (var t = 0; t < termSums.Length; t++)
                    {
                        termSums[t] += outcome.Terms[t];
                    }

                    applied++;
                }
                else
                {
                    state.SkippedSteps++;
                    progress.Message($"epoch {epoch} step {index + 1}: loss or gradient not finite (loss {outcome.Loss}); the step was skipped");
                }

                progress.Step(epoch, Epochs, index + 1, StepsPerEpoch, lossSum / Math.Max(1, applied), learningRate);
                if (saveCheckpoint is not null && CheckpointInterval is { } interval && sinceCheckpoint.Elapsed >= interval && index + 1 < StepsPerEpoch)
                {
                    state.GlobalStep = globalStep;
                    state.InProgress = new PartialEpoch(epoch, index + 1, lossSum, applied, earlierSeconds + clock.Elapsed.TotalSeconds, termSums is { Length: > 0 } ? termSums : null);
                    saveCheckpoint();
                    progress.Message($"checkpoint: epoch {epoch} step {index + 1}/{StepsPerEpoch} saved");
                    sinceCheckpoint.Restart();
                }
            }

            if (applied * 2 < StepsPerEpoch)
            {
                throw new TrainingException(
                    $"{Name} diverged: {StepsPerEpoch - applied} of {StepsPerEpoch} steps of epoch {epoch} had a non-finite loss or gradient; {DivergenceAdvice}.");
            }

            state.InProgress = null;
            state.EpochsCompleted = epoch;
            state.GlobalStep = globalStep;
            var meanTerms = (termSums ?? []).Select(sum => sum / applied).ToArray();
            endEpoch(new EpochSummary(epoch, lossSum / applied, meanTerms, learningRate, earlierSeconds + clock.Elapsed.TotalSeconds));
        }
    }

    /// <summary>The learning rate of a step: linear warm-up to the peak, then cosine decay to 1% of it at the last step.</summary>
    internal static double LearningRateAt(long step, long totalSteps, long warmupSteps, double peak)
    {
        if (step < warmupSteps)
        {
            return peak * (step + 1) / warmupSteps;
        }

        var decaySteps = Math.Max(1, totalSteps - warmupSteps);
        var progress = Math.Clamp((double)(step - warmupSteps) / decaySteps, 0, 1);
        var floor = peak * FinalLearningRateFraction;
        return floor + ((peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>The seed of an epoch's random streams: distinct per epoch, the same on every run with the same seed.</summary>
    internal static long EpochSeed(int seed, int epoch) => ((long)seed * 1_000_003) + epoch;

    /// <summary>The seed of one step's random streams: distinct per (epoch, step), the same on every run with the same seed.</summary>
    internal static long StepSeed(int seed, int epoch, int step) => (EpochSeed(seed, epoch) * 1_000_033) + step + 1;
}
