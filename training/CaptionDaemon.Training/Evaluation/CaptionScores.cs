using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// Corpus-level caption metrics as fractions (pycocoevalcap conventions; CIDEr-D is on its usual 0..10 scale).
/// JSON keys <c>bleu_1 bleu_2 bleu_3 bleu_4 rouge_l cider_d</c> (docs/captioning-core.md, "Metrics").
/// </summary>
internal sealed record CaptionScores(
    [property: JsonPropertyName("bleu_1")] double Bleu1,
    [property: JsonPropertyName("bleu_2")] double Bleu2,
    [property: JsonPropertyName("bleu_3")] double Bleu3,
    [property: JsonPropertyName("bleu_4")] double Bleu4,
    [property: JsonPropertyName("rouge_l")] double RougeL,
    [property: JsonPropertyName("cider_d")] double CiderD)
{
    public string ToJson(bool indented = false) =>
        JsonSerializer.Serialize(this, indented ? _indented : JsonSerializerOptions.Default);

    private static readonly JsonSerializerOptions _indented = new() { WriteIndented = true };
}
