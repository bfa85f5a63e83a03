using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// Sizes of a captioning model (docs/captioning-core.md, "Model"). Teacher and student share one code path and
/// differ only here. Serialised as snake_case JSON into a checkpoint's <c>config.json</c>.
/// </summary>
internal sealed record CaptionModelConfig
{
    public int SampleRate { get; init; } = 16000;

    /// <summary>DFT size of the front end (samples per frame).</summary>
    public int NFft { get; init; } = 512;

    /// <summary>Frame hop of the front end (samples).</summary>
    public int Hop { get; init; } = 160;

    public int MelBins { get; init; } = 64;

    public double FMin { get; init; }

    public double FMax { get; init; } = 8000;

    /// <summary>
    /// The tagging encoder that replaces the CNN of <see cref="EncoderChannels"/> (Models/README.md, "Tagging encoder");
    /// null: the CNN. Its front end and memory width must be this configuration's.
    /// </summary>
    public TaggingEncoderConfig? Tagger { get; init; }

    /// <summary>The labels whose probabilities the encoder gives (the tagger's); empty for the CNN.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Labels => Tagger?.Labels ?? [];

    /// <summary>Output channels of each CNN block; each block halves time and frequency.</summary>
    public IReadOnlyList<int> EncoderChannels { get; init; } = [16, 32, 64, 128];

    public int ConvsPerBlock { get; init; } = 1;

    public int DModel { get; init; } = 256;

    public int DecoderLayers { get; init; } = 2;

    public int Heads { get; init; } = 4;

    public int FeedForward { get; init; } = 1024;

    public double Dropout { get; init; } = 0.2;

    public required int VocabSize { get; init; }

    /// <summary>Size of the positional table; captions are at most <c>MaxTokens - 1</c> tokens including &lt;end&gt;.</summary>
    public int MaxTokens { get; init; } = 32;

    /// <summary>Number of DFT bins kept by the front end (<c>NFft / 2 + 1</c>).</summary>
    [JsonIgnore]
    public int FrequencyBins => (NFft / 2) + 1;

    [JsonIgnore]
    public int HeadDim => DModel / Heads;

    /// <summary>Size of the pooled audio embedding: the channels of the last CNN block, or the tagger's head.</summary>
    [JsonIgnore]
    public int EmbeddingDim => Tagger?.HeadChannels ?? EncoderChannels[^1];

    /// <summary>The paper's student (Xu et al. 2024): small CNN, 2-layer decoder, d 256, 4 heads, FFN 1024.</summary>
    public static CaptionModelConfig Student(int vocabSize) => new() { VocabSize = vocabSize };

    /// <summary>
    /// The teacher: same code path, a CNN twice as wide (32-64-128-256) and a 6-layer d-1024 decoder with 16 heads and
    /// FFN 4096 (102 M parameters). Decoding cost grows with layers x d² per step, while teacher-forced training is cheap
    /// next to the CNN, so this teacher is about 30x slower than the student per 10 s clip (beam 3, 1 thread) but only
    /// about 3x as costly per training step (Distillation/README.md, "Teacher"): the KD reproduction fits in its budget.
    /// </summary>
    public static CaptionModelConfig Teacher(int vocabSize) => new()
    {
        VocabSize = vocabSize,
        EncoderChannels = [32, 64, 128, 256],
        ConvsPerBlock = 1,
        DModel = 1024,
        DecoderLayers = 6,
        Heads = 16,
        FeedForward = 4096,
    };

    /// <summary>The student's decoder on <paramref name="tagger"/>'s encoder: front end and memory width follow the tagger.</summary>
    public static CaptionModelConfig OnTagger(TaggingEncoderConfig tagger, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(tagger);
        var f = tagger.Frontend;
        return Student(vocabSize) with
        {
            Tagger = tagger with { LabelMemory = true },
            SampleRate = f.SampleRate,
            NFft = f.NFft,
            Hop = f.Hop,
            MelBins = f.MelBins,
            FMin = f.FMin,
            FMax = f.FMax,
            DModel = tagger.DModel,
        };
    }

    /// <summary>Number of encoder frames for <paramref name="samples"/> input samples.</summary>
    public int EncoderFrames(int samples)
    {
        if (Tagger is not null)
        {
            return Tagger.MemoryFrames(samples);
        }

        var frames = ((samples - NFft) / Hop) + 1;
        for (var i = 0; i < EncoderChannels.Count; i++)
        {
            frames /= 2;
        }

        return frames;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException($"Invalid model configuration: {message}");
            }
        }

        Require(SampleRate > 0, "sample_rate must be positive");
        Require(NFft >= 2 && NFft % 2 == 0, "n_fft must be even and at least 2");
        Require(Hop > 0, "hop must be positive");
        Require(MelBins > 0, "mel_bins must be positive");
        Require(FMin >= 0 && FMax > FMin && FMax <= SampleRate / 2.0, "need 0 <= f_min < f_max <= sample_rate / 2");
        Require(EncoderChannels is { Count: > 0 } && EncoderChannels.All(c => c > 0), "encoder_channels must be a non-empty list of positive sizes");
        Require(ConvsPerBlock > 0, "convs_per_block must be positive");
        Require(MelBins >> EncoderChannels.Count > 0, $"mel_bins {MelBins} is too small for {EncoderChannels.Count} pooling blocks");
        Require(DModel > 0 && Heads > 0 && DModel % Heads == 0, "d_model must be a positive multiple of heads");
        Require(DecoderLayers > 0, "decoder_layers must be positive");
        Require(FeedForward > 0, "feed_forward must be positive");
        Require(Dropout is >= 0 and < 1, "dropout must be in [0, 1)");
        Require(VocabSize > 4, "vocab_size must exceed the 4 special tokens");
        Require(MaxTokens >= 2, "max_tokens must be at least 2");
        if (Tagger is { } tagger)
        {
            tagger.Validate();
            var f = tagger.Frontend;
            Require(tagger.DModel == DModel, $"the tagger's memory width {tagger.DModel} differs from d_model {DModel}");
            Require(
                f.SampleRate == SampleRate && f.NFft == NFft && f.Hop == Hop && f.MelBins == MelBins && f.FMin == FMin && f.FMax == FMax,
                "the tagger's front end (sample rate, FFT, hop, mel bins, band) differs from the model's");
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, _jsonOptions);

    public static CaptionModelConfig FromJson(string json)
    {
        var config = JsonSerializer.Deserialize<CaptionModelConfig>(json, _jsonOptions)
            ?? throw new ArgumentException("The model configuration JSON is null.");
        config.Validate();
        return config;
    }

    private static readonly JsonSerializerOptions _jsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };
}
