using CaptionDaemon.Contracts;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Tests.Scheduling;

/// <summary>
/// The daemon's pipeline on a calibrated bundle (the labelled test bundle with a <c>confidence</c> block): without
/// <c>Captions:MinConfidence</c> it publishes only captions at or above the bundle's recommended minimum; with it, the
/// configured value rules.
/// </summary>
public sealed class CalibratedPipelineTests : IDisposable
{
    private static readonly DateTimeOffset _t0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _bundle = RepositoryFiles.CopyBundle(RepositoryFiles.LabelledBundle);

    public void Dispose() => Directory.Delete(_bundle, recursive: true);

    [Fact]
    public async Task Run_MinConfidenceUnset_PublishesOnlyCaptionsAtOrAboveTheBundlesRecommendation()
    {
        var (scene, confidences, recommended) = Calibrate();

        var (captions, lowConfidence) = await RunAsync(scene, minConfidence: null);

        var expected = confidences.Count(c => c >= recommended);
        Assert.InRange(expected, 1, confidences.Length - 1); // the recommendation splits the windows: the test can fail either way
        Assert.Equal(expected, captions.Count);
        Assert.Equal(confidences.Length - expected, lowConfidence);
        Assert.All(captions, c => Assert.True(c.Confidence >= recommended, $"{c.Confidence} published below {recommended}"));
        Assert.All(captions, c => Assert.Equal(confidences[WindowIndex(c)], c.Confidence, 5));
    }

    [Fact]
    public async Task Run_MinConfidenceConfigured_OverridesTheBundlesRecommendation()
    {
        var (scene, confidences, _) = Calibrate();

        var (captions, lowConfidence) = await RunAsync(scene, minConfidence: "0");

        Assert.Equal(confidences.Length, captions.Count);
        Assert.Equal(0, lowConfidence);
    }

    /// <summary>
    /// Gives the bundle copy a confidence block and, as its recommendation, a value midway between two of the calibrated
    /// confidences of the scene's 1 s windows (as the inference library gives them), so that some windows pass and some do not.
    /// </summary>
    private (float[] Scene, float[] Confidences, double Recommended) Calibrate()
    {
        var path = Path.Combine(_bundle, BundleManifest.FileName);
        var manifest = BundleManifest.Read(path);
        manifest = manifest with
        {
            Confidence = new BundleConfidence { Method = BundleConfidence.Logistic, Features = ["label_top", "sequence"], Weights = [2.0, 1.0], Bias = 0.5 },
        };
        manifest.Write(path);

        var scene = WavFile.Read(RepositoryFiles.Samples[0]).Samples;
        float[] confidences;
        using (var bundle = CaptionBundle.Load(_bundle, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 }))
        using (var captioner = bundle.CreateCaptioner())
        {
            var windows = scene.Length / bundle.WindowSamples;
            confidences = [.. captioner.Caption(scene.AsSpan(0, windows * bundle.WindowSamples), windows, DecodeOptions.Default).Select(r => r.Confidence)];
        }

        var sorted = confidences.Distinct().Order().ToArray();
        Assert.True(sorted.Length >= 2, "every window has the same calibrated confidence");
        var middle = sorted.Length / 2;
        var recommended = ((double)sorted[middle - 1] + sorted[middle]) / 2;
        (manifest with { Confidence = manifest.Confidence with { MinConfidence = recommended } }).Write(path);
        return (scene, confidences, recommended);
    }

    private async Task<(IReadOnlyList<Caption> Captions, long LowConfidence)> RunAsync(float[] scene, string? minConfidence)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Model:Path"] = _bundle,
            ["Windowing:HopSeconds"] = "1",
            ["Windowing:SilenceThresholdDbfs"] = string.Empty,
            ["Scheduler:QueueCapacity"] = "64",
            ["Captions:SuppressRepeats"] = "false",
        };
        if (minConfidence is not null)
        {
            settings["Captions:MinConfidence"] = minConfidence;
        }

        await using var host = await PipelineHost.StartAsync(settings);
        host.Services.GetRequiredService<SourceWindowerFactory>().Create("kitchen", AudioFormat.Mono16k).Append(scene, _t0);

        Assert.True(
            await Eventually.TrueAsync(() => host.Recorder.Sum("captiond.windows.processed") >= 10, TimeSpan.FromMinutes(1)),
            $"{host.Recorder.Sum("captiond.windows.processed")} windows processed");
        await Eventually.TrueAsync(() => host.Outlet.Captions.Count + host.Recorder.Sum("captiond.captions.suppressed") >= 10, TimeSpan.FromSeconds(10));
        return (host.Outlet.Captions, (long)host.Recorder.Sum("captiond.captions.suppressed", ("reason", "low_confidence")));
    }

    private static int WindowIndex(Caption caption) => (int)Math.Round((caption.Start - _t0).TotalSeconds);
}
