using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// Runs a stride-1, undilated, ungrouped Conv2d whose gradients are needed as a sum of one matrix product per kernel
/// offset over shifted views of the zero-padded input: y = sum over (dy, dx) of W[:, :, dy, dx] x(shifted by dy, dx).
/// Same mathematics as Conv2d, different kernels.
/// Why: in the libtorch of TorchSharp-cpu 0.107 on this machine (AMD EPYC, AVX-512) the Conv2d backward pass now and
/// then writes NaN into part of the input gradient although its inputs are finite (seen in ~7% of calls on 4-channel
/// 64x24 maps with 2 threads, and as random NaN losses in small training runs, also with one thread). Matrix products
/// and their backward never showed it. Without gradients (evaluation, export parity) the native Conv2d runs.
/// </summary>
internal static class ShiftedMatmulConvolution
{
    public static Tensor Forward(Conv2d conv, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(input);
        var needsGradient = is_grad_enabled() && (input.requires_grad || conv.weight.requires_grad);
        if (!needsGradient)
        {
            return conv.forward(input);
        }

        if (conv.stride.Any(s => s != 1) || conv.dilation.Any(d => d != 1) || conv.groups != 1
            || conv.padding is null || conv.padding_mode != TorchSharp.PaddingModes.Zeros)
        {
            throw new NotSupportedException("Only stride-1, undilated, ungrouped, zero-padded Conv2d is supported.");
        }

        using var scope = NewDisposeScope();
        long kh = conv.kernel_size[0], kw = conv.kernel_size[1], ph = conv.padding[0], pw = conv.padding[1];
        var padded = functional.pad(input, [pw, pw, ph, ph]);
        var height = padded.shape[2] - kh + 1;
        var width = padded.shape[3] - kw + 1;
        Tensor? output = null;
        for (var dy = 0; dy < kh; dy++)
        {
            for (var dx = 0; dx < kw; dx++)
            {
                var window = padded.narrow(2, dy, height).narrow(3, dx, width);           // [B, C, H, W] view
                var weight = conv.weight.select(3, dx).select(2, dy);                     // [O, C]
                var term = einsum("oc,bchw->bohw", weight, window);
                output = output is null ? term : output + term;
            }
        }

        if (conv.bias is not null)
        {
            output = output! + conv.bias.view(1, -1, 1, 1);
        }

        return output!.MoveToOuterDisposeScope();
    }
}
