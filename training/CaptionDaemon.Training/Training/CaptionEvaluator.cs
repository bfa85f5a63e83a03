using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training;

/// <summary>Greedy captions of a <see cref="ClipSet"/> (start-cropped windows, of audio or cached log-mel) and their metrics against the clips' references.</summary>
internal static class CaptionEvaluator
{
    /// <summary>Captions every clip, <paramref name="batchSize"/> windows at a time, and scores them.</summary>
    public static (CaptionScores Scores, string[] Captions) Evaluate(
        CaptionModel model, ClipSet clips, Vocabulary vocabulary, int windowSamples, int batchSize, int maxTokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var captions = new string[clips.Count];
        var frames = clips.Frontend?.FramesOf(windowSamples) ?? 0;
        var window = clips.Frontend is { } frontend ? frontend.MelBins * frames : windowSamples;
        var buffer = new float[batchSize * window];
        for (var first = 0; first < clips.Count; first += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(batchSize, clips.Count - first);
            for (var i = 0; i < count; i++)
            {
                if (clips.HasFeatures)
                {
                    clips.CopyLogMelWindow(first + i, windowSamples, buffer.AsSpan(i * window, window), random: null);
                }
                else
                {
                    clips.CopyWindow(first + i, buffer.AsSpan(i * window, window), random: null);
                }
            }

            using var scope = NewDisposeScope();
            var ids = clips.Frontend is { } cached
                ? model.GreedyDecodeLogMel(tensor(buffer.AsSpan(0, count * window).ToArray(), [count, cached.MelBins, frames]), maxTokens)
                : model.GreedyDecode(tensor(buffer.AsSpan(0, count * window).ToArray(), [count, windowSamples]), maxTokens);
            for (var i = 0; i < count; i++)
            {
                captions[first + i] = vocabulary.Decode(ids[i]);
            }
        }

        var references = clips.Clips.Select(c => c.Captions).ToArray();
        return (CaptionMetrics.Compute(captions, references), captions);
    }
}
