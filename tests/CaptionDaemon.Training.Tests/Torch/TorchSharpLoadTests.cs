using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Torch;

/// <summary>Proves the native TorchSharp library loads from this build (see build/TorchSharpGlibcxx.targets).</summary>
public sealed class TorchSharpLoadTests
{
    [Fact]
    public void ForwardAndBackward_SmallNetwork_ComputesAnalyticGradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1f, 2f, 3f });
        var w = tensor(new float[] { 0.5f, -1f, 2f }, requires_grad: true);
        var loss = (w * x).pow(2).sum(); // d/dw (w x)^2 = 2 w x^2
        loss.backward();

        var grad = w.grad!.data<float>().ToArray();
        Assert.Equal(new[] { 1f, -8f, 36f }, grad);
    }

    [Fact]
    public void Conv2dModule_ForwardBackward_ProducesFiniteGradients()
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(1);
        var conv = nn.Conv2d(1, 4, 3, padding: 1);
        var input = randn(2, 1, 8, 8);
        var output = conv.forward(input).relu().mean();
        output.backward();

        var grad = conv.weight!.grad!;
        Assert.Equal(new long[] { 4, 1, 3, 3 }, grad.shape);
        Assert.True(grad.isfinite().all().item<bool>());
        Assert.True(grad.abs().sum().item<float>() > 0f);
    }
}
