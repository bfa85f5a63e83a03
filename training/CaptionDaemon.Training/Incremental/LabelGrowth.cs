using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Calibration;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tagging;
using CaptionDaemon.Training.Training;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Incremental;

/// <summary>How a new label's classifier row was fitted.</summary>
/// <param name="Label">The new label (the category's name).</param>
/// <param name="Positives">Windows of clips with an event of the category.</param>
/// <param name="Negatives">Other windows: the other clips of the update, the rehearsal clips, clips of the base's data and quiet windows.</param>
/// <param name="TrainingRecall">Share of the positives the fitted row gives at least 0.5.</param>
/// <param name="TrainingFalseAlarms">Share of the negatives the fitted row gives at least 0.5.</param>
internal sealed record LabelFit(string Label, int Positives, int Negatives, double TrainingRecall, double TrainingFalseAlarms);

/// <summary>
/// Grows a tagging encoder's labels with the categories an update teaches. Without this the tagger has no label for
/// the new sound: the bundle's labels, label fusion, Home Assistant events and the calibrated confidence (whose main
/// feature is the top label probability) never see it, and a daemon at the carried minimum confidence published 7 of
/// the 27 demo mixes whose caption named the new sound. A new label is a new row of the classifier, fitted before the
/// caption update by an L2-penalised logistic regression on the classifier's input (the mean + max pooled head
/// features) of the first window of each clip: those with an event of the category are positives; the other new
/// clips, the rehearsal clips, clips of the base's data and generated quiet windows are negatives. The update keeps the
/// tagging encoder frozen, so the row stays true to the features it was fitted on. Old rows and every other weight are
/// copied unchanged. The label frame of the decoder memory gets a zero column for each new label, which the caption
/// update then trains with the other memory layers.
/// </summary>
internal static class LabelGrowth
{
    /// <summary>
    /// The L2 penalty of a new row's fit, on standardised features (about 500 windows in 512 dimensions). Chosen on the
    /// vacuum/kettle demo (Incremental/README.md) among 3, 10, 30 and 100: of the 30 other mixes of the two sounds, the
    /// new label was reported at 0.5 in 26, 24, 20 and 14, and on the base's 300 test scenes none fired at 0.5 (at 0.25:
    /// 5, 3, 3 and 1). A new label's threshold is therefore 0.5, not the base's fitted ones (mostly 0.25).
    /// </summary>
    public const double DefaultPenalty = 3.0;

    /// <summary>Generated quiet windows added to the negatives (Tagging/QuietWindows.cs, without background recordings).</summary>
    public const int QuietNegatives = 24;

