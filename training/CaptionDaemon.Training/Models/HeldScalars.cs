using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// Tensor operations of the training step that pass libtorch no temporary <see cref="Scalar"/>.
/// Why: TorchSharp 0.107 turns a number argument (<c>x * 0.5</c>, <c>x.add_(1)</c>, and <c>a + b</c>, which is
/// <c>add(b, alpha: 1)</c>) into a <see cref="Scalar"/> that nothing references once its native handle is passed on, and
/// dispose scopes do not track Scalars. A garbage collection during the native call lets the finalizer thread free the
/// value while libtorch reads it: "Unknown scalar type" or a failed check in c10 Scalar::toFloat / toDouble. Runs and CI
/// died of it in the decoder, the front end, TorchSharp's BatchNorm and its AdamW. The Scalars here live as long as the
/// process; <see cref="Training.HeldScalarAdamW"/> does the same for the optimiser. The rule for step code: no number
/// where libtorch takes a Scalar, except through a Scalar the caller holds (a field, or a <c>using</c> local).
/// </summary>
internal static class HeldScalars
{
    public static readonly Scalar Zero = 0.ToScalar();

    public static readonly Scalar One = 1.ToScalar();

    public static readonly Scalar Half = 0.5.ToScalar();

    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();

    /// <summary><c>a + b</c> without a temporary alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>
    /// What <see cref="BatchNorm"/>'s forward does (count the batch when training, normalise with batch statistics and
    /// update the running ones when training, with the running ones otherwise), without TorchSharp's
    /// <c>num_batches_tracked.add_(1)</c>, whose temporary Scalar is one of the crashes above.
    /// </summary>
    public static Tensor BatchNorm(NormBase norm, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(norm);
        ArgumentNullException.ThrowIfNull(input);
        var momentum = norm.momentum ?? 0;
        if (norm.training && norm.num_batches_tracked is { } batches)
        {
            using (no_grad())
            {
                batches.add_(One, One); // add_(Scalar) alone passes a temporary alpha
            }

            if (momentum == 0)
            {
                // PyTorch's cumulative average when no momentum is set.
                momentum = 1.0 / batches.item<long>();
            }
        }

        return nn.functional.batch_norm(input, norm.running_mean, norm.running_var, norm.weight, norm.bias, norm.training, momentum, norm.eps);
    }
}
