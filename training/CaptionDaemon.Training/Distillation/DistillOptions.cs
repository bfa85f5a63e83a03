using System.Globalization;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Distillation;

/// <summary>Settings of <c>captiond-train distill</c>: the training settings it shares with <c>train</c>, plus the teacher and the losses.</summary>
internal sealed record DistillOptions
{
    /// <summary>Data, output, schedule, seed, threads and model size, resumption and checkpoints, as for <c>train</c>.</summary>
    public required TrainOptions Train { get; init; }

    /// <summary>A caption bundle, a checkpoint or a <c>train</c> run folder.</summary>
    public required string TeacherDirectory { get; init; }

    /// <summary>Where teacher targets are cached; null: <c>kd-targets/</c> under the teacher's folder.</summary>
    public string? TargetsCacheDirectory { get; init; }

    /// <summary>a_seq: weight of the cross-entropy on the teacher's beam captions; 0 disables it.</summary>
    public double SequenceWeight { get; init; } = 1.0;

    /// <summary><c>none</c>, <c>mse</c> or <c>contrastive</c>.</summary>
    public string EncoderKd { get; init; } = EncoderDistillation.Contrastive;

    /// <summary>a_enc.</summary>
    public double EncoderWeight { get; init; } = 1.0;

    /// <summary>Size the two projection heads map the embeddings to.</summary>
    public int EncoderSharedDim { get; init; } = EncoderDistillation.DefaultSharedDim;

    /// <summary>a_tok: weight of token-level KD on the teacher's top-k distributions; 0 disables it.</summary>
    public double TokenWeight { get; init; }

    /// <summary>Token probabilities kept per step for token-level KD.</summary>
    public int TokenTopK { get; init; } = 10;

    /// <summary>Beam of the teacher's pseudo-captions.</summary>
    public int TeacherBeam { get; init; } = 3;

    /// <summary>A folder of audio without captions used through the KD losses only.</summary>
    public string? UnlabelledDirectory { get; init; }

    /// <summary>Fraction of the development clips that keep their human captions (chosen with the seed).</summary>
    public double LabelledFraction { get; init; } = 1.0;

    /// <summary>Use the development clips that lost their captions as audio-only data.</summary>
    public bool UnlabelledFromRest { get; init; }

    /// <summary>Epochs of encoder-only KD (L_enc on all audio, encoder and heads only) before the full loss.</summary>
    public int EncoderPretrainEpochs { get; init; }

    /// <summary>Whether any audio-only data is used.</summary>
    public bool UsesAudioOnly => UnlabelledDirectory is not null || (UnlabelledFromRest && LabelledFraction < 1);

    /// <summary>Whether the teacher's targets are needed at all (a supervised-only baseline needs only its vocabulary).</summary>
    public bool NeedsTargets => SequenceWeight > 0 || TokenWeight > 0 || EncoderKd != EncoderDistillation.None || UsesAudioOnly;

    /// <summary>The method recorded for the run, e.g. <c>sup+seq+contrastive+audio-only</c>.</summary>
    public string Method
    {
        get
        {
            var parts = new List<string> { "sup" };
            if (SequenceWeight > 0)
            {
                parts.Add("seq");
            }

            if (TokenWeight > 0)
            {
                parts.Add("tok");
            }

            if (EncoderKd != EncoderDistillation.None)
            {
                parts.Add(EncoderKd);
            }

            if (EncoderPretrainEpochs > 0 && EncoderKd != EncoderDistillation.None)
            {
                parts.Add("enc-pretrain");
            }

            if (UsesAudioOnly)
            {
                parts.Add("audio-only");
            }

            return string.Join('+', parts);
        }
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

        Train.Validate();
        Require(!string.IsNullOrWhiteSpace(TeacherDirectory), "--teacher is required");
        Require(SequenceWeight >= 0 && double.IsFinite(SequenceWeight), "--seq-kd must be a finite weight >= 0");
        Require(EncoderDistillation.Kinds.Contains(EncoderKd), $"--enc-kd must be one of {string.Join(", ", EncoderDistillation.Kinds)}, not '{EncoderKd}'");
        Require(EncoderWeight >= 0 && double.IsFinite(EncoderWeight), "--enc-kd-weight must be a finite weight >= 0");
        Require(EncoderSharedDim >= 1, "--enc-kd-dim must be at least 1");
        Require(TokenWeight >= 0 && double.IsFinite(TokenWeight), "--tok-kd must be a finite weight >= 0");
        Require(TokenTopK >= 1, "--tok-kd-top-k must be at least 1");
        Require(TeacherBeam >= 1, "--teacher-beam must be at least 1");
        Require(LabelledFraction is > 0 and <= 1, string.Create(CultureInfo.InvariantCulture, $"--labelled-fraction must be in (0, 1], not {LabelledFraction}"));
        Require(EncoderPretrainEpochs >= 0, "--enc-pretrain-epochs must not be negative");
        Require(EncoderPretrainEpochs == 0 || EncoderKd != EncoderDistillation.None, "--enc-pretrain-epochs needs --enc-kd mse or contrastive");
    }
}
