using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Sinks;

/// <summary>
/// The durable outbox of one sink: an append-only JSON-lines file of captions (<c>outbox.jsonl</c>) and the byte
/// offset up to which they were delivered (<c>outbox.committed</c>). The caller serializes every call.
/// </summary>
/// <remarks>
/// Durability: <see cref="Append"/> writes the lines and fsyncs the file (<c>fdatasync</c> through
/// <see cref="FileStream.Flush(bool)"/>) before it returns, so an appended caption survives a crash of the daemon and a
/// power cut. The committed offset is replaced atomically (write, then rename) without an fsync: a power cut can only
/// move it back, so captions are delivered again, never lost. A torn last line (a crash in the middle of a write) is
/// dropped on <see cref="Load"/>; it was never acknowledged. Rewriting the file goes through a new file and a rename,
/// so a crash at any point leaves the old or the new journal whole.
/// </remarks>
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

        stream.Flush(flushToDisk: true);
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
        // A crash between the two leaves an empty journal and an offset past its end, which Load reads as "nothing".
        stream.SetLength(0);
        stream.Flush(flushToDisk: true);
        Lines = 0;
        _committed = 0;
        WriteCommitted(0);
    }

    /// <summary>Replaces the journal by one holding only <paramref name="entries"/> (what is still undelivered).</summary>
    public void Rewrite(IReadOnlyList<OutboxEntry> entries)
    {
        var stream = _stream ?? throw new InvalidOperationException("The journal is not loaded.");
        // The new journal is written whole and fsynced beside the old one before it replaces it. The committed offset is
        // reset in between: a crash there leaves the old journal read from its start, which delivers some captions
        // twice but loses none.
        var temporary = _journalPath + ".new";
        var replacement = new FileStream(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            _stream = replacement;
            Lines = 0;
            Append(entries);
        }
        catch
        {
            _stream = stream;
            replacement.Dispose();
            throw;
        }

        _committed = 0;
        WriteCommitted(0);
        File.Move(temporary, _journalPath, overwrite: true);
        stream.Dispose();
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
