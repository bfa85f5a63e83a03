using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Incremental;

/// <summary>
/// Audio-KD of Cappellazzo et al. (2023): the mean squared error between the new model's encoder output and the old
/// model's for the same rehearsal clip. Old and new model have one architecture, so no projection heads are needed: it
/// compares the encoders' whole output sequences (the memory the decoder attends to, frames x d_model, flattened per
/// clip), which the old model's targets hold (<see cref="Distillation.TeacherTargetSettings.AudioFrames"/>). The old
/// output is detached.
/// </summary>
internal sealed class EncoderOutputMse : Module<Tensor, Tensor, Tensor>
{
    public EncoderOutputMse()
        : base(nameof(EncoderOutputMse))
    {
    }

    public override Tensor forward(Tensor studentEmbedding, Tensor teacherEmbedding)
    {
        ArgumentNullException.ThrowIfNull(studentEmbedding);
        ArgumentNullException.ThrowIfNull(teacherEmbedding);
        return functional.mse_loss(studentEmbedding, teacherEmbedding.detach());
    }
}
