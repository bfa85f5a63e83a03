using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// The end of every training step (supervised, distillation, incremental): backward, clip, update, unless the loss or
/// the gradient norm is not finite, in which case the step is skipped so that one bad batch cannot ruin the weights.
/// </summary>
internal static class GuardedUpdate
{
    /// <param name="optimizer">The optimiser; its gradients must have been zeroed before the loss was computed.</param>
    /// <param name="loss">A scalar loss with gradient.</param>
    /// <param name="parameters">The parameters whose gradient norm is clipped (all those the optimiser updates).</param>
    /// <param name="gradientClip">The maximum gradient norm.</param>
    /// <returns>The loss value and whether the update was applied.</returns>
    public static (float Loss, bool Applied) Apply(optim.Optimizer optimizer, Tensor loss, IEnumerable<Parameter> parameters, double gradientClip)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        var lossValue = loss.item<float>();
        if (!float.IsFinite(lossValue))
        {
            return (lossValue, false);
        }

        loss.backward();
        var gradientNorm = nn.utils.clip_grad_norm_(parameters, gradientClip);
        if (!double.IsFinite(gradientNorm))
        {
            optimizer.zero_grad();
            return (lossValue, false);
        }

        optimizer.step();
        return (lossValue, true);
    }
}
