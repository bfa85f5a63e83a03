using CaptionDaemon.Training.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Incremental;

/// <summary>One vector per window from a model in evaluation mode, a batch at a time: only one batch of audio is held.</summary>
internal static class WindowFeatures
{
    private const int BatchSize = 16;

    /// <param name="model">The model; put in evaluation mode for the call, then back.</param>
    /// <param name="count">Windows to compute.</param>
    /// <param name="windowSamples">Samples per window.</param>
    /// <param name="fill">Writes window i (called once per window, in ascending order) into the cleared span.</param>
    /// <param name="output">The vectors <c>[B, D]</c> of a batch of audio <c>[B, S]</c>.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static float[][] Compute(
        CaptionModel model, int count, int windowSamples, Action<int, Span<float>> fill, Func<Tensor, Tensor> output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(fill);
        ArgumentNullException.ThrowIfNull(output);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var result = new float[count][];
            var buffer = new float[BatchSize * windowSamples];
            for (var first = 0; first < count; first += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = Math.Min(BatchSize, count - first);
                Array.Clear(buffer);
                for (var i = 0; i < batch; i++)
                {
                    fill(first + i, buffer.AsSpan(i * windowSamples, windowSamples));
                }

                using var scope = NewDisposeScope();
                var values = output(tensor(buffer.AsSpan(0, batch * windowSamples).ToArray(), [batch, windowSamples])).data<float>().ToArray();
                var dim = values.Length / batch;
                for (var i = 0; i < batch; i++)
                {
                    result[first + i] = values.AsSpan(i * dim, dim).ToArray();
                }
            }

            return result;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
