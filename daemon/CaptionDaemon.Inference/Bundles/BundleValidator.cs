using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace CaptionDaemon.Inference.Bundles;

/// <summary>Checks a bundle against its manifest and the contract; every failure is a <see cref="BundleException"/> naming the file.</summary>
internal static class BundleValidator
{
    public static readonly string[] SpecialTokens = ["<pad>", "<start>", "<end>", "<unk>"];

    /// <summary>Checks the values of a parsed manifest (sizes, ids, file names).</summary>
    public static void CheckManifest(BundleManifest m, string path)
    {
        if (string.IsNullOrWhiteSpace(m.Name))
        {
            Fail(path, "'name' is empty.");
        }

        Positive(path, "sample_rate", m.SampleRate);
        if (!double.IsFinite(m.WindowSeconds) || m.WindowSeconds <= 0)
        {
            Fail(path, $"'window_seconds' must be positive (is {m.WindowSeconds.ToString(CultureInfo.InvariantCulture)}).");
        }

        Positive(path, "max_caption_tokens", m.MaxCaptionTokens);
        var a = m.Architecture;
        Positive(path, "architecture.d_model", a.DModel);
        Positive(path, "architecture.decoder_layers", a.DecoderLayers);
        Positive(path, "architecture.heads", a.Heads);
        Positive(path, "architecture.head_dim", a.HeadDim);
        Positive(path, "architecture.vocab_size", a.VocabSize);
        Positive(path, "architecture.embedding_dim", a.EmbeddingDim);
        Positive(path, "architecture.mel_bins", a.MelBins);
        if (a.Heads * a.HeadDim != a.DModel)
        {
            Fail(path, $"architecture.heads ({a.Heads}) x head_dim ({a.HeadDim}) must equal d_model ({a.DModel}).");
        }

        int[] ids = [m.Tokens.Pad, m.Tokens.Start, m.Tokens.End, m.Tokens.Unk];
        string[] names = ["pad", "start", "end", "unk"];
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0 || ids[i] >= a.VocabSize)
            {
                Fail(path, $"tokens.{names[i]} = {ids[i]} is outside the vocabulary (architecture.vocab_size {a.VocabSize}).");
            }

