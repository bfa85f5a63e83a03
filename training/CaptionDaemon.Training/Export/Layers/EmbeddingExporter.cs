using TorchSharp.Modules;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>Embedding lookup as Gather on axis 0 of the table.</summary>
internal static class EmbeddingExporter
{
    /// <summary>Adds the table as an initialiser and gathers rows; returns the rows and the table's name (for weight tying).</summary>
    public static (string Output, string Table) Export(OnnxGraphBuilder graph, Embedding embedding, string indices, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(embedding);
        var table = graph.Initializer($"{name}.weight", embedding.weight!);
        return (graph.Node("Gather", name, [table, indices], OnnxGraphBuilder.Attribute("axis", 0L)), table);
    }
}
