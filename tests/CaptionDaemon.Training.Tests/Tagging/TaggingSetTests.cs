using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Tagging;

namespace CaptionDaemon.Training.Tests.Tagging;

public sealed class TaggingSetTests
{
    /// <summary>Train recordings: 90 of "speech", 9 of "dog", 1 of "cat".</summary>
    private static readonly SoundIndexEntry[] Entries =
    [
        .. Enumerable.Range(0, 90).Select(i => Entry($"s{i}", "speech")),
        .. Enumerable.Range(0, 9).Select(i => Entry($"d{i}", "dog")),
        Entry("c0", "cat"),
    ];

    [Theory]
    [InlineData(0.0, 0.90, 0.09, 0.01)]   // as the split has them
    [InlineData(0.5, 0.7034, 0.2224, 0.0741)] // n^0.5: 9.49, 3 and 1 of 13.49
    [InlineData(1.0, 1 / 3.0, 1 / 3.0, 1 / 3.0)] // every category alike
    public void SampleBalanced_Exponent_GivesEachCategoryItsCountToTheOneMinusExponent(double exponent, double speech, double dog, double cat)
    {
        var labels = TaggingSet.LabelsOf(Entries);
        var set = TaggingSet.Of("/sounds", Entries, "train", labels, exponent);

        var draws = set.SampleBalanced(60_000, new Random(3));

        double Share(string category) => draws.Count(d => set.Recordings[d].Category == category) / (double)draws.Length;
        Assert.Equal(speech, Share("speech"), 2);
        Assert.Equal(dog, Share("dog"), 2);
        Assert.Equal(cat, Share("cat"), 2);
    }

    [Fact]
    public void SampleBalanced_BalancingPackages_SplitsACategorysDrawsEvenlyOverItsPackagesAndKeepsItsShare()
    {
        // dog: 8 recordings from package a, 1 from package b; cat: 1 from a. Exponent 1: each category half the draws.
        SoundIndexEntry[] entries =
        [
            .. Enumerable.Range(0, 8).Select(i => Entry($"a{i}", "dog", "a")),
            Entry("b0", "dog", "b"),
            Entry("c0", "cat", "a"),
        ];
        var labels = TaggingSet.LabelsOf(entries);
        var plain = TaggingSet.Of("/sounds", entries, "train", labels, 1.0);
        var balanced = TaggingSet.Of("/sounds", entries, "train", labels, 1.0, balancePackages: true);

        static double Share(TaggingSet set, Func<TaggedRecording, bool> which)
        {
            var draws = set.SampleBalanced(60_000, new Random(5));
            return draws.Count(d => which(set.Recordings[d])) / (double)draws.Length;
        }

        Assert.Equal(0.5, Share(balanced, r => r.Category == "cat"), 2);
        Assert.Equal(0.25, Share(balanced, r => r.Id == "b0"), 2);          // half of dog's half
        Assert.Equal(0.5 / 9, Share(plain, r => r.Id == "b0"), 2);          // one of dog's nine recordings
        Assert.Equal("b", balanced.Recordings.Single(r => r.Id == "b0").Package);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Validate_BalanceExponentOutsideZeroToOne_NamesTheOption(double exponent)
    {
        var options = new TaggerOptions { SoundsDirectory = "/s", OutputDirectory = "/o", BalanceExponent = exponent };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("--balance-exponent", ex.Message, StringComparison.Ordinal);
    }

    private static SoundIndexEntry Entry(string id, string category, string package = "p") => new()
    {
        Id = id,
        File = $"audio/{id}.wav",
        Package = package,
        SourcePath = id,
        Category = category,
        Caption = category,
        Group = "ENV",
        License = "GPL",
        CopyrightFile = "copyright/p.txt",
        Split = "train",
    };
}
