using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Tests.Data;

/// <summary>
/// One real package of the sound catalog (ufoai-sound: 42 recordings, most inside a .pk3 zip, with steady ambiences
/// and short events), fetched for real with apt-get once and cached outside bin in ~/.cache/captiond/test-sounds, so
/// later runs only check that it is up to date.
/// </summary>
public sealed class TestSoundsFixture : IAsyncLifetime
{
    public const string Package = "ufoai-sound";

    public string Directory { get; } = Path.Combine(SoundFetcher.CacheRoot(), "test-sounds");

    internal SoundFetchReport FirstRun { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var options = new SoundFetchOptions
        {
            OutputDirectory = Directory,
            CatalogPath = SoundCatalog.BundledPath,
            Packages = [Package],
        };
        FirstRun = await new SoundFetcher(options, TextWriter.Null).FetchAsync(CancellationToken.None);
        Assert.True(FirstRun.Failures.Count == 0, "fetching the test package failed: " + string.Join("; ", FirstRun.Failures));
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class TestSoundsCollection : ICollectionFixture<TestSoundsFixture>
{
    public const string Name = "Real test sounds";
}
