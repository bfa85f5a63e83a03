using CaptionDaemon.Training.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Benchmarks.Inference;

/// <summary>
/// Decoding as the first paper's public demo does it: one clip at a time, TorchSharp eager, and at every step the
/// decoder re-runs over the whole prefix (no key/value cache). Beam search keeps <c>beam</c> prefixes and re-runs
/// them together. This is the baseline the ONNX Runtime path is compared against, on the same weights.
/// </summary>
internal static class PaperStyleDecoder
{
    /// <summary>Captions one window; returns the number of decoder steps taken.</summary>
    public static int Caption(CaptionModel model, float[] window, int beam, int maxTokens)
    {
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (memory, _) = model.Encode(tensor(window).unsqueeze(0));
        var hypotheses = new List<(List<long> Tokens, double Score)> { ([CaptionModel.StartToken], 0.0) };
        var finished = new List<(List<long> Tokens, double Score)>();
        var steps = Math.Min(maxTokens, model.Config.MaxTokens);
        var step = 0;
        for (; step < steps && hypotheses.Count > 0; step++)
        {
            using var stepScope = NewDisposeScope();
            var prefix = stack(hypotheses.Select(h => tensor(h.Tokens.ToArray())).ToArray(), 0);
            var logits = model.Decoder.forward(prefix, memory.expand(hypotheses.Count, -1, -1));
            var logProbs = functional.log_softmax(logits[.., -1, ..], -1).data<float>().ToArray();
            var vocab = (int)model.Config.VocabSize;
            var candidates = new List<(List<long> Tokens, double Score)>();
            for (var h = 0; h < hypotheses.Count; h++)
            {
                foreach (var token in TopK(logProbs.AsSpan(h * vocab, vocab), beam))
                {
                    candidates.Add(([.. hypotheses[h].Tokens, token], hypotheses[h].Score + logProbs[(h * vocab) + token]));
                }
            }

            hypotheses = [];
            foreach (var candidate in candidates.OrderByDescending(c => c.Score).Take(beam))
            {
                (candidate.Tokens[^1] == CaptionModel.EndToken ? finished : hypotheses).Add(candidate);
            }

            if (finished.Count >= beam)
            {
                break;
            }
        }

        return step;
    }

    private static int[] TopK(ReadOnlySpan<float> values, int k)
    {
        var best = new int[k];
        var count = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var position = count;
            while (position > 0 && values[best[position - 1]] < values[i])
            {
                position--;
            }

            if (position >= k)
            {
                continue;
            }

            for (var j = Math.Min(count, k - 1); j > position; j--)
            {
                best[j] = best[j - 1];
            }

            best[position] = i;
            count = Math.Min(count + 1, k);
        }

        return best[..count];
    }
}
