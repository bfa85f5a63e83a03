using TorchSharp.Modules;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>LayerNorm over the last axis as ONNX LayerNormalization (opset 17).</summary>
internal static class LayerNormExporter
{
    public static string Export(OnnxGraphBuilder graph, LayerNorm norm, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(norm);
        if (norm.weight is null || norm.bias is null)
        {
            throw new NotSupportedException($"{name}: only LayerNorm with elementwise affine parameters is exported.");
        }

        return graph.Node("LayerNormalization", name,
            [input, graph.Initializer($"{name}.weight", norm.weight), graph.Initializer($"{name}.bias", norm.bias)],
            OnnxGraphBuilder.Attribute("axis", -1L),
            OnnxGraphBuilder.Attribute("epsilon", (float)norm.eps));
    }
}
