using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace CaptionDaemon.Inference.Bundles;

/// <summary>
/// The <c>manifest.json</c> of a caption bundle: the one type that the trainer's exporter writes and the
/// inference library reads (see docs/captioning-core.md, section "Bundle"). Serialised as snake_case JSON.
/// </summary>
public sealed record BundleManifest
{
    /// <summary>The value of <see cref="Format"/> for caption bundles.</summary>
    public const string FormatId = "captiond-bundle";

    /// <summary>The <see cref="FormatVersion"/> this library writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The manifest's file name inside a bundle folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Format id; always <see cref="FormatId"/>.</summary>
    public required string Format { get; init; }

    /// <summary>Version of the bundle format; this library reads <see cref="CurrentFormatVersion"/>.</summary>
    public required int FormatVersion { get; init; }

    /// <summary>Model name, e.g. <c>student-scenes-v1</c>.</summary>
    public required string Name { get; init; }

    /// <summary>When the bundle was exported.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>Sample rate of the audio the encoder expects (Hz).</summary>
    public required int SampleRate { get; init; }

    /// <summary>Length of one audio window in seconds.</summary>
    public required double WindowSeconds { get; init; }

    /// <summary>Maximum number of tokens a caption may have, <c>&lt;end&gt;</c> included.</summary>
    public required int MaxCaptionTokens { get; init; }

    /// <summary>Ids of the special tokens.</summary>
    public required BundleTokens Tokens { get; init; }

    /// <summary>Sizes of the model, used to check the graphs and to size the decoder's buffers.</summary>
    public required BundleArchitecture Architecture { get; init; }

    /// <summary>The ONNX graphs of the bundle.</summary>
    public required BundleGraphs Graphs { get; init; }

    /// <summary>The vocabulary file (<c>{"tokens": [...]}</c>, index = id).</summary>
    public required BundleFile Vocab { get; init; }

    /// <summary>Parameter counts.</summary>
    public required BundleParameters Parameters { get; init; }

    /// <summary>Training summary (data, method, metrics, lineage); an open object that the trainer extends.</summary>
    public required JsonObject Training { get; init; }

    /// <summary>
    /// The labels whose probabilities the encoder gives (its <c>label_probs</c> output, column i = label i); empty for a
    /// bundle without labels. Written only when there are labels, so a bundle without them keeps its manifest.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<BundleLabel> Labels { get; init; } = [];

