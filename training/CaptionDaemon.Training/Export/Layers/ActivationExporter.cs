namespace CaptionDaemon.Training.Export.Layers;

/// <summary>Parameter-free layers: ReLU and 2-D average pooling.</summary>
internal static class ActivationExporter
{
    public static string Relu(OnnxGraphBuilder graph, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("Relu", name, [input]);
    }

    /// <summary>AvgPool2d(kernel) with stride = kernel, no padding, floor mode: TorchSharp's defaults and ONNX's.</summary>
    public static string AveragePool2d(OnnxGraphBuilder graph, long kernel, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("AveragePool", name, [input],
            OnnxGraphBuilder.Attribute("kernel_shape", [kernel, kernel]),
            OnnxGraphBuilder.Attribute("strides", [kernel, kernel]));
    }
}
