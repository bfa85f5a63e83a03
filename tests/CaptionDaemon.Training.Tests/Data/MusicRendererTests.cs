using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Tests.Data;

/// <summary>
/// Renders two phrases each of three instruments from the real TimGM6mb soundfont (a 5 MB Debian package, fetched
/// with apt-get download) with the real fluidsynth, once for the class, into a sounds folder whose index already
/// holds a row of data fetch and a stale music row.
/// </summary>
public sealed class MusicRenderFixture : IAsyncLifetime
{
    public const string Package = "timgm6mb-soundfont";
    public const int Phrases = 2;
    public static readonly string[] Categories = ["piano", "acoustic_guitar", "drums"];

    private readonly TestFiles _files = new();

    public string Directory => _files.PathOf("sounds");

    internal SoundIndexEntry ForeignRow { get; } = new()
    {
        Id = "qabcs-data/noises/dog",
        File = "audio/qabcs-data/noises/dog.wav",
        Package = "qabcs-data",
        SourcePath = "usr/share/qabcs/abcs/all/noises/dog.ogg",
        Category = "dog",
        Caption = "a dog barks",
        Group = "ENV",
        License = "GPL-3+ (qabcs)",
        CopyrightFile = "copyright/qabcs-data.txt",
        SampleRate = 16000,
        DurationSeconds = 1.25,
        Split = "train",
        ContentHash = "00112233445566778899aabbccddeeff",
    };

    internal MusicRenderReport FirstRun { get; private set; } = null!;

    internal static MusicRenderOptions Options(string directory, int seed = 1, params string[] categories) => new()
    {
        OutputDirectory = directory,
        Soundfonts = [Package],
        Categories = categories.Length > 0 ? categories : Categories,
        PhrasesPerInstrument = Phrases,
        Seed = seed,
    };

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var stale = ForeignRow with { Id = Package + "/old", Package = Package, Category = "piano", Group = "MUS" };
        SoundIndex.Write(Directory, [ForeignRow, stale]);
        FirstRun = await new MusicRenderer(Options(Directory), TextWriter.Null).RenderAsync(CancellationToken.None);
        Assert.True(FirstRun.Failures.Count == 0, "rendering failed: " + string.Join("; ", FirstRun.Failures));
    }

    public Task DisposeAsync()
    {
        _files.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class MusicRendererTests(MusicRenderFixture music) : IClassFixture<MusicRenderFixture>, IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void SplitOf_DefaultSoundfonts_OneHeldOutForValidationAndOneForTest()
    {
        var options = new MusicRenderOptions { OutputDirectory = "unused" };

        Assert.Equal(
            ["train", "train", "train", "val", "test"],
            MusicRenderOptions.DefaultSoundfonts.Select(options.SplitOf));
        Assert.Equal("train", options.SplitOf("some-other-soundfont"));
    }

    [Fact]
    public void Render_RealSoundfont_WritesAudible16kMonoPhrasesOfTwoToSixSeconds()
    {
        var entries = SoundIndex.Load(music.Directory).Where(e => e.Package == MusicRenderFixture.Package).ToList();

        Assert.Equal(MusicRenderFixture.Categories.Order(), entries.Select(e => e.Category).Distinct().Order());
        Assert.Equal(MusicRenderFixture.Categories.Length * MusicRenderFixture.Phrases, entries.Count);
        Assert.All(entries, e =>
        {
            var path = Path.Combine(music.Directory, e.File);
            Assert.Equal(new WavInfo(16000, 1, 16, WavFile.ReadInfo(path).Frames), WavFile.ReadInfo(path));
            Assert.InRange(e.DurationSeconds, 2.0, 6.0);
            var samples = WavFile.TryReadMono16(path, 16000)!;
            var peak = samples.Max(Math.Abs);
            var rms = Math.Sqrt(samples.Average(s => (double)s * s));
            Assert.InRange(peak, 0.69, 0.72);
            Assert.True(rms > 0.01, $"{e.Id} is nearly silent (RMS {rms:0.0000})");
            // Audible to the end of the notes: the second half of a phrase is not silence either.
            var half = samples.AsSpan(samples.Length / 2, samples.Length / 4).ToArray();
            Assert.True(half.Max(Math.Abs) > 0.01, $"{e.Id} falls silent in its second half");
        });
    }

    [Fact]
    public void Render_RealSoundfont_IndexRowsCarryMusicGroupTestSplitLicenceAndHash()
    {
        var entries = SoundIndex.Load(music.Directory).Where(e => e.Package == MusicRenderFixture.Package).ToList();

        Assert.All(entries, e =>
        {
            Assert.Equal("MUS", e.Group);
            Assert.Equal("test", e.Split);
            Assert.Equal("GPL-2", e.License);
            Assert.Equal("copyright/timgm6mb-soundfont.txt", e.CopyrightFile);
            Assert.Matches("^TimGM6mb\\.sf2#(program|kit) [0-9]+ phrase [0-9]+$", e.SourcePath);
            Assert.Equal(WavFile.ContentHash(Path.Combine(music.Directory, e.File)), e.ContentHash);
            Assert.Matches("^[0-9a-f]{32}$", e.ContentHash!);
        });
        Assert.Equal(entries.Count, entries.Select(e => e.ContentHash).Distinct().Count());
        Assert.Contains("Tim Brechbill", File.ReadAllText(Path.Combine(music.Directory, "copyright", "timgm6mb-soundfont.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_IndexWithOtherPackages_KeepsTheirRowsAndReplacesItsOwn()
    {
        var entries = SoundIndex.Load(music.Directory);

        Assert.Equal(music.ForeignRow, entries[0]);
        Assert.DoesNotContain(entries, e => e.Id == MusicRenderFixture.Package + "/old");
        Assert.Equal(1 + (MusicRenderFixture.Categories.Length * MusicRenderFixture.Phrases), entries.Count);
    }

    [Fact]
    public async Task Render_SecondRun_RendersNothingAndWritesTheSameIndex()
    {
        var before = File.ReadAllBytes(Path.Combine(music.Directory, SoundIndex.FileName));
        var wav = Path.Combine(music.Directory, MusicRenderer.RelativeWavPath(MusicRenderFixture.Package, "piano", 0));
        var written = File.GetLastWriteTimeUtc(wav);

        var report = await new MusicRenderer(MusicRenderFixture.Options(music.Directory), TextWriter.Null).RenderAsync(CancellationToken.None);

        Assert.Equal(0, report.PhrasesRendered);
        Assert.Equal(new[] { MusicRenderFixture.Package }, report.PackagesUpToDate);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(music.Directory, SoundIndex.FileName)));
        Assert.Equal(written, File.GetLastWriteTimeUtc(wav));
    }

    [Fact]
    public async Task Render_SameSeedElsewhere_GivesTheSameSamplesAndAnotherSeedDoesNot()
    {
        var same = _files.PathOf("same");
        var other = _files.PathOf("other");

        await new MusicRenderer(MusicRenderFixture.Options(same, 1, "drums"), TextWriter.Null).RenderAsync(CancellationToken.None);
        await new MusicRenderer(MusicRenderFixture.Options(other, 2, "drums"), TextWriter.Null).RenderAsync(CancellationToken.None);

        string[] Hashes(string directory) => SoundIndex.Load(directory).Select(e => e.ContentHash!).ToArray();
        var original = SoundIndex.Load(music.Directory).Where(e => e.Category == "drums").Select(e => e.ContentHash!).ToArray();
        Assert.Equal(original, Hashes(same));
        Assert.Empty(original.Intersect(Hashes(other)));
    }

    public void Dispose() => _files.Dispose();
}
