using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Tagging;

/// <summary>Settings of <c>captiond-train tag</c>.</summary>
internal sealed record TaggerOptions
{
    public required string SoundsDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public string Size { get; init; } = "small";

    /// <summary>Overrides <see cref="Size"/> (tests): the labels are filled in by the trainer.</summary>
    public Func<IReadOnlyList<string>, TaggingEncoderConfig>? EncoderConfig { get; init; }

    public int Epochs { get; init; } = 20;

    public int BatchSize { get; init; } = 32;

    /// <summary>Class-balanced draws per epoch; null: as many as the train split has recordings.</summary>
    public int? ClipsPerEpoch { get; init; }

    /// <summary>Exponent e of the class-balanced draws: a category of n train recordings gets n^(1-e) of them (<see cref="TaggingSet"/>).</summary>
    public double BalanceExponent { get; init; } = TaggingSet.DefaultBalanceExponent;

    /// <summary>Spread each category's draws evenly over the packages its recordings come from (<see cref="TaggingSet.Of"/>).</summary>
    public bool BalancePackages { get; init; }

    /// <summary>Validation recordings (an even spread of the split); null: all.</summary>
    public int? MaxValidationClips { get; init; }

    public double LearningRate { get; init; } = 2e-3;

    public double WeightDecay { get; init; } = 0.01;

    public double GradientClip { get; init; } = 5;

    public double WindowSeconds { get; init; } = 10;

    /// <summary>Fraction of a batch's windows that are quiet (low noise or silence) and labelled <see cref="TaggingSet.Nothing"/>.</summary>
    public double NothingFraction { get; init; } = 1.0 / 16;

    /// <summary>Probability that a window gets a second recording of the batch mixed in (labels OR-ed).</summary>
    public double MixupProbability { get; init; } = 0.5;

    /// <summary>The mixed-in recording is attenuated by 0..this many dB.</summary>
    public double MixupMaxAttenuationDb { get; init; } = 12;

    /// <summary>Probability that a recording's window is played in a synthetic room (<c>RoomReverb</c>, RT60 0.2-0.9 s, 20-70 % wet).</summary>
    public double ReverbProbability { get; init; } = 0.3;

    /// <summary>Probability that a drawn recording becomes a scene-like window (<see cref="SceneWindows"/>) instead of an isolated one.</summary>
    public double SceneProbability { get; init; }

    /// <summary>Chance of each change of a drawn recording's timbre (<see cref="TimbreAugmentation"/>: speed, equaliser); 0 for none.</summary>
    public double TimbreProbability { get; init; }

    public bool Augment { get; init; } = true;

    public int Seed { get; init; } = 1;

    public int Threads { get; init; } = Environment.ProcessorCount;

    public bool Resume { get; init; }

    public TimeSpan? CheckpointInterval { get; init; } = TimeSpan.FromMinutes(10);

    public string CommandLine { get; init; } = string.Empty;

    /// <exception cref="ArgumentException">A value is out of range; the message names the option.</exception>
    public void Validate()
    {
        if (Epochs < 1 || BatchSize < 2 || Threads < 1)
        {
            throw new ArgumentException("--epochs and --threads must be at least 1, --batch-size at least 2.");
        }

        if (BalanceExponent is < 0 or > 1 || double.IsNaN(BalanceExponent))
        {
            throw new ArgumentException($"--balance-exponent must be in [0, 1], not {BalanceExponent}.");
        }

        if (ClipsPerEpoch is < 1 || MaxValidationClips is < 1)
        {
            throw new ArgumentException("--clips-per-epoch and --max-val-clips must be positive.");
        }

        if (!(LearningRate > 0) || WeightDecay < 0 || !(GradientClip > 0) || !(WindowSeconds > 0.1))
        {
            throw new ArgumentException("--lr and --grad-clip must be positive, --weight-decay not negative, --window-seconds above 0.1.");
        }

        if (SceneProbability is < 0 or > 1 || double.IsNaN(SceneProbability))
        {
            throw new ArgumentException($"--scene-windows must be in [0, 1], not {SceneProbability}.");
        }

        if (TimbreProbability is < 0 or > 1 || double.IsNaN(TimbreProbability))
        {
            throw new ArgumentException($"--timbre must be in [0, 1], not {TimbreProbability}.");
        }

        if (NothingFraction is < 0 or >= 1 || MixupProbability is < 0 or > 1 || MixupMaxAttenuationDb < 0 || ReverbProbability is < 0 or > 1)
        {
            throw new ArgumentException("The quiet-window fraction must be in [0, 1), the mixup and reverb probabilities in [0, 1].");
        }

        if (EncoderConfig is null && !TaggingEncoderConfig.Sizes.Contains(Size))
        {
            throw new ArgumentException($"--size must be one of {string.Join(", ", TaggingEncoderConfig.Sizes)}, not '{Size}'.");
        }
    }
}
