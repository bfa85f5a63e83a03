using CaptionDaemon.Training.Incremental;

namespace CaptionDaemon.Training.Tests.Incremental;

public sealed class MemorySelectionTests
{
    [Fact]
    public void Herd_HandMadeEmbeddings_PicksTheClipClosestToTheMeanThenFollowsTheRunningMean()
    {
        // Unit vectors at 0, 10, 20, 30 and 90 degrees: their mean points at about 28 degrees (pulled by the outlier),
        // so the first pick is the 30-degree clip; the second is whichever brings the mean of the two picks closest to
        // the class mean.
        float[] At(double degrees) => [(float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180)];
        var features = new[] { At(0), At(10), At(20), At(30), At(90) };

        var picks = MemorySelection.Herd(features, 5);

        Assert.Equal(3, picks[0]);
        Assert.Equal(ExpectedSecondPick(features, picks[0]), picks[1]);
        Assert.Equal([0, 1, 2, 3, 4], picks.Order());
    }

    [Fact]
    public void Herd_Scale_IsIgnoredBecauseFeaturesAreNormalised()
    {
        var features = new[] { new float[] { 1, 0 }, [0, 1], [10, 10], [0.1f, 0.09f] };

        var picks = MemorySelection.Herd(features, 1);

        Assert.Equal(2, picks[0]);
    }

    [Fact]
    public void Select_Random_SameSeedSameClipsAndAnotherSeedOthers()
    {
        var candidates = Enumerable.Range(0, 60).Select(i => new MemorySelection.Candidate(i % 3 == 0 ? "dog" : "cat", -1)).ToArray();

        var first = MemorySelection.Select(candidates, 10, MemorySelection.Random, null, seed: 4);
        var again = MemorySelection.Select(candidates, 10, MemorySelection.Random, null, seed: 4);
        var other = MemorySelection.Select(candidates, 10, MemorySelection.Random, null, seed: 5);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(5, first.Count(i => candidates[i].Category == "cat"));
        Assert.Equal(5, first.Count(i => candidates[i].Category == "dog"));
        Assert.Equal(10, first.Distinct().Count());
    }

    [Fact]
    public void Select_OldCategoryWithoutNewClips_KeepsItsFirstExemplarsInStoredOrder()
    {
        // Old memory: 4 "dog" exemplars stored in herding order (ranks 0..3); new task: 6 "bird" clips.
        var candidates = new[] { 3, 1, 0, 2 }.Select(rank => new MemorySelection.Candidate("dog", rank))
            .Concat(Enumerable.Range(0, 6).Select(_ => new MemorySelection.Candidate("bird", -1)))
            .ToArray();
        var embeddings = Enumerable.Range(0, candidates.Length).Select(i => new float[] { 1, i }).ToArray();

        var chosen = MemorySelection.Select(candidates, 4, MemorySelection.Herding, embeddings, seed: 1);

        Assert.Equal(4, chosen.Length);
        Assert.Equal([2, 1], chosen.Where(i => candidates[i].Category == "dog"));
        Assert.Equal(2, chosen.Count(i => candidates[i].Category == "bird"));
    }

    [Theory]
    [InlineData(new[] { 5, 5, 5 }, 7, new[] { 3, 2, 2 })]
    [InlineData(new[] { 1, 10, 10 }, 9, new[] { 1, 4, 4 })]
    [InlineData(new[] { 2, 2 }, 9, new[] { 2, 2 })]
    [InlineData(new[] { 4, 4 }, 0, new[] { 0, 0 })]
    public void Quotas_EqualSharesCappedBySize_HandOnWhatASmallCategoryCannotUse(int[] sizes, int budget, int[] expected)
    {
        Assert.Equal(expected, MemorySelection.Quotas(sizes, budget));
    }

    [Theory]
    [InlineData("40", 40, 1000, 40)]
    [InlineData("1%", 0, 1000, 10)]
    [InlineData("0.5%", 0, 100, 1)]
    [InlineData("0", 0, 1000, 0)]
    public void MemoryBudget_Parse_ClipsOrPercentOfSeenClips(string text, int clips, int seen, int expected)
    {
        var budget = MemoryBudget.Parse(text);

        Assert.Equal(clips, budget.Clips);
        Assert.Equal(expected, budget.ClipsFor(seen));
        Assert.Equal(text, budget.ToString());
    }

    [Theory]
    [InlineData("ten")]
    [InlineData("-1")]
    [InlineData("150%")]
    public void MemoryBudget_Parse_Invalid_Throws(string text)
    {
        Assert.Throws<ArgumentException>(() => MemoryBudget.Parse(text));
    }

    private static int ExpectedSecondPick(float[][] features, int first)
    {
        var mean = new double[2];
        foreach (var f in features)
        {
            mean[0] += f[0] / features.Length;
            mean[1] += f[1] / features.Length;
        }

        return Enumerable.Range(0, features.Length).Where(i => i != first)
            .MinBy(i => Math.Pow(mean[0] - ((features[first][0] + features[i][0]) / 2), 2) + Math.Pow(mean[1] - ((features[first][1] + features[i][1]) / 2), 2));
    }
}
