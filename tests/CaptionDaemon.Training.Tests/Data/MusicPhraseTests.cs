using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class MusicPhraseTests
{
    [Fact]
    public void InstrumentTableLoad_Bundled_HasThirtyDistinctSampledInstruments()
    {
        var table = InstrumentTable.Load(InstrumentTable.BundledPath);

        Assert.True(table.Count >= 30, $"{table.Count} instruments");
        Assert.Equal(table.Count, table.Select(x => x.Category).Distinct().Count());
        // Synth leads (80-87), pads (88-95), synth effects (96-103) and sound effects (120-127) are not instruments.
        Assert.DoesNotContain(table, x => !x.IsDrumKit && x.Program is (>= 80 and <= 103) or >= 120);
        Assert.Contains(table, x => x.IsDrumKit && x.Style == PhraseStyle.Drums);
        Assert.Contains(table, x => x.Category == "piano" && x.Program == 0);
    }

    [Fact]
    public void Compose_EveryInstrument_PhrasesLastTwoToFiveSecondsInsideTheRange()
    {
        foreach (var instrument in InstrumentTable.Load(InstrumentTable.BundledPath))
        {
            for (var k = 0; k < 25; k++)
            {
                var phrase = PhraseComposer.Compose(instrument, PhraseComposer.PhraseSeed(1, "fluid-soundfont-gm", instrument.Category, k));

                Assert.True(
                    phrase.Length >= PhraseComposer.ShortestSpanSeconds - 0.01 && phrase.Length <= PhraseComposer.LongestSpanSeconds + 0.3,
                    $"{instrument.Category} phrase {k} ({phrase.Pattern}) lasts {phrase.Length:0.00} s");
                Assert.All(phrase.Notes, n =>
                {
                    Assert.InRange(n.Key, instrument.LowNote, instrument.HighNote);
                    Assert.InRange(n.Velocity, 1, 127);
                    Assert.True(n.Start >= 0 && n.Duration > 0, $"{instrument.Category} phrase {k}: {n}");
                });
            }
        }
    }

    [Fact]
    public void Compose_SameSeed_SameNotesAndPhrasesVary()
    {
        var piano = InstrumentTable.Load(InstrumentTable.BundledPath).Single(x => x.Category == "piano");

        var phrases = Enumerable.Range(0, 20).Select(k => PhraseComposer.Compose(piano, PhraseComposer.PhraseSeed(1, "p", "piano", k))).ToList();
        var again = PhraseComposer.Compose(piano, PhraseComposer.PhraseSeed(1, "p", "piano", 0));

        Assert.Equal(phrases[0].Notes, again.Notes);
        Assert.True(phrases.Select(p => p.Pattern).Distinct().Count() >= 3, string.Join(", ", phrases.Select(p => p.Pattern)));
        Assert.True(phrases.Select(p => p.Notes.Count).Distinct().Count() >= 5);
    }

    [Fact]
    public void InstrumentTableParse_DuplicateCategory_NamesTheLine()
    {
        var text = "category\tprogram\tstyle\tlow\thigh\tcaption\npiano\t0\tchords\t36\t96\ta piano plays\npiano\t1\tchords\t36\t96\ta piano plays\n";

        var ex = Assert.Throws<CaptionDaemon.Training.Data.DatasetFormatException>(() => InstrumentTable.Parse(new StringReader(text), "t.tsv"));

        Assert.Contains("t.tsv line 3", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: debian/*\nLicense: GPL-3+\n\nFiles: TimGM6mb.sf2\nCopyright: 2004 Tim\nLicense: GPL-2\n text\n", "GPL-2")]
    [InlineData("Upstream Author: Frank Wen\n\nLicense:\n\n From README:\n  \"I hereby release Fluid under the MIT license, as described in COPYING.\"\n", "MIT")]
    public void CopyrightLicense_DebianCopyrightFile_NamesTheLicenceOfTheFiles(string text, string expected)
        => Assert.Equal(expected, DebianCopyright.License(text));
}
