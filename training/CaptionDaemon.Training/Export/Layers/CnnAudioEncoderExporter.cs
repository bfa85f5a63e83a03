using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>
/// The CNN encoder: log-mel image <c>[B, 1, M, T]</c> to memory <c>[B, T', d]</c> and embedding <c>[B, C]</c>, layer by
/// layer as in <see cref="CnnAudioEncoder.forward"/> (ReduceMean takes its axes as an attribute up to opset 17).
/// </summary>
internal static class CnnAudioEncoderExporter
{
    public static (string Memory, string Embedding) Export(OnnxGraphBuilder graph, CnnAudioEncoder encoder, string image, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(encoder);
        var x = image;
        for (var i = 0; i < encoder.Convs.Count; i++)
        {
            x = ConvExporter.Export(graph, encoder.Convs[i], x, $"{name}.conv{i}");
            x = BatchNormExporter.Export(graph, encoder.Norms[i], x, $"{name}.bn{i}");
            x = ActivationExporter.Relu(graph, x, $"{name}.relu{i}");
            if ((i + 1) % encoder.ConvsPerBlock == 0)
            {
                x = ActivationExporter.AveragePool2d(graph, 2, x, $"{name}.pool{i / encoder.ConvsPerBlock}");
            }
        }

        var (features, embedding) = PoolFeatures(graph, x, name);
        return (Memory(graph, encoder.Projection, encoder.ProjectionNorm, features, name), embedding);
    }

    /// <summary>
    /// A CNN's last map <c>[B, C, F, T']</c> to per-frame features <c>[B, T', C]</c> (mean over frequency) and the
    /// embedding <c>[B, C]</c> (their mean over time), as both encoders compute them.
    /// </summary>
    internal static (string Features, string Embedding) PoolFeatures(OnnxGraphBuilder graph, string map, string name)
    {
        var overFrequency = graph.Node("ReduceMean", $"{name}.freq_mean", [map],
            OnnxGraphBuilder.Attribute("axes", [2L]), OnnxGraphBuilder.Attribute("keepdims", 0L));
        var features = graph.Node("Transpose", $"{name}.features", [overFrequency], OnnxGraphBuilder.Attribute("perm", [0L, 2, 1]));
        var embedding = graph.Node("ReduceMean", $"{name}.embedding", [features],
            OnnxGraphBuilder.Attribute("axes", [1L]), OnnxGraphBuilder.Attribute("keepdims", 0L));
        return (features, embedding);
    }

    /// <summary>The decoder memory of per-frame features: LayerNorm(ReLU(Linear(features))).</summary>
    internal static string Memory(OnnxGraphBuilder graph, TorchSharp.Modules.Linear projection, TorchSharp.Modules.LayerNorm norm, string features, string name)
    {
        var projected = ActivationExporter.Relu(graph, LinearExporter.Export(graph, projection, features, $"{name}.projection"), $"{name}.projection_relu");
        return LayerNormExporter.Export(graph, norm, projected, $"{name}.memory");
    }
}
