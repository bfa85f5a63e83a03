using CaptionDaemon.Training.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Incremental;

/// <summary>Copies a model's weights into a grown copy of it (a larger vocabulary, more labels).</summary>
internal static class ModelGrowth
{
    /// <summary>
    /// Copies every parameter and buffer of <paramref name="source"/> into <paramref name="target"/>: tensors of equal
    /// shape whole, grown ones (same rank, no dimension smaller) into their leading block, so old rows and columns keep
    /// their place and the new ones keep whatever <paramref name="target"/> holds there.
    /// </summary>
    /// <exception cref="InvalidOperationException">A tensor shrank, changed rank, or is missing from <paramref name="target"/>.</exception>
    public static void CopyWeights(CaptionModel source, CaptionModel target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        using var noGrad = no_grad();
        var destinations = target.state_dict();
        foreach (var (name, tensor) in source.state_dict())
        {
            if (!destinations.TryGetValue(name, out var destination)
                || destination.shape.Length != tensor.shape.Length
                || destination.shape.Zip(tensor.shape).Any(d => d.First < d.Second))
            {
                throw new InvalidOperationException(
                    $"{name} has shape [{string.Join(", ", tensor.shape)}] in the model and {(destination is null ? "is missing" : $"[{string.Join(", ", destination.shape)}]")} after growing.");
            }

            var block = destination;
            for (var d = 0; d < tensor.shape.Length; d++)
            {
                block = block.narrow(d, 0, tensor.shape[d]);
            }

            block.copy_(tensor);
        }
    }
}
