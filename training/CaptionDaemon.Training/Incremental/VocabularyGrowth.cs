using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Incremental;

/// <summary>
/// Grows a model's word vocabulary for a new task without moving any old id: new words go after the old ones, so the
/// old model's captions, token distributions and the memory's targets stay valid in the new model's ids. The decoder's
/// token embedding (which is also its output layer) gets new rows; every other weight is copied unchanged.
/// </summary>
internal static class VocabularyGrowth
{
    /// <summary>
    /// <paramref name="vocabulary"/> followed by the words of <paramref name="captions"/> that it lacks and that occur at
    /// least <paramref name="minCount"/> times, in <see cref="Vocabulary.Build"/>'s order (descending count, then ordinal).
    /// </summary>
    public static (Vocabulary Vocabulary, IReadOnlyList<string> NewWords) Grow(Vocabulary vocabulary, IEnumerable<string> captions, int minCount)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        var known = vocabulary.Tokens.ToHashSet(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var caption in captions)
        {
            foreach (var word in CaptionText.Tokenize(caption))
            {
                if (!known.Contains(word))
                {
                    counts[word] = counts.GetValueOrDefault(word) + 1;
                }
            }
        }

        var newWords = counts
            .Where(pair => pair.Value >= minCount)
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => pair.Key)
            .ToArray();
        return newWords.Length == 0 ? (vocabulary, newWords) : (Vocabulary.FromTokens([.. vocabulary.Tokens, .. newWords]), newWords);
    }

    /// <summary>
    /// A copy of <paramref name="model"/> with a vocabulary of <paramref name="vocabSize"/> tokens: the old token rows and
    /// all other weights and BatchNorm statistics copied, the new rows initialised as a fresh decoder initialises them
    /// (from libtorch's generator). For the old tokens the logits are therefore unchanged; their probabilities change
    /// only by the new tokens' share of the softmax.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="vocabSize"/> is smaller than the model's vocabulary.</exception>
    public static CaptionModel Widen(CaptionModel model, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        var oldSize = model.Config.VocabSize;
        if (vocabSize < oldSize)
        {
            throw new ArgumentException($"A vocabulary can only grow: {vocabSize} < {oldSize} tokens.", nameof(vocabSize));
        }

        var widened = new CaptionModel(model.Config with { VocabSize = vocabSize });
        try
        {
            // The tied token embedding / output layer: old rows in place, new rows as initialised.
            ModelGrowth.CopyWeights(model, widened);
            widened.train(model.training);
            return widened;
        }
        catch
        {
            widened.Dispose();
            throw;
        }
    }
}
