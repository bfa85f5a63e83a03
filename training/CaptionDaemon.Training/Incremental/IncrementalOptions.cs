using System.Globalization;

namespace CaptionDaemon.Training.Incremental;

/// <summary>Settings of <c>captiond-train incremental</c>.</summary>
internal sealed record IncrementalOptions
{
    public const string AudioKd = "audio";
    public const string TokenKd = "token";
    public const string SequenceKd = "seq";

    public static readonly string[] KdKinds = [AudioKd, TokenKd, SequenceKd];

    /// <summary>The current model: a bundle with <c>checkpoint/</c>, a checkpoint folder, or a run folder (its <c>best/</c>).</summary>
    public required string BaseDirectory { get; init; }

    /// <summary>The new task's data in the Clotho layout (development split required; <c>scenes.jsonl</c> gives categories).</summary>
    public required string NewDataDirectory { get; init; }

    /// <summary>Output folder: <c>model/</c> (checkpoint with its memory) and <c>work/</c>.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Also write a caption bundle here (with <c>checkpoint/</c> and <c>memory/</c>).</summary>
    public string? ExportDirectory { get; init; }

    /// <summary>The bundle's model name; null: the base's name + "+" + the task.</summary>
    public string? Name { get; init; }

    /// <summary>The new task's name; null: the new data folder's name.</summary>
    public string? Task { get; init; }

    /// <summary>Category of new clips that have no scene metadata; null: the task name.</summary>
    public string? Category { get; init; }

    /// <summary>Where the first memory comes from when the base has none; null: the data the base was trained on (its training record).</summary>
    public string? BaseDataDirectory { get; init; }

    public MemoryBudget Memory { get; init; } = new(0, 1);

    public string MemorySelection { get; init; } = Incremental.MemorySelection.Herding;

    /// <summary>KD terms on the rehearsal clips: any of <see cref="AudioKd"/>, <see cref="TokenKd"/>, <see cref="SequenceKd"/>.</summary>
    public IReadOnlySet<string> Kd { get; init; } = new HashSet<string>(StringComparer.Ordinal) { TokenKd };

    public double AudioWeight { get; init; } = 1.0;

    public double TokenWeight { get; init; } = 1.0;

    public double SequenceWeight { get; init; } = 1.0;

    /// <summary>Beam of the old model's captions (sequence-level KD).</summary>
    public int TeacherBeam { get; init; } = 3;

    /// <summary>Token probabilities kept per step (token-level KD).</summary>
    public int TokenTopK { get; init; } = 10;

    public int Epochs { get; init; } = 5;

    public int BatchSize { get; init; } = 16;

    public double LearningRate { get; init; } = 5e-4;

    public double WeightDecay { get; init; } = 0.01;

    public double GradientClip { get; init; } = 1.0;

    public int Seed { get; init; } = 1;

    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>New words seen fewer times in the new captions become &lt;unk&gt;.</summary>
    public int MinWordCount { get; init; } = 2;

    /// <summary>Training window; null: the base's (bundle manifest or training record), else 10 s.</summary>
    public double? WindowSeconds { get; init; }

    /// <summary>Decoder steps for evaluation and the bundle's max caption length.</summary>
    public int MaxDecodeTokens { get; init; } = 20;

    /// <summary>
    /// Development clips of the base's data (<see cref="BaseDataDirectory"/>, or the data in its training record) added,
    /// evenly spread, to the negatives of each new label's fit (Incremental/LabelGrowth.cs); 0: the update's own clips only.
    /// </summary>
    public int LabelNegatives { get; init; } = 400;

    /// <summary>Use only the first N new development clips.</summary>
    public int? MaxNewClips { get; init; }

    /// <summary>Replace an existing output or export folder.</summary>
    public bool Force { get; init; }

    public string CommandLine { get; init; } = string.Empty;

    public bool Rehearses => !Memory.IsEmpty;

