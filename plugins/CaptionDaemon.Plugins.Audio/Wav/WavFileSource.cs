using System.Diagnostics;
using System.Runtime.CompilerServices;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Pcm;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Audio.Wav;

/// <summary>
/// Delivers a WAV file's samples in its own format, optionally looping, optionally paced at real time against one
/// clock started at the first chunk (so that a long file does not drift however the timers jitter).
/// </summary>
internal sealed partial class WavFileSource : IAudioSource
{
    private readonly string _path;
    private readonly WavHeader _header;
    private readonly bool _loop;
    private readonly bool _realtime;
    private readonly int _chunkFrames;
    private readonly ILogger _logger;
    private readonly ISourceStatusReporter _status;
    private bool _truncationReported;

    public WavFileSource(
        string id, string path, WavHeader header, bool loop, bool realtime, int chunkMilliseconds, ILogger logger, ISourceStatusReporter status)
    {
        Id = id;
        _path = path;
        _header = header;
        _loop = loop;
        _realtime = realtime;
        _chunkFrames = (int)Math.Max(1, (long)header.Format.SampleRate * chunkMilliseconds / 1000);
        _logger = logger;
        _status = status;
    }

    public string Id { get; }

    public AudioFormat Format => _header.Format;

    /// <summary>Opens a WAV file for reading; another process may keep writing it (a growing, streamed WAV).</summary>
    public static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public async IAsyncEnumerable<AudioChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = Open(_path);
        await using (stream.ConfigureAwait(false))
        {
            // Read again: the file may have been replaced since Create(), and the announced format must hold.
            var header = WavHeader.Read(stream, _path);
            if (header.Format != _header.Format || header.Encoding != _header.Encoding)
                throw new InvalidDataException($"{_path}: at byte offset 0: the file changed since the source was created (was {_header.Format} {_header.Encoding}, now {header.Format} {header.Encoding})");

            var blockAlign = header.BlockAlign;
            var channels = header.Format.Channels;
            var bytes = new byte[_chunkFrames * blockAlign];
            var samples = new float[_chunkFrames * channels];
            var clock = new Stopwatch();
            long delivered = 0;
            var online = false;
            while (true)
            {
                var (end, missing) = header.DataEnd(stream.Length);
                var remaining = end - header.DataOffset;
                if (missing > 0 && !_truncationReported)
                {
                    _truncationReported = true;
                    LogTruncated(_logger, _path, header.DeclaredDataLength ?? 0, remaining, remaining / blockAlign, missing);
                }

                stream.Position = header.DataOffset;
                long passFrames = 0;
                long nonFinite = 0;
                long firstNonFinite = -1;
                while (remaining >= blockAlign)
                {
                    var want = (int)Math.Min(bytes.Length, remaining);
                    var got = await stream.ReadAtLeastAsync(bytes.AsMemory(0, want), want, throwOnEndOfStream: false, cancellationToken)
                        .ConfigureAwait(false);
                    var frames = got / blockAlign;
                    if (frames == 0)
                        break;
                    var chunkOffset = stream.Position - got;
                    var bad = SampleDecoder.Decode(header.Encoding, bytes.AsSpan(0, frames * blockAlign), samples);
                    remaining -= got;
                    if (bad > 0)
                    {
                        if (firstNonFinite < 0)
                            firstNonFinite = chunkOffset;
                        nonFinite += bad;
                        if (bad == frames * channels)
                        {
                            // Nothing but NaN or infinity: not audio, so not captioned as if it were silence.
                            if (got < want)
                                break;
                            continue;
                        }
                    }

                    if (_realtime)
                    {
                        if (!clock.IsRunning)
                            clock.Start();
                        // A chunk is due when its last sample would have been heard, counted from the first chunk.
                        var due = TimeSpan.FromSeconds((double)(delivered + frames) / header.Format.SampleRate);
                        var wait = due - clock.Elapsed;
                        if (wait > TimeSpan.Zero)
                            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                    }
                    delivered += frames;
                    passFrames += frames;
                    if (!online)
                    {
                        online = true;
                        _status.Report(SourceState.Online);
                    }
                    yield return new AudioChunk(samples.AsMemory(0, frames * channels));

                    // A short read means the file ended early (it shrank, or a streamed WAV ended).
                    if (got < want)
                        break;
                }

                if (nonFinite > 0)
                    LogNonFinite(_logger, _path, nonFinite, firstNonFinite);
                if (passFrames == 0)
                {
                    // Exit 0 with no caption and no word was the old answer to an empty file.
                    throw new InvalidDataException(nonFinite > 0
                        ? $"{_path}: at byte offset {firstNonFinite}: every sample is NaN or infinite, so there is no audio to caption"
                        : $"{_path}: at byte offset {header.DataOffset}: the data chunk holds no audio frame");
                }
                if (!_loop)
                    break;
            }
            _status.Report(SourceState.Offline, "the file ended");
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Path} is truncated: its data chunk declares {DeclaredBytes} bytes but the file holds {PresentBytes} ({MissingBytes} missing); delivering the {Frames} whole frames that are there")]
    private static partial void LogTruncated(ILogger logger, string path, long declaredBytes, long presentBytes, long frames, long missingBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: {Count} samples are NaN or infinite, the first at byte offset {Offset}: chunks of nothing else are skipped, the others read them as silence")]
    private static partial void LogNonFinite(ILogger logger, string path, long count, long offset);
}
