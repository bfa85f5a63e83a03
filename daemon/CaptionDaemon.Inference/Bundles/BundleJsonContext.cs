using System.Text.Json.Serialization;

namespace CaptionDaemon.Inference.Bundles;

/// <summary>Source-generated JSON for the bundle files: snake_case, nulls refused where the type says non-null.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(BundleManifest))]
[JsonSerializable(typeof(BundleLabel))]
[JsonSerializable(typeof(BundleConfidence))]
[JsonSerializable(typeof(BundleVocabFile))]
internal sealed partial class BundleJsonContext : JsonSerializerContext;

/// <summary>The shape of <c>vocab.json</c>: <c>{"tokens": ["&lt;pad&gt;", "&lt;start&gt;", ...]}</c>, index = id.</summary>
internal sealed record BundleVocabFile
{
    public required IReadOnlyList<string> Tokens { get; init; }
}
