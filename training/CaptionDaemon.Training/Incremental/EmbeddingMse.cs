using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Incremental;

/// <summary>
/// Audio-KD of Cappellazzo et al. (2023): the mean squared error between the new model's encoder output and the old
/// model's for the same rehearsal clip. Old and new model have one architecture, so no projection heads are needed: it
/// compares the pooled encoder embeddings (the time-mean of the CNN features, the bundle's <c>embedding</c> output),
/// which the old model's targets already hold. The old embedding is detached.
/// </summary>
internal sealed class EmbeddingMse : Module<Tensor, Tensor, Tensor>
{
    public EmbeddingMse()
        : base(nameof(EmbeddingMse))
    {
    }

    public override Tensor forward(Tensor studentEmbedding, Tensor teacherEmbedding)
    {
        ArgumentNullException.ThrowIfNull(studentEmbedding);
        ArgumentNullException.ThrowIfNull(teacherEmbedding);
        return functional.mse_loss(studentEmbedding, teacherEmbedding.detach());
    }
}
