using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Decoding;

namespace CaptionDaemon.Inference.Labels;

/// <summary>
/// Label fusion: biases the caption search towards words that name what the encoder's tagger hears. For every window,
/// each label the window reports (<see cref="LabelSelector.Passes"/>, the rule of the caption's labels) gives its words a bonus of
/// weight x probability in log-probability at every step until the hypothesis has one of them (a label is named once,
/// not repeated); a word of several such labels takes the largest bonus.
/// The decoder alone often hears an instrument or an animal as another of its kind; the tagger, trained for exactly
/// that, is more often right, and the bonus lets the decoder pick the tagger's word where it was in two minds.
/// </summary>
/// <remarks>Buffers are sized once per batch size, so a step allocates nothing.</remarks>
internal sealed class LabelFusion : ITokenBonus
{
    private readonly int[][] _labelTokens;
    private readonly LabelSelector _selector;

    // Most distinct words a row can get a bonus on: every label's words.
    private readonly int _words;

    // Per window w: its labels _label[_start[w] .. _start[w + 1]) with their bonuses _bonus[...].
    private int[] _start = [0];
    private int[] _label = [];
    private float[] _bonus = [];

    // The last Apply's bonuses per row r: _rowToken/_rowBonus[r * _words .. r * _words + _rowCount[r]).
    private int[] _rowCount = [];
    private int[] _rowToken = [];
    private float[] _rowBonus = [];

    /// <summary>Fusion over a bundle's labels (as its selector reports them), with the token ids of their words from <see cref="WordTokens"/>.</summary>
    public LabelFusion(int[][] wordTokens, LabelSelector selector)
    {
        _labelTokens = wordTokens;
        _selector = selector;
        _words = wordTokens.Sum(t => t.Length);
    }

    /// <summary>The token ids of each label's words (<see cref="BundleLabel.Words"/>) in the vocabulary.</summary>
    /// <exception cref="BundleException">A label's word is not in the vocabulary; the message names the manifest, label and word.</exception>
    public static int[][] WordTokens(IReadOnlyList<BundleLabel> labels, IReadOnlyList<string> vocabulary, string manifestPath)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < vocabulary.Count; i++)
        {
            ids.TryAdd(vocabulary[i], i);
        }

        var tokens = new int[labels.Count][];
        for (var l = 0; l < labels.Count; l++)
        {
            var words = labels[l].Words ?? [];
            tokens[l] = new int[words.Count];
            for (var k = 0; k < words.Count; k++)
            {
                if (!ids.TryGetValue(words[k], out tokens[l][k]))
                {
                    throw new BundleException($"{manifestPath}: labels[{l}].words (label \"{labels[l].Name}\") has \"{words[k]}\", which is not in the vocabulary.");
                }
            }
        }

        return tokens;
    }

    /// <summary>Works out each window's labels and bonuses from its label probabilities ([count, labels], row-major).</summary>
    public void Prepare(ReadOnlySpan<float> probabilities, int count, double weight)
    {
        var labels = _labelTokens.Length;
        if (_start.Length < count + 1)
        {
            _start = new int[count + 1];
        }

        if (_label.Length < count * labels)
        {
            _label = new int[count * labels];
            _bonus = new float[count * labels];
        }

        var n = 0;
        for (var w = 0; w < count; w++)
        {
            _start[w] = n;
            var row = probabilities.Slice(w * labels, labels);
            for (var l = 0; l < labels; l++)
            {
                var p = row[l];
                if (_labelTokens[l].Length > 0 && _selector.Passes(l, p))
                {
                    _label[n] = l;
                    _bonus[n] = (float)(weight * p);
                    n++;
                }
            }
        }

        _start[count] = n;
    }

    /// <summary>
    /// Adds the bonuses to step <paramref name="step"/>'s log-probabilities ([search.Rows, vocab]): each row gets those of
    /// its window's labels that none of its tokens so far names (a label is named once, not repeated); a word of several
    /// such labels gets the largest of their bonuses.
    /// </summary>
    public void Apply(Span<float> logprobs, int vocab, int step, BeamSearch search)
    {
        var rows = search.Rows;
        if (_rowCount.Length < rows)
        {
            _rowCount = new int[rows];
            _rowToken = new int[rows * _words];
            _rowBonus = new float[rows * _words];
        }

        for (var r = 0; r < rows; r++)
        {
            var w = search.WindowOf(r);
            var history = search.History(r, step);
            var first = r * _words;
            var n = first;
            for (var i = _start[w]; i < _start[w + 1]; i++)
            {
                var words = _labelTokens[_label[i]];
                if (!Named(history, words))
                {
                    foreach (var token in words)
                    {
                        AddOrRaise(first, ref n, token, _bonus[i]);
                    }
                }
            }

            _rowCount[r] = n - first;
            var lp = logprobs.Slice(r * vocab, vocab);
            for (var i = first; i < n; i++)
            {
                lp[_rowToken[i]] += _rowBonus[i];
            }
        }
    }

    /// <inheritdoc/>
    public float Bonus(int row, int token)
    {
        var first = row * _words;
        for (var i = first; i < first + _rowCount[row]; i++)
        {
            if (_rowToken[i] == token)
            {
                return _rowBonus[i];
            }
        }

        return 0;
    }

    private static bool Named(ReadOnlySpan<int> history, int[] words)
    {
        foreach (var token in words)
        {
            if (history.Contains(token))
            {
                return true;
            }
        }

        return false;
    }

    private void AddOrRaise(int first, ref int n, int token, float bonus)
    {
        for (var i = first; i < n; i++)
        {
            if (_rowToken[i] == token)
            {
                _rowBonus[i] = Math.Max(_rowBonus[i], bonus);
                return;
            }
        }

        _rowToken[n] = token;
        _rowBonus[n] = bonus;
        n++;
    }
}
