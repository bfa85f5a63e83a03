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

    private static SoundIndexEntry Entry(string id, string category) => new()
    {
        Id = id,
        File = $"audio/{id}.wav",
        Package = "p",
        SourcePath = id,
        Category = category,
        Caption = category,
        Group = "ENV",
        License = "GPL",
        CopyrightFile = "copyright/p.txt",
        Split = "train",
    };
}
