using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tagging;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Models;

/// <summary>Small configurations and signals that keep model tests to seconds on two shared cores.</summary>
internal static class TinyModels
{
    public static CaptionModelConfig Config(int vocabSize = 12) => new()
    {
        VocabSize = vocabSize,
        EncoderChannels = [4, 8],
        DModel = 32,
        DecoderLayers = 2,
        Heads = 4,
        FeedForward = 64,
        Dropout = 0,
        MaxTokens = 16,
    };

    /// <summary>A student small enough for a training step to take milliseconds (distillation and incremental runs).</summary>
    public static CaptionModelConfig Student(int vocabSize) => new()
    {
        VocabSize = vocabSize,
        EncoderChannels = [4, 8],
        DModel = 16,
        DecoderLayers = 1,
        Heads = 2,
        FeedForward = 32,
        Dropout = 0,
        MaxTokens = 12,
    };

    /// <summary>
    /// Writes a tagger checkpoint (what <c>tag</c> writes into <c>best/</c>) of a tiny tagging encoder with random weights
    /// and trained-looking BatchNorms into <paramref name="directory"/>: <paramref name="width"/> scales its channels, so
    /// a teacher's tagger can be larger than a student's. Returns the folder.
    /// </summary>
    public static string TaggerCheckpoint(string directory, int width, int seed)
    {
        Directory.CreateDirectory(directory);
        random.manual_seed(seed);
        using var encoder = new TaggingEncoder(new TaggingEncoderConfig
        {
            Size = "tiny",
            Labels = ["beep", "static", "nothing"],
            StemChannels = 4 * width,
            Stages = [new(8 * width, 1, 2, true), new(12 * width, 1, 2, true), new(16 * width, 1, 2, false)],
            HeadChannels = 24 * width,
            DModel = 32,
        });
        RandomiseBatchNorms(encoder, seed);
        File.WriteAllText(Path.Combine(directory, TaggerTrainer.ConfigFileName), encoder.Config.ToJson());
        encoder.save(Path.Combine(directory, TaggerTrainer.EncoderFileName));
        return directory;
    }

    /// <summary>Gives every BatchNorm non-trivial running statistics and affine parameters, as after training.</summary>
    public static void RandomiseBatchNorms(nn.Module model, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        // Held Scalars, not numbers: this runs for every test model (see HeldScalars in the trainer).
        using var half = 0.5.ToScalar();
        using var tenth = 0.1.ToScalar();
        foreach (var (name, buffer) in model.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal))
            {
                buffer.copy_(randn(buffer.shape, generator: generator).mul(half));
            }
            else if (name.EndsWith("running_var", StringComparison.Ordinal))
            {
                buffer.copy_(rand(buffer.shape, generator: generator).add(half, HeldScalars.One));
            }
        }

        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.Contains("norm", StringComparison.OrdinalIgnoreCase))
            {
                parameter.add_(randn(parameter.shape, generator: generator).mul(tenth), HeldScalars.One);
            }
        }
    }

    /// <summary>Sines plus noise at 16 kHz, deterministic for a seed: energy in every frequency band.</summary>
    public static float[] SinesAndNoise(int samples, int seed, params double[] frequencies)
    {
        var random = new Random(seed);
        var audio = new float[samples];
        for (var n = 0; n < samples; n++)
        {
            var value = 0.05 * ((random.NextDouble() * 2) - 1);
            foreach (var f in frequencies)
            {
                value += 0.2 * Math.Sin((2 * Math.PI * f * n / 16000) + f);
            }

            audio[n] = (float)value;
        }

        return audio;
    }

    /// <summary>Teacher-forced cross-entropy training (Adam, full batch, pad ignored); returns the loss before and after.</summary>
    public static (float First, float Last) Train(CaptionModel model, Tensor audio, Tensor inputs, Tensor targets, int steps, double learningRate = 3e-3)
    {
        using var optimizer = optim.Adam(model.parameters(), learningRate);
        var vocabSize = model.Config.VocabSize;
        model.train();

        float Loss(bool step)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.forward(audio, inputs);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, vocabSize), targets.reshape(-1), ignore_index: CaptionModel.PadToken);
            if (step)
            {
                loss.backward();
                optimizer.step();
            }

            return loss.item<float>();
        }

        var first = Loss(step: false);
        for (var i = 0; i < steps; i++)
        {
            Loss(step: true);
        }

        return (first, Loss(step: false));
    }
}
