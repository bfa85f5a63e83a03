using TorchSharp.Modules;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>BatchNorm1d/2d in evaluation mode (running statistics) as ONNX BatchNormalization over axis 1.</summary>
internal static class BatchNormExporter
{
    public static string Export(OnnxGraphBuilder graph, BatchNorm norm, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(norm);
        if (norm.weight is null || norm.bias is null || norm.running_mean is null || norm.running_var is null)
        {
            throw new NotSupportedException($"{name}: only affine BatchNorm with running statistics is exported.");
        }

        return graph.Node("BatchNormalization", name,
            [
                input,
                graph.Initializer($"{name}.weight", norm.weight),
                graph.Initializer($"{name}.bias", norm.bias),
                graph.Initializer($"{name}.running_mean", norm.running_mean),
                graph.Initializer($"{name}.running_var", norm.running_var),
            ],
            OnnxGraphBuilder.Attribute("epsilon", (float)norm.eps));
    }
}
