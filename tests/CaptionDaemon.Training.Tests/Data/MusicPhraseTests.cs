using System.Buffers.Binary;
using System.Text;
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

    [Fact]
    public void CopyrightLicense_FileNamedInALaterStanza_TakesThatStanzasLicence()
    {
        // denemo-data's layout: the package's own files first, the soundfont in a stanza of its own further down.
        const string text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n\n"
            + "Files: soundfonts/A320U.sf2\nCopyright: 2005 Milton Paredes\nLicense: GPL-2\n\nFiles: debian/*\nLicense: GPL-3+\n";

        Assert.Equal("GPL-2", DebianCopyright.License(text, "A320U.sf2"));
        Assert.Equal("GPL-3+", DebianCopyright.License(text, "Other.sf2"));
        Assert.Equal("GPL-3+", DebianCopyright.License(text));
    }

    [Fact]
    public void SoundFontPresets_Read_GivesBankProgramAndNameOfEachHeaderButTheTerminal()
    {
        using var files = new TestFiles();
        var path = WriteBytes(files, "t.sf2", SoundFont(("Grand Piano", 0, 0), ("Standard", 128, 0), ("Cello", 0, 42)));

        var presets = SoundFontPresets.Read(path);

        Assert.Equal([new SoundFontPreset(0, 0, "Grand Piano"), new SoundFontPreset(128, 0, "Standard"), new SoundFontPreset(0, 42, "Cello")], presets);
    }

    [Fact]
    public void SoundFontPresets_NotASoundFont_ThrowsNamingTheFile()
    {
        using var files = new TestFiles();
        var path = WriteBytes(files, "x.sf2", Encoding.ASCII.GetBytes("RIFF\u0004\0\0\0WAVE"));

        var ex = Assert.Throws<InvalidDataException>(() => SoundFontPresets.Read(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a SoundFont 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingPreset_DrumOnlySoundfont_RefusesMelodicInstrumentsAndTakesTheKitFromBank128()
    {
        var table = InstrumentTable.Load(InstrumentTable.BundledPath);
        var piano = table.Single(i => i.Category == "piano");
        var drums = table.Single(i => i.Category == "drums");
        SoundFontPreset[] drumOnly = [new(128, drums.Program, "Kit")];

        var missing = MusicRenderer.MissingPreset(drumOnly, piano, "Kit.sf2");

        Assert.NotNull(missing);
        Assert.Contains("Kit.sf2 has no preset for bank 0 program 0", missing, StringComparison.Ordinal);
        Assert.Null(MusicRenderer.MissingPreset(drumOnly, drums, "Kit.sf2"));
        Assert.NotNull(MusicRenderer.MissingPreset([new(0, drums.Program, "Piano")], drums, "Piano.sf2"));
    }

    private static string WriteBytes(TestFiles files, string relative, byte[] bytes)
    {
        var path = files.PathOf(relative);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A minimal SoundFont 2: RIFF sfbk with an empty INFO and sdta list and a pdta list holding only phdr.</summary>
    private static byte[] SoundFont(params (string Name, int Bank, int Program)[] presets)
    {
        var phdr = new MemoryStream();
        foreach (var (name, bank, program) in presets.Append(("EOP", 0, 0)))
        {
            var record = new byte[38];
            Encoding.ASCII.GetBytes(name).CopyTo(record, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(20), (ushort)program);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(22), (ushort)bank);
            phdr.Write(record);
        }

        var body = new MemoryStream();
        body.Write(Encoding.ASCII.GetBytes("sfbk"));
        body.Write(List("INFO", []));
        body.Write(List("sdta", Chunk("smpl", new byte[6])));
        body.Write(List("pdta", Chunk("phdr", phdr.ToArray())));
        return Chunk("RIFF", body.ToArray());

        static byte[] List(string type, byte[] content) => Chunk("LIST", [.. Encoding.ASCII.GetBytes(type), .. content]);

        static byte[] Chunk(string id, byte[] content)
        {
            var chunk = new byte[8 + content.Length + (content.Length & 1)];
            Encoding.ASCII.GetBytes(id).CopyTo(chunk, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), (uint)content.Length);
            content.CopyTo(chunk, 8);
            return chunk;
        }
    }
}
