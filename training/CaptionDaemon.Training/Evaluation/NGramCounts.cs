namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// Counts of the 1..<see cref="MaxOrder"/>-grams of one tokenized caption, one dictionary per order. An n-gram is keyed
/// by its tokens joined with single spaces, which is unambiguous because tokens never contain whitespace.
/// </summary>
internal sealed class NGramCounts
{
    /// <summary>BLEU-4 and CIDEr-D both use n-grams up to 4.</summary>
    public const int MaxOrder = 4;

    private readonly Dictionary<string, int>[] _byOrder;

    public NGramCounts(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        Length = tokens.Count;
        _byOrder = new Dictionary<string, int>[MaxOrder];
        for (var order = 1; order <= MaxOrder; order++)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var start = 0; start + order <= tokens.Count; start++)
            {
                var key = order == 1 ? tokens[start] : string.Join(' ', tokens.Skip(start).Take(order));
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }

            _byOrder[order - 1] = counts;
        }
    }

    /// <summary>Number of tokens of the caption.</summary>
    public int Length { get; }

    /// <summary>The counts of the n-grams of <paramref name="order"/> (1..4).</summary>
    public IReadOnlyDictionary<string, int> Of(int order) => _byOrder[order - 1];
}
