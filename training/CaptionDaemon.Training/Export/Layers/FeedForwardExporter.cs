using TorchSharp.Modules;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>The decoder's position-wise feed-forward: Linear, ReLU, Linear (dropout is the identity at inference).</summary>
internal static class FeedForwardExporter
{
    public static string Export(OnnxGraphBuilder graph, Linear inner, Linear outer, string input, string name)
    {
        var hidden = ActivationExporter.Relu(graph, LinearExporter.Export(graph, inner, input, $"{name}.in"), $"{name}.relu");
        return LinearExporter.Export(graph, outer, hidden, $"{name}.out");
    }
}
