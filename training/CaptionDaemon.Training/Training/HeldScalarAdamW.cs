using CaptionDaemon.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// TorchSharp's AdamW with the same update and state (so optimizer.bin files stay compatible), but every number it hands
/// libtorch is a Scalar held for the duration of the call (see <see cref="Models.HeldScalars"/>): TorchSharp 0.107's own
/// step passes eight temporary Scalars per parameter, and a stress test (garbage collections on another thread during
/// steps) crashed inside it within seconds. The update, for step t, learning rate lr and weight decay wd:
/// p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// </summary>
internal sealed class HeldScalarAdamW : AdamW
{
    public HeldScalarAdamW(IEnumerable<Parameter> parameters, double learningRate, double weightDecay = 0)
        : base(parameters, learningRate, weight_decay: weightDecay)
    {
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(
        group =>
        {
            var options = (Options)group.Options;
            if (options.amsgrad == true || options.maximize == true)
            {
                throw new NotSupportedException("HeldScalarAdamW implements AdamW without amsgrad or maximize.");
            }

            double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, lr = options.LearningRate!.Value;
            using var decay = (1 - (lr * options.weight_decay!.Value)).ToScalar();
            using var keep1 = beta1.ToScalar();
            using var take1 = (1 - beta1).ToScalar();
            using var keep2 = beta2.ToScalar();
            using var take2 = (1 - beta2).ToScalar();
            using var eps = options.eps!.Value.ToScalar();
            foreach (var parameter in group.Parameters)
            {
                var gradient = parameter.grad;
                if (gradient is null)
                {
                    continue;
                }

                var state = (State)_state[parameter.Handle];
                state.step += 1;
                parameter.mul_(decay);
                state.exp_avg.mul_(keep1).add_(gradient, take1);
                state.exp_avg_sq.mul_(keep2).addcmul_(gradient, gradient, take2);
                using var correction2 = Math.Sqrt(1 - Math.Pow(beta2, state.step)).ToScalar();
                using var stepSize = (-lr / (1 - Math.Pow(beta1, state.step))).ToScalar();
                using var denominator = state.exp_avg_sq.sqrt().div_(correction2).add_(eps, HeldScalars.One); // add_(Scalar) alone passes a temporary alpha 1
                parameter.addcdiv_(state.exp_avg, denominator, stepSize);
            }
        },
        closure);
}
