using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Training;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Incremental;

/// <summary>
/// One optimisation step of a class-incremental update on a batch mixing new-task clips and rehearsal clips. Each part
/// goes through <see cref="DistillationStep.Loss"/>: the new clips with the supervised term alone, the rehearsal clips
/// (those with the old model's targets) with the supervised term plus the weighted KD terms. The supervised terms are
/// weighted by each part's share of the batch, so together they are the batch's supervised loss; the KD terms are means
/// over the rehearsal clips, as in Cappellazzo et al. (2023). Like the other steps, a step whose loss or gradient norm
/// is not finite is skipped.
/// </summary>
internal static class IncrementalStep
{
    public static DistillationStepResult Run(
        CaptionModel model,
        nn.Module<Tensor, Tensor, Tensor>? audioKd,
        optim.Optimizer optimizer,
        IEnumerable<TorchSharp.Modules.Parameter> parameters,
        IReadOnlyList<PoolClip> clips,
        DistillationWeights weights,
        int windowSamples,
        int maxWords,
        double gradientClip,
        Random random)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var (loss, terms) = Loss(model, audioKd, clips, weights, windowSamples, maxWords, random);
        var (lossValue, applied) = GuardedUpdate.Apply(optimizer, loss, parameters, gradientClip);
        return terms with { Loss = lossValue, Applied = applied };
    }

    /// <summary>The batch's loss (a scalar tensor with gradient) and its terms; the supervised term is the clip-weighted mean of both parts.</summary>
    internal static (Tensor Loss, DistillationStepResult Terms) Loss(
        CaptionModel model, nn.Module<Tensor, Tensor, Tensor>? audioKd, IReadOnlyList<PoolClip> clips, DistillationWeights weights, int windowSamples, int maxWords, Random random)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfZero(clips.Count);
        var fresh = clips.Where(c => c.Targets is null).ToArray();
        var rehearsal = clips.Where(c => c.Targets is not null).ToArray();
        var total = zeros(1).squeeze();
        double supervised = 0, sequence = 0, encoder = 0, token = 0;
        if (fresh.Length > 0)
        {
            var share = (double)fresh.Length / clips.Count;
            var batch = DistillationBatch.Create(fresh, windowSamples, maxWords, withDistributions: false, random);
            var (loss, terms) = DistillationStep.Loss(model, null, batch, new DistillationWeights(weights.Supervised * share, 0, 0, 0), null);
            total = total.Plus(loss);
            supervised += share * terms.Supervised;
        }

        if (rehearsal.Length > 0)
        {
            var share = (double)rehearsal.Length / clips.Count;
            var batch = DistillationBatch.Create(rehearsal, windowSamples, maxWords, withDistributions: weights.Token > 0, random);
            var (loss, terms) = DistillationStep.Loss(
                model, audioKd, batch, new DistillationWeights(weights.Supervised * share, weights.Sequence, weights.Encoder, weights.Token), null);
            total = total.Plus(loss);
            supervised += share * terms.Supervised;
            sequence = terms.Sequence;
            encoder = terms.Encoder;
            token = terms.Token;
        }

        return (total, new DistillationStepResult(0, supervised, sequence, encoder, token, false));
    }
}
