using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>One pre-LayerNorm decoder layer for a single step: x <c>[N, d]</c> with this layer's caches.</summary>
internal static class DecoderLayerExporter
{
    public static (string Output, string PresentKeys, string PresentValues) Step(
        OnnxGraphBuilder graph, CaptionDecoderLayer layer, string x, string pastKeys, string pastValues, string crossKeys, string crossValues, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(layer);
        var selfInput = LayerNormExporter.Export(graph, layer.SelfNorm, x, $"{name}.self_norm");
        var (selfOut, keys, values) = AttentionExporter.SelfStep(graph, layer.SelfAttention, selfInput, pastKeys, pastValues, $"{name}.self");
        var h = graph.Node("Add", $"{name}.self_residual", [x, selfOut]);
        var crossInput = LayerNormExporter.Export(graph, layer.CrossNorm, h, $"{name}.cross_norm");
        var crossOut = AttentionExporter.CrossStep(graph, layer.CrossAttention, crossInput, crossKeys, crossValues, $"{name}.cross");
        h = graph.Node("Add", $"{name}.cross_residual", [h, crossOut]);
        var ffnInput = LayerNormExporter.Export(graph, layer.FeedForwardNorm, h, $"{name}.ffn_norm");
        var ffnOut = FeedForwardExporter.Export(graph, layer.FeedForwardIn, layer.FeedForwardOut, ffnInput, $"{name}.ffn");
        return (graph.Node("Add", $"{name}.ffn_residual", [h, ffnOut]), keys, values);
    }
}
