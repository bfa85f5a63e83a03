using CaptionDaemon.Contracts;
using CaptionDaemon.Inference;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Tests.Scheduling;

public sealed class BatchSchedulerTests
{
    private static readonly DateTimeOffset _t0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Run_ThreeSourcesOfRealScenes_BatchesThemTogetherAndPublishesInOrderPerSource()
    {
        await using var host = await PipelineHost.StartAsync(new Dictionary<string, string?>
        {
            ["Windowing:HopSeconds"] = "2",
            ["Scheduler:MaxBatch"] = "8",
            ["Scheduler:MaxWaitMilliseconds"] = "2000",
            ["Scheduler:QueueCapacity"] = "64", // the test delivers 90 s of audio at once, far faster than real time
            ["Captions:SuppressRepeats"] = "false",
            ["Captions:MinConfidence"] = "0", // every window: this test counts batching, not the bundle's recommended minimum
        });
        var factory = host.Services.GetRequiredService<SourceWindowerFactory>();
        var samples = RepositoryFiles.Samples;
        string[] ids = ["kitchen", "porch", "garage"];
        var audio = ids.Select((_, s) => samples.Skip(s * 2).Take(3).SelectMany(p => WavFile.Read(p).Samples).ToArray()).ToArray();
        var windowers = ids.Select(id => factory.Create(id, AudioFormat.Mono16k)).ToArray();

        // Half-second chunks of the three sources in turn, as three capture threads would deliver them.
        for (var offset = 0; offset < audio[0].Length; offset += 8000)
        {
            for (var s = 0; s < ids.Length; s++)
            {
                windowers[s].Append(audio[s].AsSpan(offset, Math.Min(8000, audio[s].Length - offset)), offset == 0 ? _t0 : null);
            }
        }

        // 30 s of audio per source, 10 s windows every 2 s: 11 windows each.
        Assert.True(
            await Eventually.TrueAsync(() => host.Outlet.Captions.Count + host.Recorder.Sum("captiond.windows.dropped") >= 33, TimeSpan.FromMinutes(2)),
            $"{host.Outlet.Captions.Count} captions");
        var captions = host.Outlet.Captions;
        Assert.Equal(33, captions.Count);
        foreach (var id in ids)
        {
            var mine = captions.Where(c => c.SourceId == id).ToList();
            Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), mine.Select(c => c.Sequence));
            Assert.Equal(Enumerable.Range(0, 11).Select(k => _t0 + TimeSpan.FromSeconds(2 * k)), mine.Select(c => c.Start));
            Assert.All(mine, c =>
            {
                Assert.Equal(c.Start + TimeSpan.FromSeconds(10), c.End);
                Assert.False(string.IsNullOrWhiteSpace(c.Text));
                Assert.Equal(RepositoryFiles.DefaultModelName, c.Model);
                Assert.InRange(c.Confidence, 0.0, 1.0); // calibrated: a window the model is unsure of may score near 0
            });
        }

        var batchSizes = host.Recorder.Measurements("captiond.batch.size").Select(m => m.Value).ToList();
        Assert.Contains(batchSizes, size => size > 1);
        Assert.Equal(33, batchSizes.Sum());
        Assert.All(ids, id => Assert.Equal(11, host.Recorder.Sum("captiond.windows.processed", ("source", id))));
        Assert.Equal(batchSizes.Count, host.Recorder.Measurements("captiond.inference.duration").Count);
        Assert.Equal(0, host.Recorder.Sum("captiond.windows.dropped"));

        // The scenes differ, so the captions should too: the windows were not mixed up or zeroed.
        Assert.True(captions.Select(c => c.Text).Distinct().Count() >= 3, string.Join(" | ", captions.Select(c => c.Text).Distinct()));
    }

    [Fact]
    public async Task Run_SameSceneRepeatedWithDefaults_SuppressesRepeatsButKeepsSequenceContinuous()
    {
        await using var host = await PipelineHost.StartAsync(new Dictionary<string, string?> { ["Windowing:HopSeconds"] = "10" });
        var factory = host.Services.GetRequiredService<SourceWindowerFactory>();
        var scene = WavFile.Read(RepositoryFiles.Samples[0]).Samples;
        var windower = factory.Create("loop", AudioFormat.Mono16k);

        for (var i = 0; i < 4; i++)
        {
            windower.Append(scene, null);
        }

        Assert.True(await Eventually.TrueAsync(
            () => host.Recorder.Sum("captiond.windows.processed") >= 4, TimeSpan.FromMinutes(2)));
        Assert.True(await Eventually.TrueAsync(
            () => host.Outlet.Captions.Count + host.Recorder.Sum("captiond.captions.suppressed") >= 4, TimeSpan.FromSeconds(10)));

        // Four identical windows: one caption, three repeats held back.
        var caption = Assert.Single(host.Outlet.Captions);
        Assert.Equal(1, caption.Sequence);
        Assert.Equal(3, host.Recorder.Sum("captiond.captions.suppressed", ("reason", "repeat"), ("source", "loop")));
    }

    [Fact]
    public async Task Run_InferenceFails_LogsTheBatchSourcesCountsItsWindowsAndGoesOn()
    {
        using var recorder = new MetricsRecorder();
        var runtime = new ModelRuntime(
            Options.Create(new ModelOptions { Path = RepositoryFiles.DefaultModel, ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 }),
            recorder.Metrics,
            NullLogger<ModelRuntime>.Instance,
            TimeProvider.System);
        var captioner = new WindowCaptioner(runtime, Options.Create(new SchedulerOptions()));
        runtime.Dispose(); // from now on every run fails: the model is gone
        var pool = new WindowBufferPool(runtime.WindowSamples, 8);
        var queue = new ReadyWindowQueue(8, QueueFullMode.DropOldest, pool, recorder.Metrics, NullLogger.Instance, TimeProvider.System);
        var logger = new CapturingLogger<BatchScheduler>();
        var captioned = 0;
        using var scheduler = new BatchScheduler(
            queue, captioner, new CountingHandler(() => captioned++), Options.Create(new SchedulerOptions()), recorder.Metrics, logger, TimeProvider.System);
        queue.Enqueue(new ReadyWindow("barn", pool.Rent(), _t0, _t0, 0, TimeProvider.System.GetTimestamp()));
        queue.Enqueue(new ReadyWindow("attic", pool.Rent(), _t0, _t0, 0, TimeProvider.System.GetTimestamp()));

        await scheduler.StartAsync(CancellationToken.None);
        Assert.True(await Eventually.TrueAsync(() => recorder.Sum("captiond.windows.dropped", ("reason", "inference_error")) == 2, TimeSpan.FromSeconds(30)));
        queue.Enqueue(new ReadyWindow("cellar", pool.Rent(), _t0, _t0, 0, TimeProvider.System.GetTimestamp()));
        Assert.True(await Eventually.TrueAsync(() => recorder.Sum("captiond.windows.dropped", ("reason", "inference_error")) == 3, TimeSpan.FromSeconds(30)));
        await scheduler.StopAsync(CancellationToken.None);

        Assert.Equal(0, captioned);
        Assert.Equal(1, recorder.Sum("captiond.windows.dropped", ("reason", "inference_error"), ("source", "cellar")));
        var errors = logger.Entries.Where(e => e.Level == LogLevel.Error).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains("attic, barn", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal(2, pool.Available); // both buffers back (the third window reused one)
        Assert.Equal(2, scheduler.BatchesRun);
    }

    private sealed class CountingHandler(Action onCaptioned) : ICaptionedWindowHandler
    {
        public void OnCaptioned(in ReadyWindow window, CaptionResult result, string model, double? recommendedMinConfidence, IReadOnlyList<CaptionDaemon.Inference.Bundles.BundleLabel>? modelLabels = null) => onCaptioned();
    }
}
