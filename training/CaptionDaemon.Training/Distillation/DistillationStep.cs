using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Distillation;

/// <summary>Weights of the distillation loss L = Supervised L_sup + Sequence L_seq + Encoder L_enc + Token L_tok.</summary>
internal sealed record DistillationWeights(double Supervised, double Sequence, double Encoder, double Token);

/// <summary>The loss terms of a step (0 for absent terms) and whether the update was applied.</summary>
internal readonly record struct DistillationStepResult(double Loss, double Supervised, double Sequence, double Encoder, double Token, bool Applied);

/// <summary>One optimisation step of the distillation loss on a <see cref="DistillationBatch"/>.</summary>
internal static class DistillationStep
{
    /// <summary>
    /// Encodes all windows once; L_sup is the cross-entropy of the human caption rows, L_seq that of the teacher caption
    /// rows, L_tok the cross-entropy of the student's next-token distribution against the teacher's top-k (renormalised
    /// over the k tokens) on the teacher rows, L_enc <paramref name="encoderKd"/> on the pooled embeddings. Terms with
    /// weight 0 or without rows are not computed. Like <see cref="Training.SupervisedStep"/>, a step whose loss or
    /// gradient norm is not finite is skipped; <paramref name="parameters"/> are those clipped (all the optimiser updates).
    /// </summary>
    public static DistillationStepResult Run(
        CaptionModel model,
        nn.Module<Tensor, Tensor, Tensor>? encoderKd,
        optim.Optimizer optimizer,
        IEnumerable<TorchSharp.Modules.Parameter> parameters,
        DistillationBatch batch,
        DistillationWeights weights,
        double gradientClip,
        Func<Tensor, Tensor>? transformSpectrogram = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(weights);
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var (loss, terms) = Loss(model, encoderKd, batch, weights, transformSpectrogram);
        var (lossValue, applied) = GuardedUpdate.Apply(optimizer, loss, parameters, gradientClip);
        return terms with { Loss = lossValue, Applied = applied };
    }

    /// <summary>The weighted loss (a scalar tensor with gradient) and its terms.</summary>
    internal static (Tensor Loss, DistillationStepResult Terms) Loss(
        CaptionModel model, nn.Module<Tensor, Tensor, Tensor>? encoderKd, DistillationBatch batch, DistillationWeights weights, Func<Tensor, Tensor>? transformSpectrogram)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        var audio = tensor(batch.Audio, [batch.Clips, batch.WindowSamples]);
        var (memory, embedding) = transformSpectrogram is null ? model.Encode(audio) : model.Encode(audio, transformSpectrogram);
        var vocabSize = model.Config.VocabSize;
        var total = zeros(1).squeeze();
        double supervised = 0, sequence = 0, encoder = 0, token = 0;
        if (weights.Supervised > 0 && batch.Human is { } human)
        {
            var logits = model.Decoder.forward(tensor(human.Inputs, [human.Rows, human.Length]), memory.index_select(0, tensor(human.ClipOfRow)));
            var term = nn.functional.cross_entropy(logits.reshape(-1, vocabSize), tensor(human.Targets), ignore_index: Vocabulary.Pad);
            supervised = term.item<float>();
            total = Weighted(total, term, weights.Supervised);
        }

        if ((weights.Sequence > 0 || weights.Token > 0) && batch.Teacher is { } teacher)
        {
            var logits = model.Decoder.forward(tensor(teacher.Inputs, [teacher.Rows, teacher.Length]), memory.index_select(0, tensor(teacher.ClipOfRow)));
            if (weights.Sequence > 0)
            {
                var term = nn.functional.cross_entropy(logits.reshape(-1, vocabSize), tensor(teacher.Targets), ignore_index: Vocabulary.Pad);
                sequence = term.item<float>();
                total = Weighted(total, term, weights.Sequence);
            }

            if (weights.Token > 0)
            {
                if (batch.TopIds is null || batch.TopProbabilities is null)
                {
                    throw new ArgumentException("Token-level KD needs the teacher's token distributions in the batch.", nameof(batch));
                }

                var shape = new long[] { teacher.Rows, teacher.Length, batch.TopK };
                var term = TokenLoss(logits, tensor(batch.TopIds, shape), tensor(batch.TopProbabilities, shape));
                token = term.item<float>();
                total = Weighted(total, term, weights.Token);
            }
        }

        if (weights.Encoder > 0 && encoderKd is not null && batch.TeacherEmbeddings is { } teacherEmbeddings)
        {
            var student = batch.TeacherAudioFrames ? memory.flatten(1) : embedding;
            if (batch.TeacherAudioFrames && student.shape[1] != batch.TeacherEmbeddingDim)
            {
                throw new ArgumentException($"The student's audio representation has {student.shape[1]} values per clip and the teacher's target {batch.TeacherEmbeddingDim}; frame targets need the same architecture and window.", nameof(batch));
            }

            var term = encoderKd.forward(student, tensor(teacherEmbeddings, [batch.Clips, batch.TeacherEmbeddingDim]));
            encoder = term.item<float>();
            total = Weighted(total, term, weights.Encoder);
        }

        return (total, new DistillationStepResult(0, supervised, sequence, encoder, token, false));
    }

    /// <summary><c>total + weight * term</c> with the weight as a Scalar held during the call (see <see cref="HeldScalars"/>).</summary>
    private static Tensor Weighted(Tensor total, Tensor term, double weight)
    {
        using var alpha = weight.ToScalar();
        return total.add(term, alpha);
    }

    /// <summary>
    /// Token-level KD on logits <c>[R, L, V]</c>: per step, -sum_k p_k log q(id_k) with the teacher's top-k probabilities
    /// p renormalised to sum to 1 (the mass outside the top k is dropped); averaged over steps that have any
    /// probability (padding has none).
    /// </summary>
    internal static Tensor TokenLoss(Tensor logits, Tensor topIds, Tensor topProbabilities)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(topIds);
        ArgumentNullException.ThrowIfNull(topProbabilities);
        using var scope = NewDisposeScope();
        var mass = topProbabilities.sum(-1, keepdim: true);
        using var tiny = 1e-12.ToScalar();
        var valid = mass.squeeze(-1).gt(HeldScalars.Zero).to_type(ScalarType.Float32);
        var target = topProbabilities / mass.clamp_min(tiny);
        var logProbabilities = nn.functional.log_softmax(logits, -1).gather(-1, topIds);
        var perStep = -(target * logProbabilities).sum(-1);
        return ((perStep * valid).sum() / valid.sum().clamp_min(HeldScalars.One)).MoveToOuterDisposeScope();
    }
}
