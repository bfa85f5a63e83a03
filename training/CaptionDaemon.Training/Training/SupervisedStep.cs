using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training;

/// <summary>The loss of a step and whether the update was applied (false when the loss or gradient was not finite).</summary>
internal readonly record struct StepResult(double Loss, bool Applied);

/// <summary>
/// The tagging targets of a batch's clips: <see cref="Targets"/> row-major <c>[clips, Count]</c>, 1 where the clip holds
/// the label's category, and the loss's weight.
/// </summary>
internal sealed record LabelTargets(float[] Targets, int Count, double Weight);

/// <summary>One optimisation step of teacher-forced cross-entropy on a <see cref="CaptionBatch"/>.</summary>
internal static class SupervisedStep
{
    /// <summary>
    /// Encodes each window once, repeats its memory for each of its captions, and minimises the cross-entropy of the
    /// next tokens (ignoring &lt;pad&gt;), with the global gradient norm clipped; returns the loss before the update.
    /// A step whose loss or gradient norm is not finite is not applied: one NaN in AdamW's moments would spoil every
    /// later step, and this libtorch build is known to produce sporadic NaN gradients (see ShiftedMatmulConvolution).
    /// <paramref name="transformSpectrogram"/>, when given, is applied to the log-mel before the CNN (SpecAugment masks).
    /// </summary>
    /// <remarks>
    /// With <paramref name="labels"/> (a model on a tagger whose encoder is being fine-tuned) the loss also holds the
    /// tagging loss: the binary cross-entropy of the tagger's label logits against the clips' categories, times its weight.
    /// </remarks>
    public static StepResult Run(
        CaptionModel model, optim.Optimizer optimizer, CaptionBatch batch, double labelSmoothing, double gradientClip, Func<Tensor, Tensor>? transformSpectrogram = null,
        LabelTargets? labels = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        Tensor memory;
        Tensor? labelLoss = null;
        if (labels is not null)
        {
            var (windows, logMel) = Windows(batch);
            var output = model.EncodeWithLabelLogits(windows, logMel, transformSpectrogram);
            memory = output.Memory;
            labelLoss = nn.functional.binary_cross_entropy_with_logits(output.Logits, tensor(labels.Targets, [batch.Clips, labels.Count])) * labels.Weight;
        }
        else
        {
            (memory, _) = Encode(model, batch, transformSpectrogram);
        }

        var logits = model.Decoder.forward(tensor(batch.Inputs, [batch.Rows, batch.Length]), memory.index_select(0, tensor(batch.ClipOfRow)));
        var loss = nn.functional.cross_entropy(
            logits.reshape(-1, model.Config.VocabSize),
            tensor(batch.Targets),
            ignore_index: Vocabulary.Pad,
            label_smoothing: labelSmoothing);
        if (labelLoss is not null)
        {
            loss = loss + labelLoss;
        }

        var (lossValue, applied) = GuardedUpdate.Apply(optimizer, loss, model.parameters(), gradientClip);
        return new StepResult(lossValue, applied);
    }

    /// <summary>The batch's windows through the encoder: from log-mel when the batch has it (a feature cache), else from audio.</summary>
    internal static (Tensor Memory, Tensor Embedding) Encode(CaptionModel model, CaptionBatch batch, Func<Tensor, Tensor>? transformSpectrogram)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        var (windows, logMel) = Windows(batch);
        return logMel ? model.EncodeLogMel(windows, transformSpectrogram)
            : transformSpectrogram is null ? model.Encode(windows) : model.Encode(windows, transformSpectrogram);
    }

    /// <summary>The batch's windows as the encoder takes them: log-mel <c>[B, MelBins, T]</c> when the batch has it (a feature cache), else audio <c>[B, S]</c>.</summary>
    private static (Tensor Windows, bool LogMel) Windows(CaptionBatch batch) => batch.LogMel is { } logMel
        ? (tensor(logMel, [batch.Clips, batch.MelBins, batch.Frames]), true)
        : (tensor(batch.Audio, [batch.Clips, batch.WindowSamples]), false);
}
