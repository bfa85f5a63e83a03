using CaptionDaemon.Inference.Bundles;

namespace CaptionDaemon.Inference.Labels;

/// <summary>
/// Picks a window's labels from the encoder's probabilities: every label at or above its threshold except
/// <see cref="BundleLabel.Nothing"/>, highest probability first (ties in manifest order).
/// </summary>
internal sealed class LabelSelector
{
    private readonly string[] _names;
    private readonly string[] _displays;
    private readonly double[] _thresholds;
    private readonly int _nothing;

    public LabelSelector(IReadOnlyList<BundleLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        _names = [.. labels.Select(l => l.Name)];
        _displays = [.. labels.Select(l => l.Display)];
        _thresholds = [.. labels.Select(l => l.Threshold)];
        _nothing = Array.IndexOf(_names, BundleLabel.Nothing);
    }

    /// <summary>Number of labels (columns of <c>label_probs</c>).</summary>
    public int Count => _names.Length;

    /// <summary>The labels of one window; the shared empty list when none passes (no allocation).</summary>
    /// <param name="probabilities">The window's row of <c>label_probs</c>, <see cref="Count"/> values.</param>
    public IReadOnlyList<LabelScore> Select(ReadOnlySpan<float> probabilities)
    {
        if (probabilities.Length != _names.Length)
        {
            throw new ArgumentException($"Expected {_names.Length} label probabilities, got {probabilities.Length}.", nameof(probabilities));
        }

        var count = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            if (Passes(i, probabilities[i]))
            {
                count++;
            }
        }

        if (count == 0)
        {
            return [];
        }

        // Insertion by score into an array of exactly the passing labels: a handful per window.
        var selected = new LabelScore[count];
        var n = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = probabilities[i];
            if (!Passes(i, p))
            {
                continue;
            }

            var j = n++;
            while (j > 0 && selected[j - 1].Score < p)
            {
                selected[j] = selected[j - 1];
                j--;
            }

            selected[j] = new LabelScore(_names[i], _displays[i], p);
        }

        return selected;
    }

    /// <summary>
    /// Whether a label is reported at this probability: at or above its threshold, and not <see cref="BundleLabel.Nothing"/>.
    /// NaN never passes: a broken graph reports no labels rather than every label.
    /// </summary>
    public bool Passes(int label, float probability) => label != _nothing && probability >= _thresholds[label];
}
