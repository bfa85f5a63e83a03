using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>Linear (y = x W^T + b) as MatMul with the pre-transposed weight plus Add: works for inputs of any rank.</summary>
internal static class LinearExporter
{
    public static string Export(OnnxGraphBuilder graph, Linear linear, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(linear);
        using var scope = NewDisposeScope();
        var weight = graph.Initializer($"{name}.weight_t", linear.weight!.t());
        var output = graph.Node("MatMul", $"{name}.matmul", [input, weight]);
        return linear.bias is null
            ? output
            : graph.Node("Add", name, [output, graph.Initializer($"{name}.bias", linear.bias)]);
    }
}
