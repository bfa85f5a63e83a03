using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionDaemon.Inference.Bundles;

/// <summary>What one axis of a contract tensor must be: a symbolic (batch-like) axis or a size from the architecture.</summary>
internal enum ContractAxis
{
    Symbolic,
    Layers,
    Heads,
    HeadDim,
    DModel,
    Vocab,
    Embedding,
    Labels,
}

internal sealed record TensorContract(string Name, TensorElementType ElementType, ContractAxis[] Axes)
{
    public int Rank => Axes.Length;
}

internal sealed record GraphContract(string Key, TensorContract[] Inputs, TensorContract[] Outputs);

/// <summary>The graphs of docs/captioning-core.md, section "Bundle": names, element types and axes of every input and output.</summary>
internal static class BundleContract
{
    private const TensorElementType F32 = TensorElementType.Float;
    private const TensorElementType I64 = TensorElementType.Int64;

    private static readonly ContractAxis[] KeyValueAxes =
        [ContractAxis.Layers, ContractAxis.Symbolic, ContractAxis.Heads, ContractAxis.Symbolic, ContractAxis.HeadDim];

    private static readonly ContractAxis[] MemoryAxes = [ContractAxis.Symbolic, ContractAxis.Symbolic, ContractAxis.DModel];

    /// <summary>The encoder's output of per-label probabilities, present exactly when the manifest lists labels.</summary>
    public const string LabelProbabilities = "label_probs";

    private static readonly TensorContract Audio = new("audio", F32, [ContractAxis.Symbolic, ContractAxis.Symbolic]);
    private static readonly TensorContract Memory = new("memory", F32, MemoryAxes);
    private static readonly TensorContract Embedding = new("embedding", F32, [ContractAxis.Symbolic, ContractAxis.Embedding]);

    private static readonly GraphContract EncoderWithoutLabels = new("encoder", [Audio], [Memory, Embedding]);

    private static readonly GraphContract EncoderWithLabels = new(
        "encoder", [Audio], [Memory, Embedding, new(LabelProbabilities, F32, [ContractAxis.Symbolic, ContractAxis.Labels])]);

    /// <summary>The encoder of <paramref name="m"/>: with <c>label_probs</c> <c>[batch, labels]</c> when the manifest lists labels.</summary>
    public static GraphContract Encoder(BundleManifest m) => m.Labels.Count > 0 ? EncoderWithLabels : EncoderWithoutLabels;

    public static GraphContract CrossKv { get; } = new(
        "cross_kv",
        [new("memory", F32, MemoryAxes)],
        [new("cross_k", F32, KeyValueAxes), new("cross_v", F32, KeyValueAxes)]);

    public static GraphContract DecoderStep { get; } = new(
        "decoder_step",
        [
            new("tokens", I64, [ContractAxis.Symbolic]),
            new("beam_index", I64, [ContractAxis.Symbolic]),
            new("past_k", F32, KeyValueAxes),
            new("past_v", F32, KeyValueAxes),
            new("cross_k", F32, KeyValueAxes),
            new("cross_v", F32, KeyValueAxes),
        ],
        [
            new("logprobs", F32, [ContractAxis.Symbolic, ContractAxis.Vocab]),
            new("present_k", F32, KeyValueAxes),
            new("present_v", F32, KeyValueAxes),
        ]);

    public static int Size(ContractAxis axis, BundleManifest m)
    {
        var a = m.Architecture;
        return axis switch
        {
            ContractAxis.Layers => a.DecoderLayers,
            ContractAxis.Heads => a.Heads,
            ContractAxis.HeadDim => a.HeadDim,
            ContractAxis.DModel => a.DModel,
            ContractAxis.Vocab => a.VocabSize,
            ContractAxis.Embedding => a.EmbeddingDim,
            ContractAxis.Labels => m.Labels.Count,
            _ => -1,
        };
    }
}
