using CaptionDaemon.Training.Export.Layers;
using CaptionDaemon.Training.Export.Onnx;
using CaptionDaemon.Training.Models;
using DataType = CaptionDaemon.Training.Export.Onnx.TensorProto.Types.DataType;

namespace CaptionDaemon.Training.Export;

/// <summary>
/// The three graphs of a caption bundle (docs/captioning-core.md, "Bundle"), with exactly the contract's input and
/// output names and symbolic dimensions. The model must be in evaluation mode: BatchNorm running statistics are
/// exported and dropout is left out.
/// </summary>
internal static class CaptionGraphs
{
    public const string EncoderFile = "encoder.onnx";
    public const string CrossKvFile = "cross_kv.onnx";
    public const string DecoderStepFile = "decoder_step.onnx";

    public static readonly string[] EncoderInputs = ["audio"];
    public static readonly string[] EncoderOutputs = ["memory", "embedding"];

    /// <summary>The encoder's outputs when the model has labels (a tagging encoder): per-label probabilities as well.</summary>
    public static readonly string[] LabelledEncoderOutputs = ["memory", "embedding", "label_probs"];

    /// <summary>The encoder outputs that <paramref name="model"/>'s graph has.</summary>
    public static string[] EncoderOutputsOf(CaptionModel model) => model.Tagger is null ? EncoderOutputs : LabelledEncoderOutputs;
    public static readonly string[] CrossKvInputs = ["memory"];
    public static readonly string[] CrossKvOutputs = ["cross_k", "cross_v"];
    public static readonly string[] DecoderStepInputs = ["tokens", "beam_index", "past_k", "past_v", "cross_k", "cross_v"];
    public static readonly string[] DecoderStepOutputs = ["logprobs", "present_k", "present_v"];

    /// <summary>Symbolic size of the present cache's time axis (past + 1).</summary>
    public const string PresentDim = "past_plus_1";

    /// <summary>
    /// <c>audio</c> <c>[batch, samples]</c> to <c>memory</c> <c>[batch, frames, d_model]</c> and <c>embedding</c>
    /// <c>[batch, embedding_dim]</c>; a tagging encoder also gives <c>label_probs</c> <c>[batch, labels]</c>.
    /// </summary>
    public static ModelProto Encoder(CaptionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        var graph = new OnnxGraphBuilder();
        var audio = graph.Input("audio", DataType.Float, "batch", "samples");
        var image = LogMelFrontendExporter.Export(graph, model.Frontend, audio, "frontend");
        string memory, embedding;
        if (model.Tagger is { } tagger)
        {
            (memory, embedding, var probabilities) = TaggingEncoderExporter.Export(graph, tagger, image, "encoder");
            graph.Output("memory", memory, DataType.Float, "batch", "frames", config.DModel);
            graph.Output("embedding", embedding, DataType.Float, "batch", config.EmbeddingDim);
            graph.Output("label_probs", probabilities, DataType.Float, "batch", config.Labels.Count);
        }
        else
        {
            (memory, embedding) = CnnAudioEncoderExporter.Export(graph, model.Encoder!, image, "encoder");
            graph.Output("memory", memory, DataType.Float, "batch", "frames", config.DModel);
            graph.Output("embedding", embedding, DataType.Float, "batch", config.EmbeddingDim);
        }

        return graph.Build("captiond_encoder", "Waveform (16 kHz mono, [-1, 1]) to encoder memory and pooled audio embedding.");
    }

    /// <summary><c>memory</c> <c>[hyps, frames, d_model]</c> to <c>cross_k</c>, <c>cross_v</c> <c>[layers, hyps, heads, frames, head_dim]</c>.</summary>
    public static ModelProto CrossKv(CaptionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        var graph = new OnnxGraphBuilder();
        var memory = graph.Input("memory", DataType.Float, "hyps", "frames", config.DModel);
        var keys = new List<string>();
        var values = new List<string>();
        var axis0 = graph.Int64s("axis0", 0);
        for (var i = 0; i < config.DecoderLayers; i++)
        {
            var attention = model.Decoder.Layers[i].CrossAttention;
            var k = AttentionExporter.SequenceHeads(graph, attention, attention.Key, memory, $"layer{i}.cross.k");
            var v = AttentionExporter.SequenceHeads(graph, attention, attention.Value, memory, $"layer{i}.cross.v");
            keys.Add(graph.Node("Unsqueeze", $"layer{i}.cross.k_layer", [k, axis0]));
            values.Add(graph.Node("Unsqueeze", $"layer{i}.cross.v_layer", [v, axis0]));
        }

        OnnxDim[] dims = [config.DecoderLayers, "hyps", config.Heads, "frames", config.HeadDim];
        graph.Output("cross_k", graph.Node("Concat", "cross_k_all", keys, OnnxGraphBuilder.Attribute("axis", 0L)), DataType.Float, dims);
        graph.Output("cross_v", graph.Node("Concat", "cross_v_all", values, OnnxGraphBuilder.Attribute("axis", 0L)), DataType.Float, dims);
        return graph.Build("captiond_cross_kv", "Encoder memory to the cross-attention keys and values of every decoder layer.");
    }

