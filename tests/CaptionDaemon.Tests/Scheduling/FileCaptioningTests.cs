using CaptionDaemon.Contracts;
using CaptionDaemon.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Tests.Scheduling;

public sealed class FileCaptioningTests
{
    [Fact]
    public async Task RunAsync_RealScenesThroughATinyQueue_CaptionsEveryWindowOfEveryFileInOrder()
    {
        // A queue of 2 and batches of 4: the readers must wait for inference many times; nothing may be dropped.
        await using var host = await PipelineHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Windowing:HopSeconds"] = "2",
                ["Scheduler:MaxBatch"] = "4",
                ["Scheduler:QueueCapacity"] = "2",
                ["Scheduler:MaxWaitMilliseconds"] = "20",
            },
            startHostedServices: false);
        var captioning = host.Services.GetRequiredService<FileCaptioning>();
        var samples = RepositoryFiles.Samples;
        var sources = new List<IAudioSource>();
        foreach (var path in samples)
        {
            var (audio, rate, channels) = WavFile.Read(path);
            Assert.Equal((16000, 1), (rate, channels));

            // Each scene twice: 20 s, so windows start at 0, 2, ..., 10 s.
            sources.Add(new MemoryAudioSource(Path.GetFileName(path), AudioFormat.Mono16k, [.. audio, .. audio], 3000));
        }

        var (first, _, _) = WavFile.Read(samples[0]);
        sources.Add(new MemoryAudioSource("short.wav", AudioFormat.Mono16k, first[..48000], 5000));
        var captions = new List<WindowCaption>();

        await captioning.RunAsync(sources, caption =>
        {
            lock (captions)
            {
                captions.Add(caption);
            }
        }, CancellationToken.None);

        Assert.Equal((samples.Length * 6) + 1, captions.Count);
        foreach (var path in samples)
        {
            var mine = captions.Where(c => c.SourceId == Path.GetFileName(path)).ToList();
            Assert.Equal(Enumerable.Range(0, 6).Select(k => TimeSpan.FromSeconds(2 * k)), mine.Select(c => c.Offset));
        }

        var shortCaption = Assert.Single(captions, c => c.SourceId == "short.wav");
        Assert.Equal(TimeSpan.FromSeconds(3), shortCaption.End - shortCaption.Start);
        Assert.All(captions, c =>
        {
            Assert.NotEmpty(c.Result.Text);
            Assert.Equal(RepositoryFiles.DefaultModelName, c.Model);
        });
        Assert.Equal(0, host.Recorder.Sum("captiond.windows.dropped"));
        Assert.Equal(captions.Count, host.Recorder.Sum("captiond.windows.processed"));
        Assert.Contains(host.Recorder.Measurements("captiond.batch.size"), m => m.Value > 1);
    }

    [Fact]
    public async Task RunAsync_WindowShorterThanTheModels_CaptionsWindowsOfThatLengthPaddedToTheModel()
    {
        await using var host = await PipelineHost.StartAsync(
            new Dictionary<string, string?> { ["Windowing:HopSeconds"] = "2", ["Windowing:WindowSeconds"] = "4" },
            startHostedServices: false);
        var captioning = host.Services.GetRequiredService<FileCaptioning>();
        var (audio, _, _) = WavFile.Read(RepositoryFiles.Samples[0]);
        var captions = new List<WindowCaption>();

        var failures = await captioning.RunAsync(
            [new MemoryAudioSource("scene", AudioFormat.Mono16k, audio[..160000], 1600)],
            c => { lock (captions) captions.Add(c); },
            CancellationToken.None);

        Assert.Empty(failures);
        Assert.Equal(Enumerable.Range(0, 4).Select(k => TimeSpan.FromSeconds(2 * k)), captions.Select(c => c.Offset));
        Assert.All(captions, c => Assert.Equal(TimeSpan.FromSeconds(4), c.End - c.Start));
        Assert.All(captions, c => Assert.NotEmpty(c.Result.Text));
    }

    [Fact]
    public async Task Create_WindowLongerThanTheModels_RefusedNamingTheKey()
    {
        await using var host = await PipelineHost.StartAsync(
            new Dictionary<string, string?> { ["Windowing:WindowSeconds"] = "12" },
            startHostedServices: false);

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Services.GetRequiredService<FileCaptioning>());

        Assert.Contains("Windowing:WindowSeconds", error.Message, StringComparison.Ordinal);
        Assert.Contains("10 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SourceFails_ReturnsItsErrorWhileTheOthersAreCaptioned()
    {
        await using var host = await PipelineHost.StartAsync(new Dictionary<string, string?>(), startHostedServices: false);
        var captioning = host.Services.GetRequiredService<FileCaptioning>();
        IAudioSource[] sources = [new MemoryAudioSource("good", AudioFormat.Mono16k, new float[16000], 1600), new FailingSource()];

        var captions = new List<WindowCaption>();

        var failures = await captioning.RunAsync(sources, c => { lock (captions) captions.Add(c); }, CancellationToken.None);

        var failure = Assert.Single(failures);
        Assert.Equal("broken", failure.Key);
        Assert.IsType<IOException>(failure.Value);
        Assert.Equal("the file went away", failure.Value.Message);
        Assert.Contains(captions, c => c.SourceId == "good");
    }

    private sealed class FailingSource : IAudioSource
    {
        public string Id => "broken";

        public AudioFormat Format => AudioFormat.Mono16k;

        public async IAsyncEnumerable<AudioChunk> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            yield return new AudioChunk(new float[1600]);
            throw new IOException("the file went away");
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