    /// <summary>The method's name as in the reproduction: finetune, rehearsal, rehearsal+audio, ..., rehearsal+all.</summary>
    public string Method
    {
        get
        {
            if (!Rehearses)
            {
                return "finetune";
            }

            if (KdKinds.All(Kd.Contains))
            {
                return "rehearsal+all";
            }

            return string.Join('+', new[] { "rehearsal" }.Concat(KdKinds.Where(Kd.Contains)));
        }
    }

    /// <summary><c>audio,token,seq</c> (any subset, or <c>none</c>) to a set.</summary>
    /// <exception cref="ArgumentException">An unknown term.</exception>
    public static IReadOnlySet<string> ParseKd(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts is ["none"])
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        var unknown = parts.Where(p => !KdKinds.Contains(p)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException($"--kd takes a comma-separated subset of {string.Join(", ", KdKinds)} (or none); '{string.Join(", ", unknown)}' is none of them.");
        }

        return parts.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary><c>audio=1,token=0.5,seq=1</c>: weights of the KD terms; terms not named keep their weight.</summary>
    public IncrementalOptions WithKdWeights(string text) =>
        ParseKdWeights(text).Aggregate(this, (options, pair) => pair.Term switch
        {
            AudioKd => options with { AudioWeight = pair.Weight },
            TokenKd => options with { TokenWeight = pair.Weight },
            _ => options with { SequenceWeight = pair.Weight },
        });

    /// <summary>The (term, weight) pairs of a <c>--kd-weights</c> text.</summary>
    /// <exception cref="ArgumentException">A part is not term=weight, the term is unknown or the weight is negative or not finite.</exception>
    public static IReadOnlyList<(string Term, double Weight)> ParseKdWeights(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pairs = new List<(string, double)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pair.Length != 2 || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !double.IsFinite(weight) || weight < 0)
            {
                throw new ArgumentException($"--kd-weights takes term=weight pairs such as audio=1,token=0.5,seq=1; '{part}' is not one.");
            }

            if (!KdKinds.Contains(pair[0]))
            {
                throw new ArgumentException($"--kd-weights: '{pair[0]}' is not one of {string.Join(", ", KdKinds)}.");
            }

            pairs.Add((pair[0], weight));
        }

        return pairs;
    }

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

        Require(!string.IsNullOrWhiteSpace(BaseDirectory), "--base is required");
        Require(!string.IsNullOrWhiteSpace(NewDataDirectory), "--new is required");
        Require(!string.IsNullOrWhiteSpace(OutputDirectory), "--out is required");
        Require(Incremental.MemorySelection.Methods.Contains(MemorySelection), $"--memory-selection must be one of {string.Join(", ", Incremental.MemorySelection.Methods)}");
        Require(Kd.All(KdKinds.Contains), $"--kd takes a subset of {string.Join(", ", KdKinds)}");
        Require(Kd.Count == 0 || Rehearses, "--kd needs a rehearsal memory (--memory above 0): the KD terms apply to rehearsal clips");
        Require(TeacherBeam >= 1, "--teacher-beam must be at least 1");
        Require(TokenTopK >= 1, "--tok-kd-top-k must be at least 1");
        Require(Epochs >= 1, "--epochs must be at least 1");
        Require(BatchSize >= 1, "--batch-size must be at least 1");
        Require(LearningRate is > 0 and < 1, "--lr must be in (0, 1)");
        Require(WeightDecay >= 0, "--weight-decay must not be negative");
        Require(GradientClip > 0, "--grad-clip must be positive");
        Require(Threads >= 1, "--threads must be at least 1");
        Require(MinWordCount >= 1, "--min-word-count must be at least 1");
        Require(WindowSeconds is null or (> 0 and <= 60), "--window-seconds must be in (0, 60]");
        Require(MaxDecodeTokens >= 1, "--max-decode-tokens must be at least 1");
        Require(MaxNewClips is null or >= 1, "--max-new-clips must be at least 1");
        Require(LabelNegatives >= 0, "--label-negatives must not be negative");
    }
}
