using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>
/// The tagging encoder after its front end: normalised log-mel <c>[B, 1, M, T]</c> to memory <c>[B, T', d]</c>, embedding
/// <c>[B, C]</c> and label probabilities <c>[B, L]</c>, layer by layer as in <see cref="TaggingEncoder"/>. SiLU is
/// <c>x * Sigmoid(x)</c> (opset 17 has no SiLU); the probabilities are the Sigmoid of the classifier's logits. With
/// <see cref="TaggingEncoderConfig.LabelMemory"/> the memory ends with the label frame made from those logits.
/// </summary>
internal static class TaggingEncoderExporter
{
    public static (string Memory, string Embedding, string LabelProbabilities) Export(OnnxGraphBuilder graph, TaggingEncoder encoder, string image, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(encoder);
        var x = Silu(graph, BatchNormExporter.Export(graph, encoder.StemNorm, ConvExporter.Export(graph, encoder.Stem, image, $"{name}.stem"), $"{name}.stem_bn"), $"{name}.stem_silu");
        for (var i = 0; i < encoder.Blocks.Count; i++)
        {
            var block = encoder.Blocks[i];
            var prefix = $"{name}.block{i}";
            var y = x;
            if (block.Expand is not null)
            {
                y = Silu(graph, BatchNormExporter.Export(graph, block.ExpandNorm!, ConvExporter.Export(graph, block.Expand, y, $"{prefix}.expand"), $"{prefix}.expand_bn"), $"{prefix}.expand_silu");
            }

            y = Silu(graph, BatchNormExporter.Export(graph, block.DepthwiseNorm, ConvExporter.Export(graph, block.Depthwise, y, $"{prefix}.depthwise"), $"{prefix}.depthwise_bn"), $"{prefix}.depthwise_silu");
            if (block.Pool)
            {
                y = ActivationExporter.AveragePool2d(graph, 2, y, $"{prefix}.pool");
            }

            y = BatchNormExporter.Export(graph, block.ProjectNorm, ConvExporter.Export(graph, block.Project, y, $"{prefix}.project"), $"{prefix}.project_bn");
            x = block.Residual ? graph.Node("Add", $"{prefix}.residual", [y, x]) : y;
        }

        x = Silu(graph, BatchNormExporter.Export(graph, encoder.HeadNorm, ConvExporter.Export(graph, encoder.Head, x, $"{name}.head"), $"{name}.head_bn"), $"{name}.head_silu");
        var (features, embedding) = CnnAudioEncoderExporter.PoolFeatures(graph, x, name);
        var peak = graph.Node("ReduceMax", $"{name}.time_max", [features],
            OnnxGraphBuilder.Attribute("axes", [1L]), OnnxGraphBuilder.Attribute("keepdims", 0L));
        var pooled = graph.Node("Add", $"{name}.pooled", [embedding, peak]);
        var logits = LinearExporter.Export(graph, encoder.Classifier, pooled, $"{name}.classifier");
        var probabilities = graph.Node("Sigmoid", $"{name}.label_probs", [logits]);
        var memory = CnnAudioEncoderExporter.Memory(graph, encoder.Projection, encoder.ProjectionNorm, features, name);
        if (encoder.LabelProjection is { } labelProjection)
        {
            var labelFrame = LayerNormExporter.Export(graph, encoder.LabelNorm!,
                ActivationExporter.Relu(graph, LinearExporter.Export(graph, labelProjection, logits, $"{name}.label_projection"), $"{name}.label_relu"), $"{name}.label_frame");
            var frame = graph.Node("Unsqueeze", $"{name}.label_frame_unsqueeze", [labelFrame, graph.Int64s($"{name}.label_frame_axis", 1)]);
            memory = graph.Node("Concat", $"{name}.memory_with_labels", [memory, frame], OnnxGraphBuilder.Attribute("axis", 1L));
        }

        return (memory, embedding, probabilities);
    }

    private static string Silu(OnnxGraphBuilder graph, string input, string name) =>
        graph.Node("Mul", name, [input, graph.Node("Sigmoid", $"{name}.gate", [input])]);
}
