using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;
using F = TorchSharp.torch.nn.functional;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// A stride-1, undilated, zero-padded Conv2d (grouped or not: the tagging encoder's depthwise layers are grouped) whose input gradient is computed by a forward convolution
/// (grad_x = conv2d(grad_y, W flipped and transposed, padding k - 1 - p)) instead of libtorch's convolution backward.
/// Why: in the libtorch of TorchSharp-cpu 0.107 on this project's machines (AMD EPYC, AVX-512) the backward-data
/// kernel, which also runs conv_transpose2d, returns wrong or NaN input gradients for layers with few channels: with
/// oneDNN on AVX-512, 20-70% of calls on 2-8-channel layers; with oneDNN limited to AVX2 (<see cref="TorchRuntime"/>)
/// no NaN any more, but every call on a 3-to-5 or 4-to-4 channel layer was off by more than 1 (checked against two
/// float64 references). Forward convolutions and weight-only gradients were always right, so the forward pass and the
/// weight gradient stay native and fast (about 15% slower than a plain native step). Without input gradients
/// (evaluation, export parity, frozen front end) the module runs as is.
/// </summary>
internal static class SafeConvolution
{
    public static Tensor Forward(Conv2d conv, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(input);
        if (!is_grad_enabled() || !input.requires_grad)
        {
            // No input gradient requested: libtorch computes only the (reliable) weight gradient.
            return conv.forward(input);
        }

        if (conv.stride.Any(s => s != 1) || conv.dilation.Any(d => d != 1)
            || conv.padding is null || conv.padding_mode != TorchSharp.PaddingModes.Zeros)
        {
            throw new NotSupportedException("Only stride-1, undilated, zero-padded Conv2d is supported.");
        }

        return ConvolutionWithForwardInputGradient.apply(input, conv.weight, conv.bias, conv.padding[0], conv.padding[1], conv.groups);
    }

    private sealed class ConvolutionWithForwardInputGradient : SingleTensorFunction<ConvolutionWithForwardInputGradient>
    {
        public override string Name => nameof(ConvolutionWithForwardInputGradient);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            var weight = (Tensor)vars[1];
            var bias = (Tensor?)vars[2];
            long padH = (long)vars[3], padW = (long)vars[4], groups = (long)vars[5];
            ctx.save_for_backward([input, weight]);
            ctx.save_data("padding", new[] { padH, padW });
            ctx.save_data("groups", groups);
            ctx.save_data("bias", bias is not null);
            return F.conv2d(input, weight, bias, padding: [padH, padW], groups: groups);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
        {
            var saved = ctx.get_saved_variables();
            Tensor input = saved[0], weight = saved[1];
            var padding = (long[])ctx.get_data("padding");
            var hasBias = (bool)ctx.get_data("bias");
            var groups = (long)ctx.get_data("groups");
            long outChannels = weight.shape[0], groupInputs = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3];

            // Per group, the transposed kernel: [G, Cout/G, Cin/G, kh, kw] -> [Cin, Cout/G, kh, kw].
            var flipped = weight.flip(2, 3)
                .reshape(groups, outChannels / groups, groupInputs, kh, kw)
                .transpose(1, 2)
                .reshape(groups * groupInputs, outChannels / groups, kh, kw)
                .contiguous();
            var inputGradient = F.conv2d(grad_output, flipped, padding: [kh - 1 - padding[0], kw - 1 - padding[1]], groups: groups);

            // Weight gradient from libtorch with the input detached, so its backward-data kernel never runs.
            Tensor weightGradient;
            using (enable_grad())
            {
                var leaf = weight.detach().requires_grad_(true);
                var output = F.conv2d(input.detach(), leaf, padding: [padding[0], padding[1]], groups: groups);
                weightGradient = grad([output], [leaf], [grad_output])[0];
            }

            var biasGradient = hasBias ? grad_output.sum([0, 2, 3]) : null;
            return [inputGradient, weightGradient, biasGradient!, null!, null!, null!];
        }
    }
}