    /// <summary>The categories of <paramref name="categories"/> that are not among <paramref name="labels"/>, in ordinal order.</summary>
    public static IReadOnlyList<string> NewLabels(IReadOnlyList<string> labels, IEnumerable<string> categories)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(categories);
        var known = labels.ToHashSet(StringComparer.Ordinal);
        return [.. categories.Where(c => c.Length > 0 && c != BundleLabel.Nothing && !known.Contains(c)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// A copy of <paramref name="model"/> (which must have a tagging encoder) whose tagger has
    /// <paramref name="newLabels"/> after its labels: new classifier rows with weight 0 and a bias of logit(0.001) until
    /// <see cref="Fit"/> fits them, and zero label-frame columns for them; every other weight copied.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no tagging encoder, or a new label is one it has.</exception>
    public static CaptionModel Widen(CaptionModel model, IReadOnlyList<string> newLabels)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(newLabels);
        var tagger = model.Config.Tagger ?? throw new ArgumentException("Only a model with a tagging encoder has labels to grow.", nameof(model));
        var old = tagger.Labels.Count;
        if (NewLabels(tagger.Labels, newLabels).Count != newLabels.Count)
        {
            throw new ArgumentException($"The new labels ({string.Join(", ", newLabels)}) must be distinct categories the tagger lacks.", nameof(newLabels));
        }

        var widened = new CaptionModel(model.Config with { Tagger = tagger with { Labels = [.. tagger.Labels, .. newLabels] } });
        try
        {
            using var noGrad = no_grad();
            ModelGrowth.CopyWeights(model, widened);
            var encoder = widened.Tagger!;
            encoder.Classifier.weight!.narrow(0, old, newLabels.Count).zero_();
            encoder.Classifier.bias!.narrow(0, old, newLabels.Count).fill_(Math.Log(0.001 / 0.999));
            encoder.LabelProjection?.weight!.narrow(1, old, newLabels.Count).zero_();
            widened.train(model.training);
            return widened;
        }
        catch
        {
            widened.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fits the classifier rows of <paramref name="newLabels"/> (the last rows of <paramref name="model"/>'s tagger) on the
    /// first window of each clip of <paramref name="clips"/> and <see cref="QuietNegatives"/> quiet windows; a clip is a
    /// positive of a label when its set's <c>CategoriesOf</c> names the category.
    /// </summary>
    /// <exception cref="TrainingException">A new label has no positive window.</exception>
    public static IReadOnlyList<LabelFit> Fit(
        CaptionModel model,
        IReadOnlyList<string> newLabels,
        IReadOnlyList<(ClipSet Set, Func<int, IReadOnlyCollection<string>> CategoriesOf)> clips,
        int windowSamples,
        int seed,
        double penalty = DefaultPenalty,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(newLabels);
        ArgumentNullException.ThrowIfNull(clips);
        var encoder = model.Tagger ?? throw new ArgumentException("Only a model with a tagging encoder has labels to fit.", nameof(model));
        var labels = encoder.Config.Labels;
        var first = labels.Count - newLabels.Count;
        if (first < 0 || !labels.Skip(first).SequenceEqual(newLabels, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The tagger's last labels are not {string.Join(", ", newLabels)}.", nameof(newLabels));
        }

        // Every clip's first window, then the quiet windows, each drawn from one generator in order.
        var sources = clips.SelectMany(c => Enumerable.Range(0, c.Set.Count).Select(i => (c.Set, Index: i, Categories: c.CategoriesOf(i)))).ToArray();
        var categories = sources.Select(s => s.Categories).Concat(Enumerable.Repeat<IReadOnlyCollection<string>>([], QuietNegatives)).ToArray();
        var quiet = new QuietWindows([], model.Config.SampleRate);
        var rng = new Random(seed);
        var raw = WindowFeatures.Compute(
            model,
            categories.Length,
            windowSamples,
            (i, window) =>
            {
                if (i < sources.Length)
                {
                    sources[i].Set.CopyWindow(sources[i].Index, window, random: null);
                }
                else
                {
                    quiet.Fill(window, rng);
                }
            },
            audio => model.EncodeWithLabelLogits(audio, logMel: false).ClassifierInput,
            cancellationToken);

        // Standardised per dimension over the fit's windows, so the penalty means the same whatever the features' scale.
        var (mean, scale) = Standardisation(raw);
        var features = raw.Select(x => x.Select((v, d) => scale[d] == 0 ? 0 : (v - mean[d]) / scale[d]).ToArray()).ToArray();
        var fits = new List<LabelFit>(newLabels.Count);
        using var noGrad = no_grad();
        for (var l = 0; l < newLabels.Count; l++)
        {
            var label = newLabels[l];
            var targets = categories.Select(c => c.Contains(label, StringComparer.Ordinal)).ToArray();
            var positives = targets.Count(t => t);
            if (positives == 0)
            {
                throw new TrainingException($"The new label '{label}' has no clip to learn it from.");
            }

            // Every new label has the quiet windows as negatives, so the fit always has both outcomes.
            var fit = LogisticRegression.Fit(features, targets, penalty);

            // The row on the raw classifier input: w / scale, and the bias less the means' share.
            var weights = fit.Weights.Select((w, d) => scale[d] == 0 ? 0 : w / scale[d]).ToArray();
            var bias = fit.Bias - weights.Select((w, d) => w * mean[d]).Sum();
            encoder.Classifier.weight![first + l].copy_(tensor(weights.Select(w => (float)w).ToArray()));
            encoder.Classifier.bias![first + l].fill_(bias);
            var reported = features.Select(f => Probability(f, fit) >= 0.5).ToArray();
            fits.Add(new LabelFit(
                label,
                positives,
                targets.Length - positives,
                (double)targets.Zip(reported).Count(p => p.First && p.Second) / positives,
                (double)targets.Zip(reported).Count(p => !p.First && p.Second) / (targets.Length - positives)));
        }

        return fits;
    }

    /// <summary>Per dimension the mean and the standard deviation (0 where the dimension is constant) of <paramref name="rows"/>.</summary>
    private static (double[] Mean, double[] Scale) Standardisation(IReadOnlyList<float[]> rows)
    {
        var width = rows[0].Length;
        var mean = new double[width];
        var scale = new double[width];
        for (var d = 0; d < width; d++)
        {
            var m = rows.Average(r => (double)r[d]);
            var sd = Math.Sqrt(rows.Average(r => (r[d] - m) * (r[d] - m)));
            mean[d] = m;
            scale[d] = sd > 1e-9 * Math.Max(1, Math.Abs(m)) ? sd : 0;
        }

        return (mean, scale);
    }

    private static double Probability(double[] x, LogisticFit fit)
    {
        var z = fit.Bias;
        for (var i = 0; i < x.Length; i++)
        {
            z += fit.Weights[i] * x[i];
        }

        return 1 / (1 + Math.Exp(-z));
    }
}
