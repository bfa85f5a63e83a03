using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Network;
using CaptionDaemon.Plugins.Audio.Pcm;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Audio.Ffmpeg;

/// <summary>
/// Runs ffmpeg to turn any input into 16 kHz mono f32le on a pipe, and restarts it with backoff as its policy says.
/// </summary>
internal sealed partial class FfmpegSource : IAudioSource
{
    private const int ReadBytes = 16_384;
    private readonly FfmpegOptions _options;
    private readonly string _shownInput;
    private readonly ILogger _logger;
    private readonly ISourceStatusReporter _status;
    private readonly LiveTimeline _timeline;
    private volatile FfmpegRun? _current;

    public FfmpegSource(string id, FfmpegOptions options, ILogger logger, ISourceStatusReporter status)
        : this(id, options, logger, status, TimeProvider.System)
    {
    }

    /// <summary>With the clock that dates the first chunk of each run and chunks after a gap.</summary>
    internal FfmpegSource(string id, FfmpegOptions options, ILogger logger, ISourceStatusReporter status, TimeProvider time)
    {
        Id = id;
        _timeline = new LiveTimeline(FfmpegOptions.SampleRate, 1, time);
        _options = options;
        _shownInput = UrlCredentials.Redact(options.Input);
        _logger = logger;
        _status = status;
    }

    public string Id { get; }

    public AudioFormat Format => AudioFormat.Mono16k;

    internal FfmpegOptions Options => _options;

    /// <summary>The process id of the ffmpeg that runs now, if one does.</summary>
    internal int? ProcessId => _current?.ProcessId;

    public async IAsyncEnumerable<AudioChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff(_options.MaxBackoff);
        var bytes = new byte[ReadBytes];
        var samples = new float[ReadBytes / sizeof(float)];
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Cancelled by the daemon or by the stall timer; either way it kills this run's ffmpeg.
            var watchdog = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            FfmpegRun run;
            try
            {
                run = FfmpegRun.Start(_options, _logger, watchdog.Token);
            }
            catch (IOException)
            {
                watchdog.Dispose();
                throw;
            }
            _current = run;
            var exitCode = 0;
            var stalled = false;
            long firstAudio = 0;
            try
            {
                LogStarted(_logger, run.ProcessId, _shownInput);
                _timeline.Restart();
                var carried = 0;
                while (true)
                {
                    var received = await ReadOrStallAsync(run.Output, bytes.AsMemory(carried), watchdog, cancellationToken).ConfigureAwait(false);
                    if (received <= 0)
                        break;
                    // A pipe read may end inside a sample: keep those bytes for the next read.
                    var total = carried + received;
                    var whole = total / sizeof(float) * sizeof(float);
                    carried = total - whole;
                    if (whole == 0)
                        continue;
                    SampleDecoder.Decode(SampleEncoding.Float32, bytes.AsSpan(0, whole), samples);
                    bytes.AsSpan(whole, carried).CopyTo(bytes);
                    if (firstAudio == 0)
                    {
                        firstAudio = Stopwatch.GetTimestamp();
                        _status.Report(SourceState.Online);
                    }
                    var count = whole / sizeof(float);
                    yield return new AudioChunk(samples.AsMemory(0, count), _timeline.Stamp(count));
                }

                cancellationToken.ThrowIfCancellationRequested();
                stalled = watchdog.IsCancellationRequested;
                if (!stalled)
                    exitCode = await run.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _current = null;
                await run.DisposeAsync().ConfigureAwait(false);
                watchdog.Dispose();
            }

            var lines = run.LastLines;
            var failed = stalled || exitCode != 0;
            var ending = stalled
                ? string.Create(CultureInfo.InvariantCulture, $"no audio from ffmpeg for {_options.StallTimeout.TotalSeconds:0} s")
                : string.Create(CultureInfo.InvariantCulture, $"ffmpeg exited with code {exitCode}");
            var restart = _options.Restart == RestartPolicy.Always || (_options.Restart == RestartPolicy.OnFailure && failed);
            if (!restart)
            {
                if (failed)
                {
                    var said = lines.Count > 0 ? string.Join(" | ", lines) : "it printed nothing";
                    throw new IOException($"{ending} reading {_shownInput}: {said}");
                }
                LogFinished(_logger, _shownInput);
                _status.Report(SourceState.Offline, "ffmpeg reached the end of the input");
                yield break;
            }

            if (firstAudio != 0 && Stopwatch.GetElapsedTime(firstAudio) > _options.BackoffResetAfter)
                backoff.Reset();
            var wait = backoff.Next();
            var last = stalled ? "killed it" : lines.Count > 0 ? lines[^1] : "it printed nothing";
            _status.Report(SourceState.Reconnecting, string.Create(CultureInfo.InvariantCulture,
                $"{ending}: {last} (restarting in {wait.TotalSeconds:0} s)"));
            LogRestarting(_logger, ending, _shownInput, wait.TotalSeconds);
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads ffmpeg's output; returns -1 when nothing came within the stall timeout (the watchdog then kills ffmpeg).</summary>
    private async ValueTask<int> ReadOrStallAsync(Stream output, Memory<byte> buffer, CancellationTokenSource watchdog, CancellationToken cancellationToken)
    {
        if (_options.StallTimeout > TimeSpan.Zero)
            watchdog.CancelAfter(_options.StallTimeout);
        try
        {
            var received = await output.ReadAsync(buffer, watchdog.Token).ConfigureAwait(false);
            // The timer measures ffmpeg, not the host: it does not run while the chunk is being consumed.
            if (_options.StallTimeout > TimeSpan.Zero)
                watchdog.CancelAfter(Timeout.InfiniteTimeSpan);
            return received;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return -1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Normally the enumerator's own cleanup has disposed the run; this covers a host that drops the enumerator.
        if (_current is { } run)
            await run.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Started ffmpeg (pid {ProcessId}) reading {Input}")]
    private static partial void LogStarted(ILogger logger, int processId, string input);

    [LoggerMessage(Level = LogLevel.Information, Message = "ffmpeg reached the end of {Input}")]
    private static partial void LogFinished(ILogger logger, string input);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Ending} reading {Input}; restarting in {Seconds} s")]
    private static partial void LogRestarting(ILogger logger, string ending, string input, double seconds);
}
