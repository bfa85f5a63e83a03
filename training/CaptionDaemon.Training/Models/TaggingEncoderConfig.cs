using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionDaemon.Training.Models;

/// <summary>One stage of <see cref="TaggingEncoder"/>: inverted-residual blocks of one width, the first of which may halve time and frequency.</summary>
internal sealed record TaggingStage(int Channels, int Blocks, int Expansion, bool Pool);

/// <summary>
/// Shape of a <see cref="TaggingEncoder"/>: the same log-mel front end as the caption model (<see cref="Frontend"/>), a
/// strided stem, stages of depthwise-separable inverted-residual blocks, a pointwise head, the decoder memory width and
/// the labels. The sizes were chosen by the <c>tagger</c> benchmark (Models/README.md, "Tagging encoder").
/// </summary>
internal sealed record TaggingEncoderConfig
{
    public string Size { get; init; } = "small";

    /// <summary>The front end's settings (sample rate, FFT, hop, mel bins); the caption model's defaults.</summary>
    public CaptionModelConfig Frontend { get; init; } = CaptionModelConfig.Student(vocabSize: 5);

    public int StemChannels { get; init; } = 16;

    public IReadOnlyList<TaggingStage> Stages { get; init; } = [];

    public int HeadChannels { get; init; } = 512;

    /// <summary>Width of the memory handed to the caption decoder.</summary>
    public int DModel { get; init; } = 256;

    public double Dropout { get; init; } = 0.2;

    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>
    /// Whether the memory ends with one more frame made from the label logits, so a caption decoder reads what the
    /// tagger recognised directly rather than only through the per-frame features. Off for a tagger alone; the caption
    /// model turns it on (<see cref="CaptionModelConfig.OnTagger"/>).
    /// </summary>
    public bool LabelMemory { get; init; }

    /// <summary>Memory frames per input frame: the stem halves time, every pooled stage halves it again.</summary>
    public int TimeStride => 2 << Stages.Count(s => s.Pool);

    /// <summary>Memory frames of a window of <paramref name="samples"/>: the front end's frames through the stem's and stages' halvings, and the label frame (<see cref="LabelMemory"/>).</summary>
    public int MemoryFrames(int samples)
    {
        var frames = ((samples - Frontend.NFft) / Frontend.Hop) + 1;
        frames = (frames + 1) / 2;                                    // stem: stride 2, padding 1, kernel 3
        return Stages.Where(s => s.Pool).Aggregate(frames, (t, _) => t / 2) + (LabelMemory ? 1 : 0);
    }

    public static IReadOnlyList<string> Sizes { get; } = ["small", "medium", "large"];

    /// <summary>A named size: small (about 1 M parameters), medium (about 3 M), large (about 6 M); see Models/README.md.</summary>
    /// <exception cref="ArgumentException">Unknown size.</exception>
    public static TaggingEncoderConfig Named(string size, IReadOnlyList<string> labels) => size switch
    {
        "small" => new()
        {
            Size = size,
            Labels = labels,
            StemChannels = 16,
            Stages = [new(24, 2, 4, true), new(48, 2, 4, true), new(96, 3, 4, true), new(160, 2, 4, false)],
            HeadChannels = 512,
        },
        "medium" => new()
        {
            Size = size,
            Labels = labels,
            StemChannels = 24,
            Stages = [new(32, 2, 4, true), new(64, 3, 4, true), new(128, 3, 4, true), new(256, 3, 4, false)],
            HeadChannels = 768,
        },
        "large" => new()
        {
            Size = size,
            Labels = labels,
            StemChannels = 32,
            Stages = [new(48, 2, 4, true), new(96, 3, 4, true), new(192, 4, 4, true), new(320, 4, 4, false)],
            HeadChannels = 1024,
        },
        _ => throw new ArgumentException($"Unknown tagging encoder size '{size}'; known: {string.Join(", ", Sizes)}.", nameof(size)),
    };

    /// <exception cref="ArgumentException">A field is out of range; the message names it.</exception>
    public void Validate()
    {
        Frontend.Validate();
        if (Stages.Count == 0 || Stages.Any(s => s.Channels < 1 || s.Blocks < 1 || s.Expansion < 1))
        {
            throw new ArgumentException("A tagging encoder needs at least one stage, each with positive channels, blocks and expansion.");
        }

        if (Labels.Count == 0 || Labels.Distinct(StringComparer.Ordinal).Count() != Labels.Count)
        {
            throw new ArgumentException("A tagging encoder needs at least one label, each once.");
        }

        if (StemChannels < 1 || HeadChannels < 1 || DModel < 1 || Dropout is < 0 or >= 1)
        {
            throw new ArgumentException("StemChannels, HeadChannels and DModel must be positive and Dropout in [0, 1).");
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <exception cref="InvalidDataException">Not a tagging encoder configuration.</exception>
    public static TaggingEncoderConfig FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<TaggingEncoderConfig>(json, s_json) ?? throw new InvalidDataException("The tagging encoder configuration is null.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Not a tagging encoder configuration ({ex.Message}).", ex);
        }
    }

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
