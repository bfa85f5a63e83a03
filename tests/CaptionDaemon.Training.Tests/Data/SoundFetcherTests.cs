using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Data.Sounds.Labelling;

namespace CaptionDaemon.Training.Tests.Data;

[Collection(TestSoundsCollection.Name)]
public sealed class SoundFetcherTests(TestSoundsFixture sounds) : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void Fetch_RealPackage_ConvertsEveryListedRecordingTo16kMonoWav()
    {
        var catalog = SoundCatalog.Load(SoundCatalog.BundledPath);
        var listed = catalog.Recordings.Where(r => r.Package == TestSoundsFixture.Package).Select(r => r.Id).Order().ToList();

        var index = SoundIndex.Load(sounds.Directory);

        var entries = index.Where(e => e.Package == TestSoundsFixture.Package).ToList();
        // Silent recordings and copies of others are left out of the index, nothing else.
        Assert.Empty(entries.Select(e => e.Id).Except(listed));
        Assert.InRange(entries.Count, listed.Count * 9 / 10, listed.Count);
        Assert.Equal(entries.Count, entries.Select(e => e.ContentHash).Distinct().Count());
        Assert.All(entries, e => Assert.Equal("train", e.Split));
        Assert.All(entries, e =>
        {
            var info = WavFile.ReadInfo(Path.Combine(sounds.Directory, e.File));
            Assert.Equal(new WavInfo(16000, 1, 16, info.Frames), info);
            Assert.Equal(e.DurationSeconds, info.DurationSeconds, 3);
            Assert.True(info.DurationSeconds > 0.05, $"{e.Id} is {info.DurationSeconds} s");
        });
        Assert.Contains(entries, e => e.SourcePath.StartsWith("0snd.pk3:", StringComparison.Ordinal));
        var license = CatalogBuilder.LoadPackages(Path.Combine(LabelRules.BundledDirectory, CatalogBuilder.PackagesFileName))
            .Single(p => p.Name == TestSoundsFixture.Package).License;
        Assert.All(entries, e => Assert.Equal(license, e.License));
    }

    [Fact]
    public void Fetch_RealPackage_KeepsTheDebianCopyrightFile()
    {
        var copyright = File.ReadAllText(Path.Combine(sounds.Directory, SoundFetcher.CopyrightRelativePath(TestSoundsFixture.Package)));

        Assert.Contains("Copyright", copyright, StringComparison.Ordinal);
        Assert.Contains("License", copyright, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(sounds.Directory, SoundCatalog.FileName)));
    }

    [Fact]
    public async Task Fetch_SecondRun_IsUpToDateAndDownloadsNothing()
    {
        var options = new SoundFetchOptions
        {
            OutputDirectory = sounds.Directory,
            CatalogPath = SoundCatalog.BundledPath,
            Packages = [TestSoundsFixture.Package],
        };

        var report = await new SoundFetcher(options, TextWriter.Null).FetchAsync(CancellationToken.None);

        Assert.Equal(new[] { TestSoundsFixture.Package }, report.PackagesUpToDate);
        Assert.Empty(report.PackagesFetched);
        Assert.Equal(0, report.RecordingsConverted);
        Assert.False(Directory.Exists(Path.Combine(sounds.Directory, ".staging", TestSoundsFixture.Package)));
    }

    [Fact]
    public async Task Fetch_PackageOverSizeLimit_IsSkippedWithoutDownload()
    {
        var output = _files.PathOf("sized");
        var options = new SoundFetchOptions
        {
            OutputDirectory = output,
            CatalogPath = SoundCatalog.BundledPath,
            Packages = ["flightgear-data-base"],
            MaxPackageMegabytes = 1,
        };

        var report = await new SoundFetcher(options, TextWriter.Null).FetchAsync(CancellationToken.None);

        Assert.Equal(new[] { "flightgear-data-base" }, report.PackagesSkippedBySize);
        Assert.Equal(0, report.RecordingsInIndex);
        Assert.False(Directory.Exists(Path.Combine(output, "debs")) && Directory.EnumerateFiles(Path.Combine(output, "debs")).Any());
    }

    [Fact]
    public async Task Fetch_IndexWithMusicRows_KeepsRowsOfPackagesOutsideTheCatalog()
    {
        var output = _files.PathOf("shared");
        Directory.CreateDirectory(output);
        var music = new SoundIndexEntry
        {
            Id = "timgm6mb-soundfont/piano_000",
            File = "audio/timgm6mb-soundfont/piano_000.wav",
            Package = "timgm6mb-soundfont",
            SourcePath = "TimGM6mb.sf2#program 0 phrase 0",
            Category = "piano",
            Caption = "a piano plays",
            Group = "MUS",
            License = "GPL-2",
            CopyrightFile = "copyright/timgm6mb-soundfont.txt",
            Split = "test",
        };
        SoundIndex.Write(output, [music]);
        var options = new SoundFetchOptions
        {
            OutputDirectory = output,
            CatalogPath = SoundCatalog.BundledPath,
            Packages = ["flightgear-data-base"],
            MaxPackageMegabytes = 1,
        };

        var report = await new SoundFetcher(options, TextWriter.Null).FetchAsync(CancellationToken.None);

        Assert.Equal(new[] { music }, SoundIndex.Load(output));
        Assert.Equal(1, report.RecordingsInIndex);
    }

    [Fact]
    public async Task Fetch_UnknownPackage_ThrowsListingCatalogPackages()
    {
        var options = new SoundFetchOptions
        {
            OutputDirectory = _files.PathOf("unknown"),
            CatalogPath = SoundCatalog.BundledPath,
            Packages = ["no-such-sounds"],
        };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => new SoundFetcher(options, TextWriter.Null).FetchAsync(CancellationToken.None));

        Assert.Contains("no-such-sounds", ex.Message, StringComparison.Ordinal);
        Assert.Contains("qabcs-data", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CatalogLoad_Bundled_HasEveryRowWithUniqueIds()
    {
        var catalog = SoundCatalog.Load(SoundCatalog.BundledPath);

        Assert.True(catalog.Recordings.Count > 20000, $"{catalog.Recordings.Count} rows");
        Assert.Equal(catalog.Recordings.Count, catalog.Recordings.Select(r => r.Id).Distinct().Count());
        var member = catalog.Recordings.First(r => r.SourcePath == "0snd.pk3:sound/footsteps/gravel1.ogg");
        Assert.Equal("0snd.pk3", member.ArchiveName);
        Assert.Equal("sound/footsteps/gravel1.ogg", member.MemberPath);
        Assert.Equal("ufoai-sound/footsteps_gravel1", member.Id);
    }

    [Fact]
    public async Task Fetch_EqualAndSilentRecordings_KeepsTheHeldOutCopyOnly()
    {
        var output = _files.PathOf("dedupe");
        var catalog = _files.PathOf("dedupe/catalog.tsv");
        File.WriteAllText(catalog, """
            package	path	category	caption	group	license	split	speaker	sex	language
            fake-sounds	usr/share/fake/a.ogg	bird	a bird sings	ENV	GPL-2+	train			
            fake-sounds	usr/share/fake/b.ogg	bird	a bird sings	ENV	GPL-2+	test			
            fake-sounds	usr/share/fake/c.ogg	wind	wind blows	ENV	GPL-2+	train			
            fake-sounds	usr/share/fake/d.ogg	speech	a woman speaks	SPEECH	GPL-2+	train	fake-sounds:x	female	fr
            """);
        var tone = AudioDecoder.Decode(_files.Sine("tone.wav", 1.0, frequency: 700));
        var other = AudioDecoder.Decode(_files.Sine("other.wav", 1.0, frequency: 300));
        WavFile.Write(_files.PathOf("dedupe/audio/fake-sounds/a.wav"), tone, 16000, CancellationToken.None);
        WavFile.Write(_files.PathOf("dedupe/audio/fake-sounds/b.wav"), tone, 16000, CancellationToken.None);
        WavFile.Write(_files.PathOf("dedupe/audio/fake-sounds/c.wav"), new float[16000], 16000, CancellationToken.None);
        WavFile.Write(_files.PathOf("dedupe/audio/fake-sounds/d.wav"), other, 16000, CancellationToken.None);
        File.WriteAllText(_files.PathOf("dedupe/" + SoundFetcher.CopyrightRelativePath("fake-sounds")), "Copyright: nobody\nLicense: GPL-2+\n");

        var report = await new SoundFetcher(new SoundFetchOptions { OutputDirectory = output, CatalogPath = catalog, Packages = ["fake-sounds"] }, TextWriter.Null)
            .FetchAsync(CancellationToken.None);

        var index = SoundIndex.Load(output);
        Assert.Equal(["fake-sounds"], report.PackagesUpToDate);
        Assert.Equal(["fake-sounds/b", "fake-sounds/d"], index.Select(e => e.Id));
        Assert.Equal("test", index[0].Split);
        var speech = index[1];
        Assert.Equal(("fake-sounds:x", "female", "fr", "train"), (speech.Speaker, speech.Sex, speech.Language, speech.Split));
        Assert.Equal(WavFile.ContentHash(Path.Combine(output, speech.File)), speech.ContentHash);
    }

    public void Dispose() => _files.Dispose();
}
