using System.Text;
using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Shared;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Outputs.Jsonl;

/// <summary>Writes each caption as one line of JSON to a file, or to standard output.</summary>
internal sealed partial class JsonlSink : ICaptionSink
{
    // Without FlushEachBatch, lines collect in memory until this much is pending (or the sink closes).
    private const int PendingLimitBytes = 64 * 1024;

    private readonly FileStream? _file;
    private readonly string _path;
    private readonly bool _flushEachBatch;
    private readonly ILogger _logger;
    private readonly PayloadBuffer _pending = new(16 * 1024);
    private readonly Utf8JsonWriter _writer;
    private char[] _chars = [];

    /// <param name="name">The sink's name.</param>
    /// <param name="file">The open file, or null for standard output (<see cref="Console.Out"/>).</param>
    /// <param name="path">The file's full path, or <c>-</c>, for messages.</param>
    /// <param name="flushEachBatch">Write every batch before returning from <see cref="PublishAsync"/>.</param>
    /// <param name="logger">The sink's logger.</param>
    public JsonlSink(string name, FileStream? file, string path, bool flushEachBatch, ILogger logger)
    {
        Name = name;
        _file = file;
        _path = path;
        _flushEachBatch = flushEachBatch;
        _logger = logger;
        _writer = new Utf8JsonWriter(_pending, CaptionWireFormat.WriterOptions);
    }

    public string Name { get; }

    public async Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(captions);
        cancellationToken.ThrowIfCancellationRequested();

        var batchStart = _pending.Count;
        for (var i = 0; i < captions.Count; i++)
        {
            // One writer per line: Utf8JsonWriter allows a single top-level value between resets.
            _writer.Reset(_pending);
            CaptionWireFormat.Write(_writer, captions[i]);
            _writer.Flush();
            _pending.Append((byte)'\n');
        }

        if (!_flushEachBatch && _pending.Count < PendingLimitBytes)
        {
            return;
        }

        try
        {
            await WritePendingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host retries this batch: take it out so that it is not written twice.
            _pending.Truncate(batchStart);
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _pending.Truncate(batchStart);
            throw new SinkUnavailableException($"Cannot write captions to {_path}: {ex.Message}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_pending.Count > 0)
            {
                await WritePendingAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Closing must not fail the daemon's shutdown; the lost lines are reported instead.
            LogLinesLostOnClose(_logger, Name, _pending.Count, _path, ex);
        }
        finally
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            if (_file is not null)
            {
                await _file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task WritePendingAsync(CancellationToken cancellationToken)
    {
        if (_file is null)
        {
            await WriteToStandardOutputAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await WriteToFileAsync(_file, cancellationToken).ConfigureAwait(false);
        }

        _pending.Clear();
    }

    private async Task WriteToFileAsync(FileStream file, CancellationToken cancellationToken)
    {
        if (!file.CanSeek)
        {
            // A pipe or a device such as /dev/stdout: nothing to append after, nothing to cut back.
            await file.WriteAsync(_pending.Written, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Append at the file's current end, wherever it is now (rotation by truncation, another writer).
        var end = file.Length;
        file.Position = end;
        try
        {
            await file.WriteAsync(_pending.Written, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // A write that failed halfway (disk full) leaves half a line; cut it off so the file stays valid JSON
            // lines when the host retries the batch.
            TryCut(file, end);
            throw;
        }
    }

    private static void TryCut(FileStream file, long length)
    {
        try
        {
            file.SetLength(length);
        }
        catch (IOException)
        {
            // Best effort: the original failure is what the caller reports; the next write starts at the end anyway.
        }
    }

    private async Task WriteToStandardOutputAsync(CancellationToken cancellationToken)
    {
        // Through Console.Out, not the raw stream: its writer is synchronized, so a batch of lines is never cut in
        // the middle by console log lines, and whatever the host redirects Console.Out to receives the captions.
        var bytes = _pending.Written.Span;
        var needed = Encoding.UTF8.GetMaxCharCount(bytes.Length);
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var length = Encoding.UTF8.GetChars(bytes, _chars);
        var output = Console.Out;
        await output.WriteAsync(_chars.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink} could not write its last {Bytes} bytes of captions to {Path} while closing")]
    private static partial void LogLinesLostOnClose(ILogger logger, string sink, int bytes, string path, Exception exception);
}
