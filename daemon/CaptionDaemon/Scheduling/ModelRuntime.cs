using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Telemetry;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>What a reload attempt did.</summary>
internal enum ReloadOutcome
{
    /// <summary>The folder has not changed since the last attempt; nothing was loaded.</summary>
    Unchanged,

    /// <summary>A new bundle was loaded and validated; the scheduler switches to it at its next batch.</summary>
    Staged,

    /// <summary>The bundle was refused (logged with the reason); the running model goes on.</summary>
    Refused,
}

/// <summary>The model in use, for logs, <c>/healthz</c> and tests.</summary>
/// <param name="Name">The bundle manifest's model name.</param>
/// <param name="Provider">The execution provider in use (<c>cpu</c>, <c>cuda</c>).</param>
/// <param name="Directory">The bundle folder.</param>
/// <param name="LoadedAt">When it finished loading (UTC).</param>
/// <param name="LoadDuration">How long loading and validating took.</param>
internal sealed record ModelStatus(string Name, string Provider, string Directory, DateTimeOffset LoadedAt, TimeSpan LoadDuration);

/// <summary>
/// Owns the caption bundle the daemon runs and replaces it without a restart. The first bundle is loaded when the
/// runtime is created (a broken one stops start-up with the <see cref="BundleException"/> message). After that, the
/// bundle folder is watched (<c>Model:ReloadPollSeconds</c>) and <see cref="RequestReload"/> (SIGHUP) forces a look.
/// </summary>
/// <remarks>
/// A new bundle is loaded and fully validated on the watch task, never on the inference thread, and then staged; the
/// inference thread picks it up at the start of its next batch (<see cref="AcquireForBatch"/>) and disposes the old
/// one there, so a captioner is never replaced or disposed during a run. A bundle that fails to load, or whose sample
/// rate or window differs from the running one (the windowers are sized for it), is refused: logged, counted
/// (<c>captiond.model.reloads</c>, result <c>refused</c>) and the old model goes on. The folder's fingerprint
/// (manifest content, every file's name, size and modification time) is remembered after every attempt, so a folder
/// that is still being copied is tried again as soon as it changes again, not on every poll.
/// </remarks>
internal sealed partial class ModelRuntime : IHostedService, IDisposable
{
    private readonly ModelOptions _options;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _reloadRequests = new(0, int.MaxValue);
    private readonly Lock _reloadLock = new();
    private LoadedModel _active;
    private LoadedModel? _staged;
    private string _lastFingerprint;
    private CancellationTokenSource? _stopping;
    private Task? _watch;
    private bool _disposed;

    public ModelRuntime(IOptions<ModelOptions> options, DaemonMetrics metrics, ILogger<ModelRuntime> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        Directory = _options.ResolveDirectory();
        _lastFingerprint = Fingerprint(Directory);
        _active = Load();
        SampleRate = _active.Bundle.Manifest.SampleRate;
        WindowSamples = _active.Bundle.WindowSamples;
        _metrics.SetExecutionProvider(_active.Provider);
        LogLoaded(_logger, _active.Name, Directory, _active.Provider, _active.LoadDuration.TotalMilliseconds);
        LogRecommendation(_active);
    }

    /// <summary>The bundle folder that is watched.</summary>
    public string Directory { get; }

    /// <summary>The model's sample rate; fixed for the life of the process.</summary>
    public int SampleRate { get; }

    /// <summary>Samples in one window; fixed for the life of the process.</summary>
    public int WindowSamples { get; }

    /// <summary>The model the scheduler runs now.</summary>
    public ModelStatus Status
    {
        get
        {
            var model = Volatile.Read(ref _active);
            return new ModelStatus(model.Name, model.Provider, Directory, model.LoadedAt, model.LoadDuration);
        }
    }

    /// <summary>The labels of the model the scheduler runs now (the manifest's, in its order).</summary>
    public IReadOnlyList<BundleLabel> Labels => Volatile.Read(ref _active).Bundle.Manifest.Labels;

    /// <summary>Raised on the inference thread when a reloaded bundle takes over; handlers must not block.</summary>
    public event Action<LoadedModel>? Switched;

    /// <summary>The name of a bundle that is loaded and waits for the next batch, if any.</summary>
    public string? StagedName => Volatile.Read(ref _staged)?.Name;

    /// <summary>Asks the watch task to load the folder now, changed or not (the daemon calls it on SIGHUP). Never blocks.</summary>
    public void RequestReload() => _reloadRequests.Release();