    /// <summary><see cref="Labels"/> as JSON: omitted when empty, absent or null read as empty.</summary>
    [JsonInclude]
    [JsonPropertyName("labels")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    internal IReadOnlyList<BundleLabel>? LabelsJson
    {
        get => Labels.Count == 0 ? null : Labels;
        init => Labels = value ?? [];
    }

    /// <summary>
    /// How a caption's confidence is computed (a calibration fitted by <c>captiond-train calibrate</c>) and the
    /// <c>Captions:MinConfidence</c> it recommends; null (the block absent) for an uncalibrated bundle, whose confidence
    /// is the sequence confidence. Written only when present.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BundleConfidence? Confidence { get; init; }

    /// <summary>
    /// Default weight of label fusion (<see cref="DecodeOptions.LabelFusion"/>): while a caption is searched, each word of
    /// a label the encoder reports (<see cref="BundleLabel.Words"/>) gets weight x the label's probability added to its
    /// log-probability, so the caption tends to name what the tagger hears. Null or absent: 0 (off). Not negative.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LabelFusion { get; init; }

    /// <summary>Number of samples in one window (<see cref="SampleRate"/> x <see cref="WindowSeconds"/>).</summary>
    [JsonIgnore]
    public int WindowSamples => checked((int)Math.Round(SampleRate * WindowSeconds));

    /// <summary>Reads and parses a manifest file.</summary>
    /// <exception cref="BundleException">The file is missing, is not JSON, is not a caption bundle manifest of a
    /// supported version, or lacks a field; the message names the file and the problem.</exception>
    public static BundleManifest Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BundleException($"{path}: cannot read the manifest: {e.Message}", e);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses manifest JSON; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="BundleException">The JSON is not a caption bundle manifest of a supported version or lacks a field.</exception>
    public static BundleManifest Parse(ReadOnlySpan<byte> utf8Json, string source)
    {
        ArgumentNullException.ThrowIfNull(source);

        // Editors on some systems write a UTF-8 byte order mark; JSON parsing of raw bytes does not skip it.
        if (utf8Json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            utf8Json = utf8Json[3..];
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new BundleException($"{source}: not valid JSON: {e.Message}", e);
        }

        if (node is not JsonObject root)
        {
            throw new BundleException($"{source}: the manifest must be a JSON object.");
        }

        // Format and version first: a manifest of another format or version may legitimately lack our fields.
        if (!root.TryGetPropertyValue("format", out var format) || format is null)
        {
            throw new BundleException($"{source}: missing field 'format' (expected \"{FormatId}\").");
        }

        if (format.GetValueKind() != JsonValueKind.String || format.GetValue<string>() != FormatId)
        {
            throw new BundleException($"{source}: unknown format {format.ToJsonString()} (expected \"{FormatId}\").");
        }

        if (!root.TryGetPropertyValue("format_version", out var version) || version is null)
        {
            throw new BundleException($"{source}: missing field 'format_version'.");
        }

        if (version.GetValueKind() != JsonValueKind.Number || !version.AsValue().TryGetValue<int>(out var v) || v != CurrentFormatVersion)
        {
            throw new BundleException(
                $"{source}: unsupported format_version {version.ToJsonString()} (this library reads version {CurrentFormatVersion}).");
        }

        try
        {
            return root.Deserialize(BundleJsonContext.Default.BundleManifest)
                ?? throw new BundleException($"{source}: the manifest is null.");
        }
        catch (JsonException e)
        {
            // System.Text.Json names the missing required properties or the path of the bad value.
            throw new BundleException($"{source}: invalid manifest: {e.Message}", e);
        }
    }

    /// <summary>Serialises the manifest as indented snake_case JSON (UTF-8).</summary>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, BundleJsonContext.Default.BundleManifest);

    /// <summary>
    /// Writes the manifest to <paramref name="path"/> (usually <c>&lt;bundle&gt;/manifest.json</c>) through a sibling
    /// temporary file moved into place, so that a daemon watching the bundle never reads half a manifest.
    /// </summary>
    public void Write(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var staging = path + ".writing";
        File.WriteAllBytes(staging, ToUtf8Json());
        File.Move(staging, path, overwrite: true);
    }

    /// <summary>The SHA-256 of a file as lower-case hex, as the manifest records it.</summary>
    public static string ComputeSha256(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

/// <summary>Ids of the special tokens.</summary>
public sealed record BundleTokens
{
    /// <summary>Padding token id (0).</summary>
    public required int Pad { get; init; }

    /// <summary>Start-of-caption token id (1), the first decoder input.</summary>
    public required int Start { get; init; }

    /// <summary>End-of-caption token id (2).</summary>
    public required int End { get; init; }

    /// <summary>Unknown-word token id (3).</summary>
    public required int Unk { get; init; }
}

/// <summary>Sizes of the model.</summary>
public sealed record BundleArchitecture
{
    /// <summary>Width of the encoder memory and of the decoder.</summary>
    public required int DModel { get; init; }

    /// <summary>Number of decoder layers (first axis of the key/value tensors).</summary>
    public required int DecoderLayers { get; init; }

    /// <summary>Attention heads per layer.</summary>
    public required int Heads { get; init; }

    /// <summary>Size of one head (<see cref="DModel"/> / <see cref="Heads"/>).</summary>
    public required int HeadDim { get; init; }

    /// <summary>Vocabulary size (rows of the decoder's log-probabilities).</summary>
    public required int VocabSize { get; init; }

    /// <summary>Size of the pooled audio embedding output by the encoder.</summary>
    public required int EmbeddingDim { get; init; }

    /// <summary>Number of mel bins of the front end.</summary>
    public required int MelBins { get; init; }
}

/// <summary>The three ONNX graphs of a bundle.</summary>
public sealed record BundleGraphs
{
    /// <summary>Waveform to encoder memory and pooled embedding.</summary>
    public required BundleGraph Encoder { get; init; }

    /// <summary>Encoder memory to the cross-attention keys and values of every decoder layer.</summary>
    public required BundleGraph CrossKv { get; init; }

    /// <summary>One decoder step with past keys/values in and present keys/values out.</summary>
    public required BundleGraph DecoderStep { get; init; }
}

/// <summary>A file of the bundle with its checksum.</summary>
public sealed record BundleFile
{
    /// <summary>File name relative to the bundle folder.</summary>
    public required string File { get; init; }

    /// <summary>SHA-256 of the file, lower-case hex (see <see cref="BundleManifest.ComputeSha256"/>).</summary>
    public required string Sha256 { get; init; }
}

/// <summary>An ONNX graph of the bundle: file, checksum and the names of its inputs and outputs.</summary>
public sealed record BundleGraph
{
    /// <summary>File name relative to the bundle folder.</summary>
    public required string File { get; init; }

    /// <summary>SHA-256 of the file, lower-case hex (see <see cref="BundleManifest.ComputeSha256"/>).</summary>
    public required string Sha256 { get; init; }

    /// <summary>Input names in graph order.</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>Output names in graph order.</summary>
    public required IReadOnlyList<string> Outputs { get; init; }
}

/// <summary>
/// A label of the encoder: <c>{"name": "dog", "display": "Dog", "threshold": 0.5}</c>. A caption reports the labels whose
/// probability is at least their threshold, except <see cref="Nothing"/>.
/// </summary>
public sealed record BundleLabel
{
    /// <summary>The name of the label that means "nothing notable" (quiet or background only); never reported as a caption's label.</summary>
    public const string Nothing = "nothing";

    /// <summary>Machine name, unique in the bundle, e.g. <c>dog</c>; what captions and MQTT payloads carry.</summary>
    public required string Name { get; init; }

    /// <summary>Name for people, e.g. <c>Dog</c>.</summary>
    public required string Display { get; init; }

    /// <summary>Default decision threshold on the label's probability, in (0, 1).</summary>
    public required double Threshold { get; init; }

    /// <summary>
    /// Vocabulary words that name the label in a caption (e.g. <c>dog</c>, <c>barks</c>), for label fusion (see
    /// <see cref="BundleManifest.LabelFusion"/>); null or absent: none. Every word must be in the bundle's vocabulary.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Words { get; init; }

    /// <summary>
    /// Whether the label gates its words: a caption may say one of its <see cref="Words"/> (those no ungated label
    /// lists) only in a window that reports it. An incremental update sets it on the labels it taught, whose words the
    /// decoder learnt from a few dozen clips and would otherwise say over sounds that merely resemble them; absent: false.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Gated { get; init; }
}

/// <summary>Parameter counts of the exported model.</summary>
public sealed record BundleParameters
{
    /// <summary>Parameters of the encoder (front end included).</summary>
    public required long Encoder { get; init; }

    /// <summary>Parameters of the decoder.</summary>
    public required long Decoder { get; init; }

    /// <summary>All parameters.</summary>
    public required long Total { get; init; }
}
