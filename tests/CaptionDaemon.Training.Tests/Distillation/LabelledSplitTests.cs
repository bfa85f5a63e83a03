using CaptionDaemon.Training.Distillation;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class LabelledSplitTests
{
    [Fact]
    public void Choose_SameSeed_GivesTheSameClipsEveryTime()
    {
        var (first, firstOthers) = LabelledSplit.Choose(3200, 0.1, seed: 4);
        var (second, secondOthers) = LabelledSplit.Choose(3200, 0.1, seed: 4);

        Assert.Equal(first, second);
        Assert.Equal(firstOthers, secondOthers);
    }

    [Fact]
    public void Choose_TenPercent_KeepsThatManyAndTheRestIsTheComplement()
    {
        var (labelled, others) = LabelledSplit.Choose(3200, 0.1, seed: 1);

        Assert.Equal(320, labelled.Length);
        Assert.Equal(2880, others.Length);
        Assert.Equal(Enumerable.Range(0, 3200), labelled.Concat(others).Order());
        Assert.Equal(labelled.Order(), labelled);
        // A shuffle, not the first 320 clips.
        Assert.True(labelled[^1] > 320);
    }

    [Fact]
    public void Choose_OtherSeed_GivesOtherClips()
    {
        Assert.NotEqual(LabelledSplit.Choose(1000, 0.1, seed: 1).Labelled, LabelledSplit.Choose(1000, 0.1, seed: 2).Labelled);
    }

    [Fact]
    public void Choose_TinyFraction_KeepsAtLeastOneClipAndAllOfThemAtOne()
    {
        Assert.Single(LabelledSplit.Choose(10, 0.001, seed: 1).Labelled);
        Assert.Equal(10, LabelledSplit.Choose(10, 1.0, seed: 1).Labelled.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => LabelledSplit.Choose(10, 0, seed: 1));
    }

    [Fact]
    public void Cycle_SmallPoolLongerThanItself_VisitsEveryClipOncePerPass()
    {
        var order = DistillationTrainer.Cycle(3, 8, new Random(1));

        Assert.Equal(8, order.Length);
        Assert.Equal([0, 1, 2], order[..3].Order());
        Assert.Equal([0, 1, 2], order[3..6].Order());
        Assert.Equal(2, order[6..].Distinct().Count());
    }
}