    /// <summary>
    /// Loads the bundle folder when it changed since the last attempt (or always, when <paramref name="force"/>), and
    /// stages it for the next batch. Runs on the caller's thread; one load at a time.
    /// </summary>
    public ReloadOutcome Reload(bool force)
    {
        lock (_reloadLock)
        {
            if (_disposed)
            {
                return ReloadOutcome.Unchanged;
            }

            LoadedModel candidate;
            try
            {
                var fingerprint = Fingerprint(Directory);
                if (!force && fingerprint == _lastFingerprint)
                {
                    return ReloadOutcome.Unchanged;
                }

                _lastFingerprint = fingerprint;
                candidate = Load();
            }
            catch (BundleException e)
            {
                return Refuse(e.Message);
            }
            catch (ExecutionProviderException e)
            {
                return Refuse(e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever a bad bundle makes ONNX Runtime or the file system throw must not stop the running model.
                return Refuse($"{e.GetType().Name}: {e.Message}");
            }

            var manifest = candidate.Bundle.Manifest;
            if (manifest.SampleRate != SampleRate || candidate.Bundle.WindowSamples != WindowSamples)
            {
                var reason = $"{Path.Combine(Directory, BundleManifest.FileName)}: the bundle's window is {candidate.Bundle.WindowSamples} samples at "
                    + $"{manifest.SampleRate} Hz, the running model's {WindowSamples} samples at {SampleRate} Hz; the windowers are sized for the "
                    + "running one: restart captiond to change the window.";
                candidate.Dispose();
                return Refuse(reason);
            }

            Interlocked.Exchange(ref _staged, candidate)?.Dispose();
            _metrics.ModelReloads.Add(1, new KeyValuePair<string, object?>("result", "ok"));
            LogStaged(_logger, candidate.Name, candidate.Provider, candidate.LoadDuration.TotalMilliseconds, Volatile.Read(ref _active).Name);
            LogRecommendation(candidate);
            return ReloadOutcome.Staged;
        }
    }

    /// <summary>
    /// The model for the next batch. Called by the inference thread between batches only: switches to a staged
    /// bundle and disposes the one it replaces (no run is in progress on it).
    /// </summary>
    public LoadedModel AcquireForBatch()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var staged = Interlocked.Exchange(ref _staged, null);
        if (staged is null)
        {
            return _active;
        }

        var old = _active;
        Volatile.Write(ref _active, staged);
        _metrics.SetExecutionProvider(staged.Provider);
        LogSwitched(_logger, old.Name, staged.Name, staged.Provider);
        old.Dispose();
        Switched?.Invoke(staged);
        return staged;
    }

    /// <summary>Starts watching the bundle folder.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = new CancellationTokenSource();
        var poll = _options.ReloadPollSeconds > 0 ? TimeSpan.FromSeconds(_options.ReloadPollSeconds) : Timeout.InfiniteTimeSpan;
        _watch = Task.Run(() => WatchAsync(poll, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops watching (a load in progress finishes first).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null || _watch is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _watch.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the running and any staged model. Call after the scheduler has stopped.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _stopping?.Cancel();
        lock (_reloadLock)
        {
            // Under the lock: a load in progress finishes and stages first, and is disposed here with the rest.
            _disposed = true;
            Interlocked.Exchange(ref _staged, null)?.Dispose();
            _active.Dispose();
        }

        _stopping?.Dispose();
    }

    /// <summary>A digest of the folder that changes when any of its files does (also while a copy is under way).</summary>
    private static string Fingerprint(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return "missing";
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var manifest = Path.Combine(directory, BundleManifest.FileName);
        try
        {
            hash.AppendData(File.ReadAllBytes(manifest));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            hash.AppendData(Encoding.UTF8.GetBytes("manifest unreadable: " + e.GetType().Name));
        }

        foreach (var file in new DirectoryInfo(directory).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{file.Name}|{file.Length}|{file.LastWriteTimeUtc.Ticks}\n"));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private LoadedModel Load()
    {
        var started = Stopwatch.GetTimestamp();
        var bundle = CaptionBundle.Load(Directory, _options.ToCaptionerOptions(), _logger);
        try
        {
            return new LoadedModel(bundle, _timeProvider.GetUtcNow(), Stopwatch.GetElapsedTime(started));
        }
        catch
        {
            bundle.Dispose();
            throw;
        }
    }

    private ReloadOutcome Refuse(string reason)
    {
        _metrics.ModelReloads.Add(1, new KeyValuePair<string, object?>("result", "refused"));
        LogRefused(_logger, Directory, reason, Volatile.Read(ref _active).Name);
        return ReloadOutcome.Refused;
    }

    private async Task WatchAsync(TimeSpan poll, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            bool requested;
            try
            {
                requested = await _reloadRequests.WaitAsync(poll, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // Several requests while a load ran are one request.
            while (_reloadRequests.Wait(0))
            {
            }

            if (requested)
            {
                LogReloadRequested(_logger, Directory);
            }

            Reload(requested);
        }
    }

    private void LogRecommendation(LoadedModel model)
    {
        if (model.RecommendedMinConfidence is { } min)
        {
            LogRecommendsMinConfidence(_logger, model.Name, min);
        }
    }

    [LoggerMessage(EventId = 1306, Level = LogLevel.Information,
        Message = "Model {Model} is calibrated and recommends a minimum confidence of {MinConfidence}; captions below it are not published unless Captions:MinConfidence is set")]
    private static partial void LogRecommendsMinConfidence(ILogger logger, string model, double minConfidence);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Model {Model} loaded from {Directory} on {Provider} in {Milliseconds:F0} ms")]
    private static partial void LogLoaded(ILogger logger, string model, string directory, string provider, double milliseconds);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information,
        Message = "Model {Model} loaded on {Provider} in {Milliseconds:F0} ms; it replaces {Current} at the next batch")]
    private static partial void LogStaged(ILogger logger, string model, string provider, double milliseconds, string current);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Model switched: {Old} -> {New} ({Provider})")]
    private static partial void LogSwitched(ILogger logger, string old, string @new, string provider);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Error, Message = "Refused the model bundle in {Directory}: {Reason} Still running {Current}.")]
    private static partial void LogRefused(ILogger logger, string directory, string reason, string current);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Information, Message = "Model reload requested for {Directory}")]
    private static partial void LogReloadRequested(ILogger logger, string directory);
}
