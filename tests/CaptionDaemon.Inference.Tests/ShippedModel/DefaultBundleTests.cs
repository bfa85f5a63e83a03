using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Inference.Tests.ShippedModel;

/// <summary>The bundle the project ships (<c>models/default</c>) loads, validates and captions its own sample scenes.</summary>
public sealed class DefaultBundleTests
{
    private static string DefaultBundleDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CaptionDaemon.sln")))
            {
                return Path.Combine(directory.FullName, "models", "default");
            }
        }

        throw new DirectoryNotFoundException($"No CaptionDaemon.sln above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public void Load_ShippedBundle_ListsItsLabelsCarriesACalibratedConfidenceAndRecordsItsMetrics()
    {
        using var bundle = CaptionBundle.Load(DefaultBundleDirectory(), new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        var manifest = bundle.Manifest;

        // The default runs on the tagging encoder (issue 15): its labels, 'speech' and 'nothing' among them.
        Assert.True(manifest.Labels.Count >= 100, $"{manifest.Labels.Count} labels");
        Assert.Contains(manifest.Labels, l => l.Name == "speech");
        Assert.Contains(manifest.Labels, l => l.Name == CaptionDaemon.Inference.Bundles.BundleLabel.Nothing);
        Assert.NotNull(manifest.Training["encoder"]?.GetValue<string>());

        // Calibrated on the val split by 'captiond-train calibrate', with the recommended minimum the daemon uses by default.
        Assert.NotNull(manifest.Confidence);
        Assert.InRange(manifest.Confidence.MinConfidence ?? -1, 1e-6, 0.5);
        Assert.NotNull(manifest.Training["calibration"]);

        // 'eval --record' wrote the test metrics.
        var ciderD = manifest.Training["metrics"]?["cider_d"]?.GetValue<double>();
        Assert.NotNull(ciderD);
        Assert.InRange(ciderD.Value, 0.0, 10.0);
        Assert.True(File.Exists(Path.Combine(bundle.Directory, "NOTICE")), "the shipped bundle must credit its recordings");
    }

    [Fact]
    public void Caption_ShippedSamples_GivesFinishedCaptionsThatDependOnTheAudio()
    {
        var directory = DefaultBundleDirectory();
        using var bundle = CaptionBundle.Load(directory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        using var captioner = bundle.CreateCaptioner();
        var samples = Directory.GetFiles(Path.Combine(directory, "samples"), "*.wav").Order(StringComparer.Ordinal).ToArray();
        Assert.True(samples.Length >= 4, "models/default/samples holds the demo scenes");
        var window = bundle.WindowSamples;
        var audio = new float[samples.Length * window];
        for (var i = 0; i < samples.Length; i++)
        {
            var decoded = AudioDecoder.Decode(samples[i], bundle.Manifest.SampleRate);
            decoded.AsSpan(0, Math.Min(decoded.Length, window)).CopyTo(audio.AsSpan(i * window, window));
        }

        var results = captioner.Caption(audio, samples.Length);

        Assert.All(results, result =>
        {
            Assert.True(result.Ended, $"'{result.Text}' was cut at the length limit");
            Assert.InRange(result.TokenIds.Count, 2, bundle.Manifest.MaxCaptionTokens - 1);
            Assert.InRange(result.SequenceConfidence, 0.01f, 1f);
            Assert.InRange(result.Confidence, 0f, 1f);
        });
        Assert.True(results.Select(r => r.Text).Distinct().Count() >= samples.Length / 2, string.Join(" | ", results.Select(r => r.Text)));
    }
}
