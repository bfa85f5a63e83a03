using System.Text.Json;
using System.Text.Json.Serialization;
using CaptionDaemon.Training.Evaluation;

namespace CaptionDaemon.Training.Training;

/// <summary>One epoch of a run: its mean training loss and the validation metrics of greedy captions.</summary>
internal sealed record EpochRecord(int Epoch, double TrainLoss, double LearningRate, double TrainSeconds, double ValidationSeconds, CaptionScores Validation);

/// <summary>
/// Where a run stopped inside an epoch (<see cref="TrainOptions.CheckpointInterval"/>): the steps of <see cref="Epoch"/>
/// already applied and the running loss, loss terms (<see cref="StepOutcome.Terms"/>, null when the run has none) and time
/// of that epoch, so <c>--resume</c> continues with the next step.
/// </summary>
internal sealed record PartialEpoch(int Epoch, int Steps, double LossSum, int AppliedSteps, double TrainSeconds, double[]? TermSums = null);

/// <summary>
/// <c>training.json</c> of a checkpoint folder: what was trained on what, how, and how well. The exporter copies it into
/// the bundle manifest's <c>training</c> section; <c>last/training.json</c> is also the state that <c>--resume</c>
/// continues from (epochs and steps done, best score; the random streams are derived from the seed, the epoch and the step).
/// </summary>
internal sealed record TrainingRecord
{
    public const string FileName = "training.json";

    /// <summary>The record's size name for a run with an explicit <see cref="TrainOptions.ModelConfig"/>.</summary>
    public const string CustomSize = "custom";

    /// <summary>A new run's record with what its <see cref="TrainOptions"/> say; the trainer adds its own fields with <c>with</c>.</summary>
    public static TrainingRecord Begin(TrainOptions options, string dataDirectory, int vocabSize) => new()
    {
        Data = dataDirectory,
        Command = options.CommandLine,
        Size = options.ModelConfig is null ? options.Size : CustomSize,
        Epochs = options.Epochs,
        BatchSize = options.BatchSize,
        LearningRate = options.LearningRate,
        WeightDecay = options.WeightDecay,
        LabelSmoothing = options.LabelSmoothing,
        GradientClip = options.GradientClip,
        Seed = options.Seed,
        Threads = options.Threads,
        MinWordCount = options.MinWordCount,
        MaxTrainClips = options.MaxTrainClips,
        WindowSeconds = options.WindowSeconds,
        MaxDecodeTokens = options.MaxDecodeTokens,
        VocabSize = vocabSize,
        Encoder = options.EncoderDirectory,
        FreezeEncoderEpochs = options.FreezeEncoderEpochs,
        LabelLossWeight = options.LabelLossWeight,
        Started = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
    };

    public string Method { get; set; } = "supervised";

    public string Data { get; set; } = string.Empty;

    /// <summary>The tagger checkpoint the encoder started from; null: trained from scratch.</summary>
    public string? Encoder { get; set; }

    /// <summary>Epochs that trained the decoder alone on the frozen encoder.</summary>
    public int FreezeEncoderEpochs { get; set; }

    /// <summary>Weight of the tagging loss while the encoder is fine-tuned (<see cref="TrainOptions.LabelLossWeight"/>); 0 when none was added.</summary>
    public double LabelLossWeight { get; set; }

    public string Command { get; set; } = string.Empty;

    public string Size { get; set; } = "student";

    public int Epochs { get; set; }

    public int EpochsCompleted { get; set; }

    public long GlobalStep { get; set; }

    public int StepsPerEpoch { get; set; }

    public int BatchSize { get; set; }

    public double LearningRate { get; set; }

    public double WeightDecay { get; set; }

    public int WarmupSteps { get; set; }

    public double LabelSmoothing { get; set; }

    public double GradientClip { get; set; }

    public int Seed { get; set; }

    public int Threads { get; set; }

    public int MinWordCount { get; set; }

    public int? MaxTrainClips { get; set; }

    public double WindowSeconds { get; set; }

    /// <summary>A tagger run's class-balance exponent (<c>tag --balance-exponent</c>); null for other runs and for tagger runs before the option (0.5).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? BalanceExponent { get; set; }

    /// <summary>Whether a tagger run spread each category's draws evenly over its packages (<c>tag --balance-packages</c>); null for no and for other runs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? BalancePackages { get; set; }

    /// <summary>A tagger run's share of scene-like windows (<c>tag --scene-windows</c>); null for none and for other runs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SceneWindows { get; set; }

    /// <summary>A tagger run's chance of each timbre change (<c>tag --timbre</c>); null for none and for other runs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Timbre { get; set; }

    public int MaxDecodeTokens { get; set; }

    /// <summary>What <see cref="Augmentation"/> did to the training examples, or "none".</summary>
    public string Augmentation { get; set; } = "none";

    /// <summary>Where the training split's log-mel came from: the cache file, or "audio" (decoded, front end every step).</summary>
    public string Features { get; set; } = "audio";

    /// <summary>The teacher of a distilled model (identity, kind, path, its test metrics); null for supervised training.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public System.Text.Json.Nodes.JsonObject? Teacher { get; set; }

    /// <summary>Loss weights, labelled fraction, audio-only data and targets of a distilled model; null for supervised training.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public System.Text.Json.Nodes.JsonObject? Distillation { get; set; }

    /// <summary>Steps not applied because their loss or gradient was not finite (see <see cref="SupervisedStep"/>).</summary>
    public int SkippedSteps { get; set; }

    public int TrainClips { get; set; }

    public int TrainCaptions { get; set; }

    public int ValidationClips { get; set; }

    public int VocabSize { get; set; }

    /// <summary>Epoch of the <c>best/</c> checkpoint (highest validation CIDEr-D), 0 before the first validation.</summary>
    public int BestEpoch { get; set; }

    public double BestValidationCiderD { get; set; } = double.NegativeInfinity;

    public List<EpochRecord> History { get; set; } = [];

    /// <summary>The unfinished epoch a mid-epoch <c>last/</c> was saved in; null at epoch boundaries and in <c>best/</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PartialEpoch? InProgress { get; set; }

    /// <summary>Test metrics of the best checkpoint on the <c>evaluation</c> split; null until measured or without that split.</summary>
    public CaptionScores? Metrics { get; set; }

    /// <summary>The split <see cref="Metrics"/> were measured on.</summary>
    public string? MetricsSplit { get; set; }

    public int? TestClips { get; set; }

    public string Started { get; set; } = string.Empty;

    public string Updated { get; set; } = string.Empty;

    public void Save(string directory)
    {
        Updated = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, _json));
    }

    /// <exception cref="InvalidDataException">The file is not a training record; the message names it.</exception>
    public static TrainingRecord Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist; the checkpoint was not written by 'captiond-train train'.", path);
        }

        try
        {
            return JsonSerializer.Deserialize<TrainingRecord>(File.ReadAllText(path), _json)
                ?? throw new InvalidDataException($"{path}: the training record is null.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not a training record ({ex.Message}).", ex);
        }
    }

    private static readonly JsonSerializerOptions _json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // -Infinity before the first validation is not valid JSON without this.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