    /// <summary>
    /// One decoder step for N hypotheses: <c>past_*</c> rows are first reordered by <c>beam_index</c> (axis 1), then each
    /// layer appends this step's key/value; the position is the past length, read with Shape; output log-softmax.
    /// </summary>
    public static ModelProto DecoderStep(CaptionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        var decoder = model.Decoder;
        var graph = new OnnxGraphBuilder();
        OnnxDim[] pastDims = [config.DecoderLayers, "hyps", config.Heads, "past", config.HeadDim];
        OnnxDim[] crossDims = [config.DecoderLayers, "hyps", config.Heads, "frames", config.HeadDim];
        var tokens = graph.Input("tokens", DataType.Int64, "hyps");
        var beamIndex = graph.Input("beam_index", DataType.Int64, "hyps");
        var pastKeys = graph.Input("past_k", DataType.Float, pastDims);
        var pastValues = graph.Input("past_v", DataType.Float, pastDims);
        var crossKeys = graph.Input("cross_k", DataType.Float, crossDims);
        var crossValues = graph.Input("cross_v", DataType.Float, crossDims);

        var axis1 = OnnxGraphBuilder.Attribute("axis", 1L);
        var reorderedKeys = graph.Node("Gather", "past_k_beams", [pastKeys, beamIndex], axis1);
        var reorderedValues = graph.Node("Gather", "past_v_beams", [pastValues, beamIndex], axis1);

        // Position = past length: Shape(past_k)[3:4] is a 1-element int64 tensor, so the gathered position row is [1, d].
        var position = graph.Node("Shape", "position", [pastKeys], OnnxGraphBuilder.Attribute("start", 3L), OnnxGraphBuilder.Attribute("end", 4L));
        var (tokenRows, tokenTable) = EmbeddingExporter.Export(graph, decoder.TokenEmbedding, tokens, "token_embedding");
        var (positionRow, _) = EmbeddingExporter.Export(graph, decoder.PositionEmbedding, position, "position_embedding");
        var scaledTokens = graph.Node("Mul", "token_embedding.scaled", [tokenRows, graph.FloatScalar("embedding_scale", (float)decoder.EmbeddingScale)]);
        var x = graph.Node("Add", "embedded", [scaledTokens, positionRow]);

        var presentKeys = new List<string>();
        var presentValues = new List<string>();
        var axis0 = graph.Int64s("axis0", 0);
        for (var i = 0; i < config.DecoderLayers; i++)
        {
            var layerIndex = graph.Int64Scalar($"layer{i}.index", i);
            string Layer(string source, string what) => graph.Node("Gather", $"layer{i}.{what}", [source, layerIndex], OnnxGraphBuilder.Attribute("axis", 0L));
            (x, var k, var v) = DecoderLayerExporter.Step(graph, decoder.Layers[i], x,
                Layer(reorderedKeys, "past_k"), Layer(reorderedValues, "past_v"), Layer(crossKeys, "cross_k"), Layer(crossValues, "cross_v"), $"layer{i}");
            presentKeys.Add(graph.Node("Unsqueeze", $"layer{i}.present_k_layer", [k, axis0]));
            presentValues.Add(graph.Node("Unsqueeze", $"layer{i}.present_v_layer", [v, axis0]));
        }

        var normed = LayerNormExporter.Export(graph, decoder.FinalNorm, x, "final_norm");
        // Output tied to the token embedding: logits = x E^T, Gemm with transB reuses the embedding initialiser.
        var logits = graph.Node("Gemm", "logits", [normed, tokenTable], OnnxGraphBuilder.Attribute("transB", 1L));
        var logProbs = graph.Node("LogSoftmax", "log_softmax", [logits], OnnxGraphBuilder.Attribute("axis", -1L));

        OnnxDim[] presentDims = [config.DecoderLayers, "hyps", config.Heads, PresentDim, config.HeadDim];
        graph.Output("logprobs", logProbs, DataType.Float, "hyps", config.VocabSize);
        graph.Output("present_k", graph.Node("Concat", "present_k_all", presentKeys, OnnxGraphBuilder.Attribute("axis", 0L)), DataType.Float, presentDims);
        graph.Output("present_v", graph.Node("Concat", "present_v_all", presentValues, OnnxGraphBuilder.Attribute("axis", 0L)), DataType.Float, presentDims);
        return graph.Build("captiond_decoder_step", "One greedy/beam decoder step with key/value cache; past reordered by beam_index.");
    }
}