            for (var j = 0; j < i; j++)
            {
                if (ids[i] == ids[j])
                {
                    Fail(path, $"tokens.{names[i]} and tokens.{names[j]} have the same id {ids[i]}.");
                }
            }
        }

        CheckLabels(m, path);
        CheckConfidence(m, path);
        CheckNames(path, "graphs.encoder", m.Graphs.Encoder, BundleContract.Encoder(m));
        CheckNames(path, "graphs.cross_kv", m.Graphs.CrossKv, BundleContract.CrossKv);
        CheckNames(path, "graphs.decoder_step", m.Graphs.DecoderStep, BundleContract.DecoderStep);
    }

    /// <summary>Reads a bundle file after checking its name stays in the folder and its SHA-256 matches the manifest.</summary>
    public static byte[] ReadVerified(string directory, string field, string fileName, string expectedSha256, string manifestPath)
    {
        if (string.IsNullOrWhiteSpace(fileName) || Path.GetFileName(fileName) != fileName)
        {
            Fail(manifestPath, $"{field}.file \"{fileName}\" must be a plain file name inside the bundle folder.");
        }

        var path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
        {
            Fail(path, $"missing ({field}.file in the manifest).");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BundleException($"{path}: cannot be read: {e.Message}", e);
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            Fail(path, $"sha256 mismatch: the manifest ({field}.sha256) says {expectedSha256}, the file is {actual}.");
        }

        return bytes;
    }

    /// <summary>Parses vocab.json and checks its size and special tokens against the manifest.</summary>
    public static string[] ParseVocabulary(byte[] json, string path, BundleManifest m)
    {
        BundleVocabFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, BundleJsonContext.Default.BundleVocabFile);
        }
        catch (JsonException e)
        {
            throw new BundleException($"{path}: invalid vocabulary: {e.Message}", e);
        }

        if (file is null)
        {
            Fail(path, "the vocabulary is null.");
        }

        var tokens = file.Tokens.ToArray();
        if (tokens.Length != m.Architecture.VocabSize)
        {
            Fail(path, $"vocabulary size mismatch: {tokens.Length} tokens, the manifest's architecture.vocab_size is {m.Architecture.VocabSize}.");
        }

        int[] ids = [m.Tokens.Pad, m.Tokens.Start, m.Tokens.End, m.Tokens.Unk];
        for (var i = 0; i < ids.Length; i++)
        {
            if (tokens[ids[i]] != SpecialTokens[i])
            {
                Fail(path, $"token {ids[i]} is \"{tokens[ids[i]]}\" but the manifest's special token id says {SpecialTokens[i]}.");
            }
        }

        return tokens;
    }

    /// <summary>Checks the inputs and outputs of a loaded graph against the contract (names, element types, ranks, fixed sizes).</summary>
    public static void CheckSession(InferenceSession session, GraphContract contract, BundleManifest m, string path)
    {
        CheckSide(path, "input", session.InputMetadata, contract.Inputs, m);
        CheckSide(path, "output", session.OutputMetadata, contract.Outputs, m);
    }

    private static void CheckSide(
        string path, string side, IReadOnlyDictionary<string, NodeMetadata> actual, TensorContract[] expected, BundleManifest m)
    {
        var missing = expected.Where(e => !actual.ContainsKey(e.Name)).Select(e => e.Name).ToArray();
        var unexpected = actual.Keys.Where(k => expected.All(e => e.Name != k)).Order(StringComparer.Ordinal).ToArray();
        if (missing.Length > 0 || unexpected.Length > 0)
        {
            // A graph and a manifest that disagree about labels is the likely mistake of a hand-edited bundle: say so.
            var labels = missing.Contains(BundleContract.LabelProbabilities, StringComparer.Ordinal)
                ? $" (the manifest lists {m.Labels.Count} labels, so the encoder must give '{BundleContract.LabelProbabilities}')"
                : unexpected.Contains(BundleContract.LabelProbabilities, StringComparer.Ordinal)
                    ? $" (the graph gives '{BundleContract.LabelProbabilities}' but the manifest lists no labels)"
                    : "";
            Fail(path, $"graph {side}s differ from the manifest and the contract: missing [{string.Join(", ", missing)}], "
                + $"unexpected [{string.Join(", ", unexpected)}]{labels}.");
        }

        foreach (var e in expected)
        {
            var meta = actual[e.Name];
            if (!meta.IsTensor || meta.ElementDataType != e.ElementType)
            {
                Fail(path, $"{side} '{e.Name}' is {Describe(meta)}, the contract says a {e.ElementType} tensor.");
            }

            var dims = meta.Dimensions;
            if (dims.Length != e.Rank)
            {
                Fail(path, $"{side} '{e.Name}' has rank {dims.Length} ({Shape(meta)}), the contract says rank {e.Rank}.");
            }

            for (var i = 0; i < dims.Length; i++)
            {
                var want = BundleContract.Size(e.Axes[i], m);
                if (want < 0 && dims[i] > 0)
                {
                    Fail(path, $"{side} '{e.Name}' fixes axis {i} to {dims[i]} ({Shape(meta)}); the contract makes it symbolic (batching needs it).");
                }

                if (want > 0 && dims[i] > 0 && dims[i] != want && e.Axes[i] == ContractAxis.Labels)
                {
                    Fail(path, $"{side} '{e.Name}' has {dims[i]} columns ({Shape(meta)}), the manifest lists {want} labels.");
                }

                if (want > 0 && dims[i] > 0 && dims[i] != want)
                {
                    Fail(path, $"{side} '{e.Name}' axis {i} is {dims[i]} ({Shape(meta)}), the manifest's architecture says {want} ({e.Axes[i]}).");
                }
            }
        }
    }

    private static string Describe(NodeMetadata meta) =>
        meta.IsTensor ? $"a {meta.ElementDataType} tensor" : $"a {meta.OnnxValueType}";

    private static string Shape(NodeMetadata meta) =>
        "[" + string.Join(",", meta.Dimensions.Select((d, i) =>
            d > 0 ? d.ToString(CultureInfo.InvariantCulture)
            : i < meta.SymbolicDimensions.Length && !string.IsNullOrEmpty(meta.SymbolicDimensions[i]) ? meta.SymbolicDimensions[i] : "?")) + "]";

    /// <summary>Checks the labels (unique non-empty names, non-empty display names, thresholds in (0, 1), words for a gated label), that the encoder lists <c>label_probs</c> exactly when there are labels, and that <c>label_fusion</c> is finite and not negative.</summary>
    private static void CheckLabels(BundleManifest m, string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < m.Labels.Count; i++)
        {
            var label = m.Labels[i];
            if (string.IsNullOrWhiteSpace(label.Name))
            {
                Fail(path, $"labels[{i}].name is empty.");
            }

            if (!names.Add(label.Name))
            {
                Fail(path, $"labels[{i}].name \"{label.Name}\" appears more than once.");
            }

            if (string.IsNullOrWhiteSpace(label.Display))
            {
                Fail(path, $"labels[{i}].display (label \"{label.Name}\") is empty.");
            }

            if (!(label.Threshold is > 0 and < 1))
            {
                Fail(path, $"labels[{i}].threshold (label \"{label.Name}\") must be in (0, 1) (is {label.Threshold.ToString(CultureInfo.InvariantCulture)}).");
            }

            if (label.Gated && (label.Words is not { Count: > 0 } || label.Name == BundleLabel.Nothing))
            {
                Fail(path, $"labels[{i}] (label \"{label.Name}\") is gated but has no words to gate.");
            }
        }

        var listed = m.Graphs.Encoder.Outputs.Contains(BundleContract.LabelProbabilities, StringComparer.Ordinal);
        if (m.Labels.Count > 0 && !listed)
        {
            Fail(path, $"the manifest lists {m.Labels.Count} labels but graphs.encoder.outputs [{string.Join(", ", m.Graphs.Encoder.Outputs)}] "
                + $"has no '{BundleContract.LabelProbabilities}'.");
        }

        if (m.Labels.Count == 0 && listed)
        {
            Fail(path, $"graphs.encoder.outputs lists '{BundleContract.LabelProbabilities}' but the manifest has no labels.");
        }

        if (m.LabelFusion is { } fusion && !(double.IsFinite(fusion) && fusion >= 0))
        {
            Fail(path, $"label_fusion must be a finite number, 0 or more (is {fusion.ToString(CultureInfo.InvariantCulture)}).");
        }
    }

    /// <summary>
    /// Checks the <c>confidence</c> block: the method is <c>logistic</c>; features are known, unique, computable from the
    /// bundle's labels and at least one; one finite weight per feature; a finite bias; <c>min_confidence</c> in [0, 1].
    /// </summary>
    private static void CheckConfidence(BundleManifest m, string path)
    {
        if (m.Confidence is not { } c)
        {
            return;
        }

        if (c.Method != BundleConfidence.Logistic)
        {
            Fail(path, $"confidence.method \"{c.Method}\" is not known (this library reads \"{BundleConfidence.Logistic}\").");
        }

        if (c.Features.Count == 0)
        {
            Fail(path, $"confidence.features is empty (give at least one of [{string.Join(", ", ConfidenceFeatures.All)}]).");
        }

        var available = ConfidenceFeatures.Available(m.Labels);
        for (var i = 0; i < c.Features.Count; i++)
        {
            var feature = c.Features[i];
            if (!ConfidenceFeatures.All.Contains(feature, StringComparer.Ordinal))
            {
                Fail(path, $"confidence.features[{i}] \"{feature}\" is not a feature (known: [{string.Join(", ", ConfidenceFeatures.All)}]).");
            }

            if (!available.Contains(feature, StringComparer.Ordinal))
            {
                var why = feature == ConfidenceFeatures.LabelNothing
                    ? $"the manifest has no label \"{BundleLabel.Nothing}\""
                    : $"the manifest has no label other than \"{BundleLabel.Nothing}\"";
                Fail(path, $"confidence.features[{i}] \"{feature}\" needs the encoder's label probabilities, but {why}.");
            }

            if (c.Features.Take(i).Contains(feature, StringComparer.Ordinal))
            {
                Fail(path, $"confidence.features[{i}] \"{feature}\" appears more than once.");
            }
        }

        if (c.Weights.Count != c.Features.Count)
        {
            Fail(path, $"confidence.weights has {c.Weights.Count} values for {c.Features.Count} features (one weight per feature).");
        }

        for (var i = 0; i < c.Weights.Count; i++)
        {
            if (!double.IsFinite(c.Weights[i]))
            {
                Fail(path, $"confidence.weights[{i}] (feature \"{c.Features[i]}\") must be finite.");
            }
        }

        if (!double.IsFinite(c.Bias))
        {
            Fail(path, "confidence.bias must be finite.");
        }

        if (c.MinConfidence is { } min && !(min is >= 0 and <= 1))
        {
            Fail(path, $"confidence.min_confidence must be in [0, 1] (is {min.ToString(CultureInfo.InvariantCulture)}).");
        }
    }

    private static void CheckNames(string path, string field, BundleGraph graph, GraphContract contract)
    {
        Same(path, $"{field}.inputs", graph.Inputs, contract.Inputs);
        Same(path, $"{field}.outputs", graph.Outputs, contract.Outputs);
    }

    private static void Same(string path, string field, IReadOnlyList<string> listed, TensorContract[] contract)
    {
        var want = contract.Select(c => c.Name).ToArray();
        if (listed.Count != want.Length || !listed.Order(StringComparer.Ordinal).SequenceEqual(want.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            Fail(path, $"{field} is [{string.Join(", ", listed)}], the contract says [{string.Join(", ", want)}].");
        }
    }

    private static void Positive(string path, string field, int value)
    {
        if (value <= 0)
        {
            Fail(path, $"'{field}' must be positive (is {value}).");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string path, string what) => throw new BundleException($"{path}: {what}");
}
