namespace CaptionDaemon.Training.Training;

/// <summary>Where <c>train</c> gets its log-mel from (<c>--features</c>).</summary>
internal enum FeatureSource
{
    /// <summary>From a split's cache (<c>data features</c>) when there is one, from the audio otherwise; a stale or mismatched cache is refused.</summary>
    Auto,

    /// <summary>Always decode the audio and run the front end.</summary>
    Off,

    /// <summary>From the caches of the development and validation splits; fail without them.</summary>
    Require,
}

/// <summary>Settings of <c>captiond-train train</c>; the defaults suit the student on Clotho-sized data.</summary>
internal sealed record TrainOptions
{
    /// <summary>Root of a data set in the Clotho layout.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Where <c>best/</c>, <c>last/</c> and the test captions go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary><c>student</c> or <c>teacher</c> (the presets of <see cref="Models.CaptionModelConfig"/>).</summary>
    public string Size { get; init; } = "student";

    public int Epochs { get; init; } = 30;

    /// <summary>Clips per step; each clip is trained on all its captions (see <see cref="CaptionTrainer"/>).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Peak learning rate, reached after the warm-up.</summary>
    public double LearningRate { get; init; } = 5e-4;

    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Linear warm-up steps; null: 5% of all steps.</summary>
    public int? WarmupSteps { get; init; }

    public double LabelSmoothing { get; init; }

    /// <summary>Maximum global gradient norm.</summary>
    public double GradientClip { get; init; } = 1.0;

    public int Seed { get; init; } = 1;

    /// <summary>Torch intra-op threads and parallel audio decoders.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    public bool Resume { get; init; }

    /// <summary>
    /// How often <c>last/</c> is also saved inside an epoch, so that an interrupted run loses at most this much work
    /// (a teacher's epoch on the full data takes over an hour); <see cref="TimeSpan.Zero"/>: after every step; null: at
    /// the end of each epoch only.
    /// </summary>
    public TimeSpan? CheckpointInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Use only the first N training clips (quick runs); null: all.</summary>
    public int? MaxTrainClips { get; init; }

    /// <summary>Words seen fewer times in the training captions become &lt;unk&gt;.</summary>
    public int MinWordCount { get; init; } = 5;

    /// <summary>Seconds of audio per example (the daemon's window).</summary>
    public double WindowSeconds { get; init; } = 10.0;

    /// <summary>Decoder steps (&lt;end&gt; included) when captioning for validation and test; the bundle's max_caption_tokens.</summary>
    public int MaxDecodeTokens { get; init; } = 20;

    /// <summary>Waveform and spectrogram augmentation (<see cref="Training.Augmentation"/>); null: on for the teacher, off for the student.</summary>
    public bool? Augment { get; init; }

    /// <summary>Whether this run augments: <see cref="Augment"/>, or by default only for the teacher.</summary>
    public bool Augments => Augment ?? Size == "teacher";

    /// <summary>Log-mel from the feature cache or from the audio (see <see cref="FeatureSource"/>).</summary>
    public FeatureSource Features { get; init; } = FeatureSource.Auto;

    /// <summary>
    /// Model sizes from the vocabulary size instead of the <see cref="Size"/> preset (recorded as size <c>custom</c>);
    /// lets tests train a model small enough to take seconds.
    /// </summary>
    internal Func<int, Models.CaptionModelConfig>? ModelConfig { get; init; }

    /// <summary>
    /// A tagger checkpoint folder (<c>captiond-train tag</c>'s <c>best/</c>) whose encoder the caption model starts from
    /// (Models/README.md); null: the CNN encoder of <see cref="Size"/>, trained from scratch.
    /// </summary>
    public string? EncoderDirectory { get; init; }

    /// <summary>With <see cref="EncoderDirectory"/>: the first this many epochs train the decoder alone on the frozen encoder, the rest fine-tune both.</summary>
    public int FreezeEncoderEpochs { get; init; }

    /// <summary>
    /// With <see cref="EncoderDirectory"/>: the weight of the tagging loss (binary cross-entropy of the tagger's label
    /// logits against the categories one hears in the clip, from the data's <c>scenes.jsonl</c>) added to the caption
    /// loss while the encoder is fine-tuned, so the label head keeps up with the layers under it; 0: captions only.
    /// </summary>
    /// <remarks>
    /// Off by default: on v5's recipe, weight 1 (the scale the tagger trained at) left the test split's isolated recall
    /// (0.388 against 0.391), event recall (0.169/0.175 against 0.177/0.174) and label F1 (0.34 against 0.42) no better
    /// (README, "The shipped model").
    /// </remarks>
    public double LabelLossWeight { get; init; }

    /// <summary>The command line, recorded in <c>training.json</c>.</summary>
    public string CommandLine { get; init; } = string.Empty;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException(message);
            }
        }

        Require(FreezeEncoderEpochs >= 0, "--freeze-encoder-epochs must not be negative.");
        Require(FreezeEncoderEpochs == 0 || EncoderDirectory is not null, "--freeze-encoder-epochs needs --encoder (a trained tagger to freeze).");
        Require(LabelLossWeight >= 0 && double.IsFinite(LabelLossWeight), "--label-loss-weight must be 0 or positive.");

        Require(!string.IsNullOrWhiteSpace(DataDirectory), "--data is required");
        Require(!string.IsNullOrWhiteSpace(OutputDirectory), "--out is required");
        Require(Size is "student" or "teacher", $"--size must be student or teacher, not '{Size}'");
        Require(Epochs >= 1, "--epochs must be at least 1");
        Require(BatchSize >= 1, "--batch-size must be at least 1");
        Require(LearningRate is > 0 and < 1, "--lr must be in (0, 1)");
        Require(WeightDecay >= 0, "--weight-decay must not be negative");
        Require(WarmupSteps is null or >= 0, "--warmup-steps must not be negative");
        Require(LabelSmoothing is >= 0 and < 1, "--label-smoothing must be in [0, 1)");
        Require(GradientClip > 0, "--grad-clip must be positive");
        Require(Threads >= 1, "--threads must be at least 1");
        Require(CheckpointInterval is null || CheckpointInterval >= TimeSpan.Zero, "--checkpoint-minutes must not be negative");
        Require(MaxTrainClips is null or >= 1, "--max-train-clips must be at least 1");
        Require(MinWordCount >= 1, "--min-word-count must be at least 1");
        Require(WindowSeconds is > 0 and <= 60, "--window-seconds must be in (0, 60]");
        Require(MaxDecodeTokens >= 1, "--max-decode-tokens must be at least 1");
    }
}
