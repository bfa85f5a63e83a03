using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Sinks;

/// <summary>
/// The durable outbox of one sink: an append-only JSON-lines file of captions (<c>outbox.jsonl</c>) and the byte
/// offset up to which they were delivered (<c>outbox.committed</c>). Only the sink's delivery loop touches it.
/// Writes are flushed to the operating system, so captions survive a daemon crash or restart (not a power cut).
/// </summary>
internal sealed class OutboxJournal : IDisposable
{
    private const string JournalFileName = "outbox.jsonl";
    private const string CommittedFileName = "outbox.committed";

    private readonly string _journalPath;
    private readonly string _committedPath;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private FileStream? _stream;
    private long _committed;

    public OutboxJournal(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        _journalPath = Path.Combine(directory, JournalFileName);
        _committedPath = Path.Combine(directory, CommittedFileName);
    }

    /// <summary>Lines in the file, delivered or not; the pump rewrites the journal when this grows past its bound.</summary>
    public long Lines { get; private set; }

    /// <summary>Number of lines skipped by <see cref="Load"/> because they could not be read.</summary>
    public int UnreadableLines { get; private set; }

    /// <summary>Opens the journal and returns the captions not yet delivered, oldest first.</summary>
    public IReadOnlyList<OutboxEntry> Load()
    {
        _committed = ReadCommitted();
        var entries = new List<OutboxEntry>();
        _stream = new FileStream(_journalPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (_committed > _stream.Length)
        {
            // The committed file is newer than a journal that was replaced by hand: nothing trustworthy to deliver.
            _committed = _stream.Length;
        }

        var content = new byte[_stream.Length];
        _stream.ReadExactly(content);
        long lineStart = 0;
        long validEnd = 0;
        while (lineStart < content.Length)
        {
            var newline = Array.IndexOf(content, (byte)'\n', (int)lineStart);
            if (newline < 0)
            {
                break; // a line cut short by a crash: dropped below by truncating the file
            }

            Lines++;
            validEnd = newline + 1;
            if (lineStart >= _committed)
            {
                var caption = Parse(content.AsSpan((int)lineStart, newline - (int)lineStart));
                if (caption is null)
                {
                    UnreadableLines++;
                }
                else
                {
                    entries.Add(new OutboxEntry(caption) { JournalEnd = validEnd });
                }
            }

            lineStart = validEnd;
        }

        _stream.SetLength(validEnd);
        _stream.Seek(validEnd, SeekOrigin.Begin);
        return entries;
    }

    /// <summary>Appends captions and records where each one's line ends.</summary>
    public void Append(IReadOnlyList<OutboxEntry> entries)
    {
        var stream = _stream ?? throw new InvalidOperationException("The journal is not loaded.");
        var position = stream.Position;
        foreach (var entry in entries)
        {
            _buffer.ResetWrittenCount();
            WriteLine(entry.Caption);
            stream.Write(_buffer.WrittenSpan);
            position += _buffer.WrittenCount;
            entry.JournalEnd = position;
            Lines++;
        }

        stream.Flush();
    }

    /// <summary>Records that everything up to <paramref name="offset"/> is delivered.</summary>
    public void Commit(long offset)
    {
        if (offset <= _committed)
        {
            return;
        }

        _committed = offset;
        WriteCommitted(offset);
    }

    /// <summary>Empties the journal once everything in it is delivered.</summary>
    public void Clear()
    {
        var stream = _stream ?? throw new InvalidOperationException("The journal is not loaded.");
        stream.SetLength(0);
        stream.Flush();
        Lines = 0;
        _committed = 0;
        WriteCommitted(0);
    }

    /// <summary>Replaces the journal by one holding only <paramref name="entries"/> (what is still undelivered).</summary>
    public void Rewrite(IReadOnlyList<OutboxEntry> entries)
    {
        var stream = _stream ?? throw new InvalidOperationException("The journal is not loaded.");
        // Truncate in place: a crash between the truncation and the rewrite loses at most those entries, and the
        // committed offset is reset first so that it never points past the new end.
        _committed = 0;
        WriteCommitted(0);
        stream.SetLength(0);
        stream.Seek(0, SeekOrigin.Begin);
        Lines = 0;
        Append(entries);
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }

    private void WriteLine(Caption caption)
    {
        using (var writer = new Utf8JsonWriter(_buffer))
        {
            JsonSerializer.Serialize(writer, caption, OutboxJsonContext.Default.Caption);
        }

        _buffer.Write("\n"u8);
    }

    private static Caption? Parse(ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, OutboxJsonContext.Default.Caption);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private long ReadCommitted()
    {
        if (!File.Exists(_committedPath))
        {
            return 0;
        }

        var text = File.ReadAllText(_committedPath, Encoding.UTF8).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : 0;
    }

    private void WriteCommitted(long offset)
    {
        // Write then rename, so that a crash leaves either the old or the new offset, never a torn one.
        var temporary = _committedPath + ".tmp";
        File.WriteAllText(temporary, offset.ToString(CultureInfo.InvariantCulture), Encoding.UTF8);
        File.Move(temporary, _committedPath, overwrite: true);
    }
}

[JsonSerializable(typeof(Caption))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class OutboxJsonContext : JsonSerializerContext;
