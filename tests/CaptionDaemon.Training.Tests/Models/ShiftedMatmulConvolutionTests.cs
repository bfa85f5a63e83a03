using CaptionDaemon.Training.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Models;

public sealed class ShiftedMatmulConvolutionTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_WithGradients_MatchesFloat64ConvolutionAndItsGradients(bool bias)
    {
        // References in float64 from other kernels than the ones under test: conv2d forward, conv_transpose2d for the
        // input gradient, and an explicit sum over kernel offsets for the weight gradient. Native Conv2d backward is
        // not a usable reference here: on this machine it returned wrong input gradients (max error ~0.8).
        using var scope = NewDisposeScope();
        var generator = new Generator(21);
        using var conv = nn.Conv2d(3, 5, 3, padding: 1, bias: bias);
        var x = randn([2, 3, 9, 13], generator: generator).requires_grad_(true);
        var upstream = randn([2, 5, 9, 13], generator: generator);

        var output = ShiftedMatmulConvolution.Forward(conv, x);
        output.backward([upstream]);

        var x64 = x.detach().to_type(ScalarType.Float64);
        var w64 = conv.weight.detach().to_type(ScalarType.Float64);
        var g64 = upstream.to_type(ScalarType.Float64);
        var expectedOutput = nn.functional.conv2d(x64, w64, conv.bias?.detach().to_type(ScalarType.Float64), padding: [1, 1]);
        var expectedInputGrad = nn.functional.conv_transpose2d(g64, w64, padding: [1, 1]);
        var padded = nn.functional.pad(x64, [1, 1, 1, 1]);
        var expectedWeightGrad = stack(Enumerable.Range(0, 3).Select(dy => stack(Enumerable.Range(0, 3).Select(dx =>
            einsum("bohw,bchw->oc", g64, padded.narrow(2, dy, 9).narrow(3, dx, 13))), -1)), -2);

        var outputDiff = MaxAbsDiff(expectedOutput, output);
        var inputGradDiff = MaxAbsDiff(expectedInputGrad, x.grad!);
        var weightGradDiff = MaxAbsDiff(expectedWeightGrad, conv.weight.grad!);
        Assert.True(outputDiff < 1e-5 && inputGradDiff < 1e-5 && weightGradDiff < 1e-4,
            $"max |diff| output {outputDiff}, input grad {inputGradDiff}, weight grad {weightGradDiff}");
        if (bias)
        {
            Assert.True(MaxAbsDiff(g64.sum([0, 2, 3]), conv.bias!.grad!) < 1e-4);
        }
    }

    [Fact]
    public void Forward_Repeatedly_NeverGivesNonFiniteInputGradients()
    {
        // The case that broke libtorch's Conv2d backward on this machine: small channel counts, many calls.
        using var conv = nn.Conv2d(4, 4, 3, padding: 1, bias: false);
        for (var trial = 0; trial < 300; trial++)
        {
            using var scope = NewDisposeScope();
            var x = randn([4, 4, 64, 24], requires_grad: true);
            ShiftedMatmulConvolution.Forward(conv, x).square().sum().backward();
            Assert.True(x.grad!.isfinite().all().item<bool>(), $"trial {trial}");
        }
    }

    [Fact]
    public void Forward_WithoutGradients_IsTheNativeConvolution()
    {
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(2, 3, 3, padding: 1);
        using var noGrad = no_grad();
        var x = randn(1, 2, 5, 6);

        Assert.Equal(0.0, MaxAbsDiff(conv.forward(x), ShiftedMatmulConvolution.Forward(conv, x)));
    }

    private static double MaxAbsDiff(Tensor expected, Tensor actual) =>
        (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
}
