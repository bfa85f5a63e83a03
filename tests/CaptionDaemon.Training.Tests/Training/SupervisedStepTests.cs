using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Training;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Training;

public sealed class SupervisedStepTests
{
    [Fact]
    public void Run_FiniteBatch_AppliesTheUpdateAndLowersTheLoss()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(11);
        using var model = new CaptionModel(Config());
        using var optimizer = optim.AdamW(model.parameters(), 3e-3);
        var batch = Batch();

        var first = SupervisedStep.Run(model, optimizer, batch, 0, 1);
        StepResult last = first;
        for (var i = 0; i < 15; i++)
        {
            last = SupervisedStep.Run(model, optimizer, batch, 0, 1);
        }

        Assert.True(first.Applied && last.Applied);
        Assert.True(last.Loss < first.Loss * 0.7, $"loss {first.Loss} -> {last.Loss}");
    }

    [Fact]
    public void Run_NonFiniteLoss_LeavesWeightsAndOptimizerUntouched()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(12);
        using var model = new CaptionModel(Config());
        using var optimizer = optim.AdamW(model.parameters(), 3e-3);
        var poisoned = model.Decoder.FinalNorm.weight!;
        using (no_grad())
        {
            poisoned[0] = float.NaN;
        }

        var before = model.parameters().Select(p => p.detach().clone()).ToArray();
        var result = SupervisedStep.Run(model, optimizer, Batch(), 0, 1);

        Assert.False(result.Applied);
        Assert.True(float.IsNaN((float)result.Loss));
        var after = model.parameters().ToArray();
        for (var i = 0; i < before.Length; i++)
        {
            Assert.True(before[i].isnan().logical_or(before[i].eq(after[i])).all().item<bool>(), $"parameter {i} changed by a skipped step");
        }
    }

    private static CaptionModelConfig Config() => TinyModels.Config(vocabSize: 8);

    /// <summary>Two 0.5 s windows (a tone, noise) with two captions each of words 4..7.</summary>
    private static CaptionBatch Batch()
    {
        var audio = new float[2 * 8000];
        var random = new Random(4);
        for (var n = 0; n < 8000; n++)
        {
            audio[n] = 0.3f * MathF.Sin(2 * MathF.PI * 440 * n / 16000);
            audio[8000 + n] = (float)(random.NextDouble() - 0.5) * 0.6f;
        }

        return CaptionBatch.Create(audio, 2, [(0, [4, 5]), (0, [4, 5, 5]), (1, [6, 7]), (1, [7])]);
    }
}
