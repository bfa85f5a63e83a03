using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Text;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Incremental;

public sealed class VocabularyGrowthTests
{
    [Fact]
    public void Grow_NewWords_AppendsThemByCountAndKeepsEveryOldId()
    {
        var old = Vocabulary.Build(["a dog barks", "a dog barks loudly"], minCount: 1);

        var (grown, newWords) = VocabularyGrowth.Grow(old, ["a cat meows", "the cat meows", "a dog purrs"], minCount: 1);

        Assert.Equal(["cat", "meows", "purrs", "the"], newWords);
        Assert.Equal(old.Tokens, grown.Tokens.Take(old.Count));
        Assert.Equal(old.Count + 4, grown.Count);
        Assert.Equal(old.Encode("a dog barks"), grown.Encode("a dog barks"));
        Assert.Equal([grown.Count - 4, grown.Count - 3], grown.Encode("cat meows"));
    }

    [Fact]
    public void Grow_RareNewWordsAndNoNewWords_KeepsTheVocabulary()
    {
        var old = Vocabulary.Build(["a dog barks"], minCount: 1);

        var (grown, newWords) = VocabularyGrowth.Grow(old, ["a dog barks", "a cat barks"], minCount: 2);

        Assert.Empty(newWords);
        Assert.Same(old, grown);
    }

    [Fact]
    public void Widen_NewRows_LeavesOldTokenLogitsAndEncoderOutputsUnchanged()
    {
        manual_seed(11);
        using var model = new CaptionModel(TinyModels.Config(vocabSize: 12));
        TinyModels.RandomiseBatchNorms(model, seed: 2);
        model.eval();
        using var audio = tensor(TinyModels.SinesAndNoise(2 * 4000, 3, 300, 900), [2, 4000]);
        using var tokens = tensor(new long[] { 1, 5, 7, 11, 1, 4, 9, 2 }, [2, 4]);

        using var widened = VocabularyGrowth.Widen(model, 17);
        widened.eval();

        using var noGrad = no_grad();
        using var before = model.forward(audio, tokens);
        using var after = widened.forward(audio, tokens);
        Assert.Equal(17, widened.Config.VocabSize);
        Assert.Equal([2L, 4, 17], after.shape);
        Assert.True(allclose(before, after.narrow(2, 0, 12), rtol: 0, atol: 1e-6), "old tokens' logits changed");
        Assert.True(after.narrow(2, 12, 5).abs().sum().item<float>() > 0, "the new rows were left at zero");
        var (memoryBefore, embeddingBefore) = model.Encode(audio);
        var (memoryAfter, embeddingAfter) = widened.Encode(audio);
        Assert.True(allclose(memoryBefore, memoryAfter, rtol: 0, atol: 0));
        Assert.True(allclose(embeddingBefore, embeddingAfter, rtol: 0, atol: 0));
    }

    [Fact]
    public void Widen_SmallerVocabulary_Throws()
    {
        using var model = new CaptionModel(TinyModels.Config(vocabSize: 12));

        Assert.Throws<ArgumentException>(() => VocabularyGrowth.Widen(model, 11));
    }
}
