using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CaptionDaemon.Scheduling;

/// <summary>
/// Gives each source's published captions their sequence numbers (1, 2, 3...) under a run identifier. In memory, every
/// start of the daemon is a new run and numbering starts again from 1. Kept on disk (when a sink's outbox persists, so
/// that captions of an earlier start can be delivered after this one's), the run and every source's last number survive
/// restarts and crashes, so numbers only ever grow and a client can drop duplicates by (source, run, seq).
/// </summary>
/// <remarks>
/// The file (<c>&lt;StateDirectory&gt;/sequences</c>) is a line <c>run &lt;id&gt;</c> and a line <c>&lt;seq&gt; &lt;source&gt;</c> per
/// source; it is replaced atomically (written beside, fsynced, renamed) each time a number is taken, before the caption
/// exists, so a crash can leave a number unused (a gap) but never hands one out twice. A file that cannot be read
/// starts a new run, which a client sees as a new numbering.
/// </remarks>
internal sealed class CaptionNumbering
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly string? _path;
    private readonly Lock _lock = new();
    private readonly StringBuilder _text = new();

    private CaptionNumbering(string run, string? path)
    {
        Run = run;
        _path = path;
    }

    /// <summary>The run identifier that every caption numbered here carries.</summary>
    public string Run { get; }

    /// <summary>True when the numbers are kept on disk.</summary>
    public bool IsPersistent => _path is not null;

    /// <summary>Why the file on disk was not used, when it could not be read (the numbering started a new run); else null.</summary>
    public string? Problem { get; private init; }

    /// <summary>A numbering for this process only: a new run, every source from 1.</summary>
    public static CaptionNumbering InMemory() => new(NewRunId(), null);

    /// <summary>The numbering kept in <paramref name="path"/>, created with a new run when the file does not exist.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static CaptionNumbering Persistent(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string? problem = null;
        if (File.Exists(path))
        {
            var lines = File.ReadAllLines(path, Encoding.UTF8);
            if (lines.Length > 0 && lines[0].StartsWith("run ", StringComparison.Ordinal) && lines[0].Length > 4)
            {
                var numbering = new CaptionNumbering(lines[0][4..], path);
                for (var i = 1; i < lines.Length; i++)
                {
                    var space = lines[i].IndexOf(' ', StringComparison.Ordinal);
                    if (space <= 0 || !long.TryParse(lines[i].AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
                    {
                        problem = $"{path}: line {i + 1} is not '<seq> <source>'";
                        break;
                    }

                    numbering._last[lines[i][(space + 1)..]] = seq;
                }

                if (problem is null)
                {
                    return numbering;
                }
            }
            else
            {
                problem = $"{path}: the first line is not 'run <id>'";
            }
        }

        var fresh = new CaptionNumbering(NewRunId(), path) { Problem = problem };
        fresh.Save();
        return fresh;
    }

    /// <summary>The next sequence number of <paramref name="sourceId"/>, on disk before it is returned when persistent.</summary>
    /// <exception cref="IOException">The number could not be kept on disk (it is not handed out).</exception>
    public long Next(string sourceId)
    {
        ArgumentNullException.ThrowIfNull(sourceId);
        lock (_lock)
        {
            var next = (_last.TryGetValue(sourceId, out var last) ? last : 0) + 1;
            _last[sourceId] = next;
            if (_path is not null)
            {
                try
                {
                    Save();
                }
                catch
                {
                    _last[sourceId] = last;
                    throw;
                }
            }

            return next;
        }
    }

    /// <summary>The last number handed out for <paramref name="sourceId"/>, 0 before the first.</summary>
    public long Last(string sourceId)
    {
        lock (_lock)
        {
            return _last.TryGetValue(sourceId, out var last) ? last : 0;
        }
    }

    private void Save()
    {
        _text.Clear().Append("run ").Append(Run).Append('\n');
        foreach (var (source, seq) in _last)
        {
            _text.Append(seq.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(source).Append('\n');
        }

        var temporary = _path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(_text.ToString()));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, _path!, overwrite: true);
    }

    private static string NewRunId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
