using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>
/// Multi-head attention for one decoding step, rows = hypotheses: the query is <c>[N, d]</c>, keys and values are in
/// the cache layout <c>[N, heads, S, head_dim]</c>. Self-attention appends this step's key/value to the past
/// (present = past + 1); cross-attention reads precomputed keys/values of the encoder memory.
/// </summary>
internal static class AttentionExporter
{
    /// <summary>Self-attention step: returns the output <c>[N, d]</c> and the present keys/values <c>[N, heads, P + 1, head_dim]</c>.</summary>
    public static (string Output, string PresentKeys, string PresentValues) SelfStep(
        OnnxGraphBuilder graph, MultiHeadAttention attention, string x, string pastKeys, string pastValues, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(attention);
        var newKeys = StepHeads(graph, attention, LinearExporter.Export(graph, attention.Key, x, $"{name}.k"), $"{name}.k_heads");
        var newValues = StepHeads(graph, attention, LinearExporter.Export(graph, attention.Value, x, $"{name}.v"), $"{name}.v_heads");
        var keys = graph.Node("Concat", $"{name}.present_k", [pastKeys, newKeys], OnnxGraphBuilder.Attribute("axis", 2L));
        var values = graph.Node("Concat", $"{name}.present_v", [pastValues, newValues], OnnxGraphBuilder.Attribute("axis", 2L));
        return (Attend(graph, attention, x, keys, values, name), keys, values);
    }

    /// <summary>Cross-attention step over keys/values <c>[N, heads, S, head_dim]</c>: returns <c>[N, d]</c>.</summary>
    public static string CrossStep(OnnxGraphBuilder graph, MultiHeadAttention attention, string x, string keys, string values, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(attention);
        return Attend(graph, attention, x, keys, values, name);
    }

    /// <summary>Keys (or values, with <paramref name="projection"/> = Value) of a sequence <c>[N, S, d]</c> as <c>[N, heads, S, head_dim]</c>.</summary>
    public static string SequenceHeads(OnnxGraphBuilder graph, MultiHeadAttention attention, TorchSharp.Modules.Linear projection, string source, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(attention);
        var projected = LinearExporter.Export(graph, projection, source, name);
        var split = graph.Node("Reshape", $"{name}.split", [projected, graph.Int64s($"{name}.split_shape", 0, 0, attention.Heads, attention.HeadDim)]);
        return graph.Node("Transpose", $"{name}.heads", [split], OnnxGraphBuilder.Attribute("perm", [0L, 2, 1, 3]));
    }

    private static string Attend(OnnxGraphBuilder graph, MultiHeadAttention attention, string x, string keys, string values, string name)
    {
        var queries = StepHeads(graph, attention, LinearExporter.Export(graph, attention.Query, x, $"{name}.q"), $"{name}.q_heads");
        var keysT = graph.Node("Transpose", $"{name}.k_t", [keys], OnnxGraphBuilder.Attribute("perm", [0L, 1, 3, 2]));
        var scores = graph.Node("MatMul", $"{name}.scores", [queries, keysT]);                 // [N, heads, 1, S]
        var scaled = graph.Node("Mul", $"{name}.scaled", [scores, graph.FloatScalar($"{name}.scale", (float)(1.0 / Math.Sqrt(attention.HeadDim)))]);
        var weights = graph.Node("Softmax", $"{name}.softmax", [scaled], OnnxGraphBuilder.Attribute("axis", -1L));
        var context = graph.Node("MatMul", $"{name}.context", [weights, values]);                // [N, heads, 1, head_dim]
        // With a single query position, [N, heads, 1, head_dim] in memory is already the heads concatenated: [N, d].
        var merged = graph.Node("Reshape", $"{name}.merge", [context, graph.Int64s($"{name}.merge_shape", 0, attention.Heads * attention.HeadDim)]);
        return LinearExporter.Export(graph, attention.Output, merged, $"{name}.out");
    }

    /// <summary><c>[N, d]</c> to one position per head <c>[N, heads, 1, head_dim]</c>.</summary>
    private static string StepHeads(OnnxGraphBuilder graph, MultiHeadAttention attention, string input, string name) =>
        graph.Node("Reshape", name, [input, graph.Int64s($"{name}.shape", 0, attention.Heads, 1, attention.HeadDim)]);
}
