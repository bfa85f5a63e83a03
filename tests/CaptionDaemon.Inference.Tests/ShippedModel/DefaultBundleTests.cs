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
    public void Load_ShippedBundle_RecordsItsDistillationTeacherMetricsAndSpeedup()
    {
        using var bundle = CaptionBundle.Load(DefaultBundleDirectory(), new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });

        // The keys the knowledge-distillation issue promises to scripts: training.method, training.metrics.cider_d,
        // training.teacher.metrics.cider_d and training.speedup_vs_teacher.
        var training = bundle.Manifest.Training;
        Assert.StartsWith("sup+seq", training["method"]?.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(training["teacher"]?["name"]?.GetValue<string>());
        var ciderD = training["metrics"]?["cider_d"]?.GetValue<double>();
        var teacherCiderD = training["teacher"]?["metrics"]?["cider_d"]?.GetValue<double>();
        Assert.NotNull(ciderD);
        Assert.NotNull(teacherCiderD);
        Assert.InRange(ciderD.Value, 0.0, 10.0);
        Assert.InRange(teacherCiderD.Value, 0.0, 10.0);
        // Both scored the same split with the same decoding, as 'eval --teacher --record' writes them.
        Assert.Equal(training["metrics_decoding"]?.GetValue<string>(), training["teacher"]?["metrics_decoding"]?.GetValue<string>());
        var speedup = training["speedup_vs_teacher"]?.GetValue<double>();
        Assert.NotNull(speedup);
        Assert.True(speedup > 1, $"the student is recorded as {speedup}x the teacher's speed");
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
            Assert.InRange(result.Confidence, 0.01f, 1f);
        });
        Assert.True(results.Select(r => r.Text).Distinct().Count() >= samples.Length / 2, string.Join(" | ", results.Select(r => r.Text)));
    }
}
