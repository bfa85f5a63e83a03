using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Decoding;

namespace CaptionDaemon.Inference.Labels;

/// <summary>
/// The gate of <see cref="BundleLabel.Gated"/> labels: a word that a gated label lists, and no ungated label does, can
/// enter a caption only in a window that reports (<see cref="LabelSelector.Passes"/>) a gated label listing it; in every
/// other window its log-probability is negative infinity. An incremental update's decoder learns a new sound's words
/// from a few dozen clips and says them over sounds that merely resemble it, while the update's label for the sound is
/// fitted against hundreds of other clips; the gate makes the caption follow the label (Incremental/README.md in the
/// trainer measures both).
/// </summary>
/// <remarks>Buffers are sized once per batch size, so a step allocates nothing.</remarks>
internal sealed class LabelGate
{
    private readonly LabelSelector _selector;

    // The gated tokens, and for each the gated labels that list it.
    private readonly int[] _tokens;
    private readonly int[][] _labelsOf;

    // Per window w: whether gated token k may be said, at _open[w * _tokens.Length + k].
    private bool[] _open = [];

    /// <param name="labels">The bundle's labels.</param>
    /// <param name="wordTokens">Their words' token ids (<see cref="LabelFusion.WordTokens"/>).</param>
    /// <param name="selector">Which labels a window reports.</param>
    public LabelGate(IReadOnlyList<BundleLabel> labels, int[][] wordTokens, LabelSelector selector)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(wordTokens);
        _selector = selector;
        var ungated = labels.Select((l, i) => (l, i)).Where(x => !x.l.Gated).SelectMany(x => wordTokens[x.i]).ToHashSet();
        var gated = labels.Select((l, i) => (l, i)).Where(x => x.l.Gated)
            .SelectMany(x => wordTokens[x.i].Where(t => !ungated.Contains(t)).Select(t => (Token: t, Label: x.i)))
            .GroupBy(x => x.Token)
            .OrderBy(g => g.Key)
            .ToArray();
        _tokens = [.. gated.Select(g => g.Key)];
        _labelsOf = [.. gated.Select(g => g.Select(x => x.Label).ToArray())];
    }

    /// <summary>Whether any word is gated.</summary>
    public bool Active => _tokens.Length > 0;

    /// <summary>The gated tokens, in ascending order.</summary>
    internal IReadOnlyList<int> Tokens => _tokens;

    /// <summary>Works out each window's open words from its label probabilities ([count, labels], row-major).</summary>
    public void Prepare(ReadOnlySpan<float> probabilities, int count)
    {
        var labels = _selector.Count;
        if (_open.Length < count * _tokens.Length)
        {
            _open = new bool[count * _tokens.Length];
        }

        for (var w = 0; w < count; w++)
        {
            var row = probabilities.Slice(w * labels, labels);
            for (var k = 0; k < _tokens.Length; k++)
            {
                var open = false;
                foreach (var l in _labelsOf[k])
                {
                    open |= _selector.Passes(l, row[l]);
                }

                _open[(w * _tokens.Length) + k] = open;
            }
        }
    }

    /// <summary>Closes the gated words of step's log-probabilities ([search.Rows, vocab]) in rows whose window does not report their label.</summary>
    public void Apply(Span<float> logprobs, int vocab, BeamSearch search)
    {
        for (var r = 0; r < search.Rows; r++)
        {
            var first = search.WindowOf(r) * _tokens.Length;
            var lp = logprobs.Slice(r * vocab, vocab);
            for (var k = 0; k < _tokens.Length; k++)
            {
                if (!_open[first + k])
                {
                    lp[_tokens[k]] = float.NegativeInfinity;
                }
            }
        }
    }
}
