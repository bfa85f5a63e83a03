using CaptionDaemon.Contracts;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Tests.Scheduling;

/// <summary>The daemon's pipeline on a bundle with labels: every published caption carries its window's labels.</summary>
public sealed class LabelledPipelineTests
{
    private static readonly DateTimeOffset _t0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Run_LabelledBundle_PublishedCaptionsCarryTheLabelsTheBundleGivesTheirWindows()
    {
        await using var host = await PipelineHost.StartAsync(new Dictionary<string, string?>
        {
            ["Model:Path"] = RepositoryFiles.LabelledBundle,
            ["Windowing:HopSeconds"] = "1",
            ["Scheduler:QueueCapacity"] = "64",
            ["Captions:SuppressRepeats"] = "false",
        });
        var scene = WavFile.Read(RepositoryFiles.Samples[0]).Samples;
        host.Services.GetRequiredService<SourceWindowerFactory>().Create("kitchen", AudioFormat.Mono16k).Append(scene, _t0);

        // 10 s of audio in 1 s windows every second: 10 windows, each published, suppressed or gated as silence.
        Assert.True(
            await Eventually.TrueAsync(() => host.Recorder.Sum("captiond.windows.processed") + host.Recorder.Sum("captiond.windows.dropped") >= 10, TimeSpan.FromMinutes(1)),
            $"{host.Recorder.Sum("captiond.windows.processed")} windows processed");
        await Eventually.TrueAsync(() => host.Outlet.Captions.Count + host.Recorder.Sum("captiond.captions.suppressed") >= 10, TimeSpan.FromSeconds(10));
        var captions = host.Outlet.Captions;
        Assert.NotEmpty(captions);

        // The same windows through the inference library directly.
        using var bundle = CaptionBundle.Load(RepositoryFiles.LabelledBundle, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
        using var captioner = bundle.CreateCaptioner();
        var rate = bundle.Manifest.SampleRate;
        foreach (var caption in captions)
        {
            var offset = (int)Math.Round((caption.Start - _t0).TotalSeconds * rate);
            var expected = captioner.Caption(scene.AsSpan(offset, bundle.WindowSamples), 1, DecodeOptions.Greedy)[0].Labels;

            Assert.Equal(expected.Select(l => (l.Label, l.Display)), caption.Labels.Select(l => (l.Label, l.Display)));
            Assert.All(expected.Zip(caption.Labels), pair => Assert.Equal(pair.First.Score, pair.Second.Score, 5));
            Assert.DoesNotContain(caption.Labels, l => l.Label == BundleLabel.Nothing);
        }

        Assert.Contains(captions, c => c.Labels.Count > 0);
    }
}
