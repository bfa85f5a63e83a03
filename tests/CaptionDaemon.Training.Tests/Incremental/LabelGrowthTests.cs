using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Incremental;

public sealed class LabelGrowthTests
{
    [Fact]
    public void NewLabels_Categories_KeepsThoseTheTaggerLacksOnceInOrdinalOrder()
    {
        var labels = LabelGrowth.NewLabels(["beep", "static", "nothing"], ["whistle", "beep", "kettle", "whistle", "nothing", ""]);

        Assert.Equal(["kettle", "whistle"], labels);
    }

    [Fact]
    public void Widen_NewLabels_KeepsOldLogitsAndDecoderMemoryAndStartsTheNewOnesUnlikely()
    {
        using var model = TaggerModel(seed: 3);
        model.eval();
        using var audio = tensor(TinyModels.SinesAndNoise(2 * 8000, 4, 300, 1200), [2, 8000]);

        using var widened = LabelGrowth.Widen(model, ["kettle", "whistle"]);
        widened.eval();

        using var noGrad = no_grad();
        var before = model.EncodeWithLabelLogits(audio, logMel: false);
        var after = widened.EncodeWithLabelLogits(audio, logMel: false);
        Assert.Equal(["beep", "static", "nothing", "kettle", "whistle"], widened.Config.Labels);
        Assert.Equal([2L, 5], after.Logits.shape);
        Assert.True(allclose(before.Logits, after.Logits.narrow(1, 0, 3), rtol: 0, atol: 1e-6), "old labels' logits changed");
        Assert.True(allclose(after.Logits.narrow(1, 3, 2), full([2, 2], Math.Log(0.001 / 0.999)), rtol: 0, atol: 1e-5), "new labels do not start at 0.001");
        Assert.True(allclose(before.Memory, after.Memory, rtol: 0, atol: 1e-6), "the decoder's memory changed");
        Assert.True(allclose(before.ClassifierInput, after.ClassifierInput, rtol: 0, atol: 0));
    }

    [Fact]
    public void Widen_CnnModelOrKnownLabel_Throws()
    {
        using var cnn = new CaptionModel(TinyModels.Config());
        using var tagger = TaggerModel(seed: 1);

        Assert.Throws<ArgumentException>(() => LabelGrowth.Widen(cnn, ["kettle"]));
        Assert.Throws<ArgumentException>(() => LabelGrowth.Widen(tagger, ["beep"]));
    }

    private static CaptionModel TaggerModel(int seed)
    {
        var directory = Directory.CreateTempSubdirectory("captiond-label-growth-").FullName;
        try
        {
            TinyModels.TaggerCheckpoint(directory, width: 1, seed: seed);
            using var encoder = CaptionDaemon.Training.Tagging.TaggerTrainer.Load(directory);
            random.manual_seed(seed);
            var model = new CaptionModel(CaptionModelConfig.OnTagger(encoder.Config, vocabSize: 10));
            TinyModels.RandomiseBatchNorms(model, seed);
            return model;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
