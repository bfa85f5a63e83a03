using CaptionDaemon.Contracts;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>The raw caption of one window, as offline captioning reports it (no caption policy).</summary>
/// <param name="SourceId">The source.</param>
/// <param name="Offset">Where the window starts in the source's stream.</param>
/// <param name="Start">UTC time of the window's first sample.</param>
/// <param name="End">UTC time just after its last sample of real audio.</param>
/// <param name="Result">The model's caption.</param>
/// <param name="Model">The model name.</param>
internal sealed record WindowCaption(string SourceId, TimeSpan Offset, DateTimeOffset Start, DateTimeOffset End, CaptionResult Result, string Model);

/// <summary>
/// Captions whole streams (files) once, without loss, for the one-shot <c>captiond caption</c> command: every
/// window of every source is captioned (no silence gate, no caption policy; a stream shorter than a window gets one
/// padded window), windows of all sources are batched together, and a full queue makes the readers wait instead of
/// dropping windows.
/// </summary>
internal sealed class FileCaptioning
{
    private readonly SourceWindowerFactory _windowers;
    private readonly WindowCaptioner _captioner;
    private readonly IOptions<SchedulerOptions> _options;
    private readonly DaemonMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly SilenceGate _open = new(null);

    public FileCaptioning(
        SourceWindowerFactory windowers,
        WindowCaptioner captioner,
        IOptions<SchedulerOptions> options,
        DaemonMetrics metrics,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(windowers);
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _windowers = windowers;
        _captioner = captioner;
        _options = options;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
    }

    /// <summary>
    /// Reads every source to its end, concurrently, and reports each window's caption: in stream order per source,
    /// from the inference thread (keep <paramref name="onCaption"/> quick). Returns when every window is captioned.
    /// The caller owns (and disposes) the sources.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    /// <returns>The sources that failed, by id, with their exceptions: a failing source (a corrupt file) stops only
    /// itself; the windows it delivered before failing are captioned, and the other sources go on.</returns>
    public async Task<IReadOnlyDictionary<string, Exception>> RunAsync(IReadOnlyList<IAudioSource> sources, Action<WindowCaption> onCaption, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(onCaption);
        var queue = new ReadyWindowQueue(
            _options.Value.EffectiveQueueCapacity, QueueFullMode.Wait, _windowers.Pool, _metrics, _loggerFactory.CreateLogger<ReadyWindowQueue>(), _timeProvider);
        var handler = new Forwarder(onCaption, _windowers.Model.SampleRate);
        using var scheduler = new BatchScheduler(queue, _captioner, handler, _options, _metrics, _loggerFactory.CreateLogger<BatchScheduler>(), _timeProvider);
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<string, Exception>(StringComparer.Ordinal);
        var consumer = Task.Factory.StartNew(() => scheduler.Run(cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            var readers = sources.Select(source => Task.Run(() => ReadAsync(source, queue, failures, cancellationToken), CancellationToken.None)).ToArray();
            await Task.WhenAll(readers).ConfigureAwait(false);
        }
        finally
        {
            queue.Complete();
            await consumer.ConfigureAwait(false);
            DrainLeftovers(queue);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return failures;
    }

    private static void DrainLeftovers(ReadyWindowQueue queue)
    {
        while (queue.TryDequeue(out var window, TimeSpan.Zero, CancellationToken.None))
        {
            queue.Pool.Return(window.Samples);
        }
    }

    private async Task ReadAsync(IAudioSource source, ReadyWindowQueue queue, System.Collections.Concurrent.ConcurrentDictionary<string, Exception> failures, CancellationToken token)
    {
        try
        {
            var windower = _windowers.Create(source.Id, source.Format, queue, _open);
            await foreach (var chunk in source.ReadAsync(token).ConfigureAwait(false))
            {
                windower.Append(chunk.Samples.Span, chunk.Timestamp, token);
            }

            windower.Complete(token);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A source plugin may throw anything; the failure belongs to that source alone and is reported by the caller.
            failures[source.Id] = ex;
        }
    }

    private sealed class Forwarder(Action<WindowCaption> onCaption, int sampleRate) : ICaptionedWindowHandler
    {
        public void OnCaptioned(in ReadyWindow window, CaptionResult result, string model, double? recommendedMinConfidence, IReadOnlyList<BundleLabel>? modelLabels = null) =>
            onCaption(new WindowCaption(window.SourceId, SampleClock.Duration(window.StartSample, sampleRate), window.Start, window.End, result, model));
    }
}
