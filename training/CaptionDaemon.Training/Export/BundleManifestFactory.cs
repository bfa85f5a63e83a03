using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Export;

/// <summary>Fills the shared <see cref="BundleManifest"/> from a model and the files already written to a bundle folder.</summary>
internal static class BundleManifestFactory
{
    /// <summary>The threshold of a label that no calibration chose one for.</summary>
    public const double DefaultLabelThreshold = 0.5;

    public static BundleManifest Create(
        CaptionModel model, IReadOnlyList<string> vocabulary, string bundleDirectory, string name, double windowSeconds, int maxCaptionTokens, JsonObject training,
        IReadOnlyDictionary<string, double>? labelThresholds = null, double? labelFusion = null)
    {
        var config = model.Config;
        var parameters = model.CountParameters();
        BundleGraph Graph(string file, string[] inputs, string[] outputs) => new()
        {
            File = file,
            Sha256 = BundleManifest.ComputeSha256(Path.Combine(bundleDirectory, file)),
            Inputs = inputs,
            Outputs = outputs,
        };

        return new BundleManifest
        {
            Format = BundleManifest.FormatId,
            FormatVersion = BundleManifest.CurrentFormatVersion,
            Name = name,
            Created = DateTimeOffset.UtcNow,
            SampleRate = config.SampleRate,
            WindowSeconds = windowSeconds,
            MaxCaptionTokens = maxCaptionTokens,
            Tokens = new BundleTokens
            {
                Pad = CaptionModel.PadToken,
                Start = CaptionModel.StartToken,
                End = CaptionModel.EndToken,
                Unk = CaptionModel.UnknownToken,
            },
            Architecture = new BundleArchitecture
            {
                DModel = config.DModel,
                DecoderLayers = config.DecoderLayers,
                Heads = config.Heads,
                HeadDim = config.HeadDim,
                VocabSize = config.VocabSize,
                EmbeddingDim = config.EmbeddingDim,
                MelBins = config.MelBins,
            },
            Graphs = new BundleGraphs
            {
                Encoder = Graph(CaptionGraphs.EncoderFile, CaptionGraphs.EncoderInputs, CaptionGraphs.EncoderOutputsOf(model)),
                CrossKv = Graph(CaptionGraphs.CrossKvFile, CaptionGraphs.CrossKvInputs, CaptionGraphs.CrossKvOutputs),
                DecoderStep = Graph(CaptionGraphs.DecoderStepFile, CaptionGraphs.DecoderStepInputs, CaptionGraphs.DecoderStepOutputs),
            },
            Vocab = new BundleFile
            {
                File = CaptionModel.VocabFileName,
                Sha256 = BundleManifest.ComputeSha256(Path.Combine(bundleDirectory, CaptionModel.VocabFileName)),
            },
            Labels = Labels(config.Labels, labelThresholds ?? new Dictionary<string, double>(), vocabulary, IncrementalTrainer.TaughtLabels(training)),
            Parameters = new BundleParameters { Encoder = parameters.Encoder, Decoder = parameters.Decoder, Total = parameters.Total },
            Training = training,
            LabelFusion = labelFusion,
        };
    }

    /// <summary>
    /// The manifest's labels in the encoder's column order, named for people by <c>categories.tsv</c>, each with the
    /// vocabulary words of its synonyms (function words left out) for label fusion; those an incremental update taught
    /// (<paramref name="taught"/>) gate their words (<see cref="BundleLabel.Gated"/>).
    /// </summary>
    private static BundleLabel[] Labels(IReadOnlyList<string> labels, IReadOnlyDictionary<string, double> thresholds, IReadOnlyList<string> vocabulary, IReadOnlySet<string> taught)
    {
        if (labels.Count == 0)
        {
            return [];
        }

        var names = CategoryNames.LoadBundled();
        var known = vocabulary.ToHashSet(StringComparer.Ordinal);
        return [.. labels.Select(label =>
        {
            var words = label == BundleLabel.Nothing ? null : Words(names.Find(label), label, known);
            return new BundleLabel
            {
                Name = label,
                Display = label == BundleLabel.Nothing ? "Nothing notable" : names.Find(label)?.Display ?? Capitalised(label),
                Threshold = thresholds.GetValueOrDefault(label, DefaultLabelThreshold),
                Words = words,
                Gated = words is not null && taught.Contains(label),
            };
        })];
    }

    /// <summary>
    /// The words that name a label in a caption: those of its synonyms (or of its own name, underscores read as spaces,
    /// when the table lacks it) that the vocabulary has, function words ("a", "in", "out", ...) left out; null when none.
    /// </summary>
    internal static IReadOnlyList<string>? Words(SoundCategory? category, string label, IReadOnlySet<string> vocabulary)
    {
        var phrases = category?.Synonyms.SelectMany(parts => parts) ?? [label.Split('_')];
        var words = phrases.SelectMany(phrase => phrase)
            .Where(w => vocabulary.Contains(w) && !EventMention.IsFunctionWord(w))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        return words.Count == 0 ? null : words;
    }

    private static string Capitalised(string label) =>
        string.Concat(char.ToUpperInvariant(label[0]).ToString(), label[1..].Replace('_', ' '));
}
