using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Tests.Scheduling;

/// <summary>Hot reload on a copy of the shipped bundle in a temporary folder.</summary>
public sealed class ModelRuntimeTests : IDisposable
{
    private static readonly string _shippedName = RepositoryFiles.DefaultModelName;

    private readonly string _folder = RepositoryFiles.CopyDefaultModel();
    private readonly MetricsRecorder _recorder = new();
    private readonly CapturingLogger<ModelRuntime> _logger = new();
    private readonly WindowBufferPool _pool = new(160000, 4);

    public void Dispose()
    {
        _recorder.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Reload_RenamedBundleInWatchedFolder_SwitchesAtTheNextBatchAndCaptionsGoOn()
    {
        using var runtime = Runtime(pollSeconds: 0.1);
        var captioner = Captioner(runtime);
        var windows = Windows();
        var before = captioner.Caption(windows, CancellationToken.None);
        await runtime.StartAsync(CancellationToken.None);

        SetManifest(node => node["name"] = "student-scenes-v2");

        Assert.True(await Eventually.TrueAsync(() => runtime.StagedName == "student-scenes-v2", TimeSpan.FromSeconds(60)));
        Assert.Equal(_shippedName, runtime.Status.Name); // staged, not in use until the next batch
        var after = captioner.Caption(windows, CancellationToken.None);
        await runtime.StopAsync(CancellationToken.None);

        Assert.Equal(_shippedName, before.Model);
        Assert.Equal("student-scenes-v2", after.Model);
        Assert.Equal("student-scenes-v2", runtime.Status.Name);
        Assert.Null(runtime.StagedName);
        Assert.Equal(before.Results.Select(r => r.Text), after.Results.Select(r => r.Text)); // same weights, same captions
        Assert.All(after.Results, r => Assert.NotEmpty(r.Text));
        Assert.Equal(1, _recorder.Sum("captiond.model.reloads", ("result", "ok")));
        Assert.Contains(_logger.Entries, e => e.Message.Contains($"{_shippedName} -> student-scenes-v2", StringComparison.Ordinal));
        ReturnAll(windows);
    }

    [Fact]
    public void Reload_CorruptGraphThenRepaired_RefusedNamingTheFileWhileTheOldModelCaptionsThenAccepted()
    {
        using var runtime = Runtime(pollSeconds: 0);
        var captioner = Captioner(runtime);
        var windows = Windows();
        var graph = Path.Combine(_folder, "decoder_step.onnx");
        var good = File.ReadAllBytes(graph);
        var bad = (byte[])good.Clone();
        bad[bad.Length / 2] ^= 0xFF;
        File.WriteAllBytes(graph, bad);

        Assert.Equal(ReloadOutcome.Refused, runtime.Reload(force: false));
        var refused = Assert.Single(_logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains("decoder_step.onnx", refused.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, _recorder.Sum("captiond.model.reloads", ("result", "refused")));
        Assert.Null(runtime.StagedName);
        var during = captioner.Caption(windows, CancellationToken.None);
        Assert.Equal(_shippedName, during.Model);
        Assert.All(during.Results, r => Assert.NotEmpty(r.Text));

        // Not tried again until the folder changes again.
        Assert.Equal(ReloadOutcome.Unchanged, runtime.Reload(force: false));

        File.WriteAllBytes(graph, good);
        Assert.Equal(ReloadOutcome.Staged, runtime.Reload(force: false));
        var after = captioner.Caption(windows, CancellationToken.None);
        Assert.Equal(during.Results.Select(r => r.Text), after.Results.Select(r => r.Text));
        Assert.Equal(1, _recorder.Sum("captiond.model.reloads", ("result", "ok")));
        ReturnAll(windows);
    }

    [Fact]
    public void Reload_FolderStillBeingCopied_RefusedThenAcceptedWhenTheCopyCompletes()
    {
        using var runtime = Runtime(pollSeconds: 0);
        var encoder = Path.Combine(_folder, "encoder.onnx");
        var bytes = File.ReadAllBytes(encoder);

        // The new manifest has arrived, the encoder not yet.
        File.Delete(encoder);
        SetManifest(node => node["name"] = "student-scenes-v3");
        Assert.Equal(ReloadOutcome.Refused, runtime.Reload(force: false));
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("encoder.onnx", StringComparison.Ordinal));

        File.WriteAllBytes(encoder, bytes);
        Assert.Equal(ReloadOutcome.Staged, runtime.Reload(force: false));
        Assert.Equal("student-scenes-v3", runtime.StagedName);
    }

    [Fact]
    public void Reload_BundleWithAnotherWindow_RefusedWithTheRestartHint()
    {
        using var runtime = Runtime(pollSeconds: 0);

        SetManifest(node => node["window_seconds"] = 5);

        Assert.Equal(ReloadOutcome.Refused, runtime.Reload(force: false));
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("restart captiond to change the window", StringComparison.Ordinal));
        Assert.Equal(_shippedName, runtime.Status.Name);
        Assert.Null(runtime.StagedName);
    }

    [Fact]
    public async Task RequestReload_PollingOff_LoadsTheFolderOnRequest()
    {
        using var runtime = Runtime(pollSeconds: 0);
        await runtime.StartAsync(CancellationToken.None);
        SetManifest(node => node["name"] = "student-scenes-v4");

        runtime.RequestReload();

        Assert.True(await Eventually.TrueAsync(() => runtime.StagedName == "student-scenes-v4", TimeSpan.FromSeconds(60)));
        await runtime.StopAsync(CancellationToken.None);
        Assert.Contains(_logger.Entries, e => e.Message.Contains("reload requested", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Constructor_BrokenBundle_ThrowsBundleExceptionNamingTheFile()
    {
        File.Delete(Path.Combine(_folder, "vocab.json"));

        var error = Assert.Throws<BundleException>(() => Runtime(pollSeconds: 0));

        Assert.Contains("vocab.json", error.Message, StringComparison.Ordinal);
    }

    private ModelRuntime Runtime(double pollSeconds) => new(
        Options.Create(new ModelOptions
        {
            Path = _folder,
            ExecutionProvider = Inference.ExecutionProviderPreference.Cpu,
            IntraOpThreads = 1,
            ReloadPollSeconds = pollSeconds,
        }),
        _recorder.Metrics,
        _logger,
        TimeProvider.System);

    private static WindowCaptioner Captioner(ModelRuntime runtime) =>
        new(runtime, Options.Create(new SchedulerOptions { MaxBatch = 2, Beam = 1 }));

    private ReadyWindow[] Windows() => RepositoryFiles.Samples.Take(2).Select((path, i) =>
    {
        var buffer = _pool.Rent();
        var samples = WavFile.Read(path).Samples;
        Array.Clear(buffer);
        samples.AsSpan(0, Math.Min(samples.Length, buffer.Length)).CopyTo(buffer);
        return new ReadyWindow("s" + i, buffer, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 0, 0);
    }).ToArray();

    private void ReturnAll(ReadyWindow[] windows)
    {
        foreach (var window in windows)
        {
            _pool.Return(window.Samples);
        }
    }

    private void SetManifest(Action<JsonNode> edit)
    {
        var path = Path.Combine(_folder, BundleManifest.FileName);
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }
}
