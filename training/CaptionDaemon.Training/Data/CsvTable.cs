using System.Text;

namespace CaptionDaemon.Training.Data;

/// <summary>One CSV record and the line of the file where it starts (for error messages).</summary>
internal sealed record CsvRecord(int Line, IReadOnlyList<string> Fields);

/// <summary>
/// A CSV file as RFC 4180 defines it: comma-separated, fields optionally in double quotes, "" for a quote inside a
/// quoted field, commas and line breaks allowed inside quotes, CRLF or LF line ends. Clotho file names and captions
/// contain commas, so splitting lines on commas is not enough.
/// </summary>
internal sealed class CsvTable
{
    private readonly Dictionary<string, int> _columns;

    private CsvTable(string source, IReadOnlyList<string> header, IReadOnlyList<CsvRecord> rows)
    {
        Source = source;
        Header = header;
        Rows = rows;
        _columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++)
        {
            _columns.TryAdd(header[i].Trim(), i);
        }
    }

    /// <summary>Where the table came from, for messages.</summary>
    public string Source { get; }

    public IReadOnlyList<string> Header { get; }

    /// <summary>The records after the header; blank lines are skipped.</summary>
    public IReadOnlyList<CsvRecord> Rows { get; }

    /// <summary>Reads a CSV file whose first record is the header.</summary>
    /// <exception cref="DatasetFormatException">The file is missing, empty or malformed; the message names the file and line.</exception>
    public static CsvTable Load(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException($"CSV file '{path}' does not exist.");
        }

        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(reader, path, cancellationToken);
    }

    /// <summary>Parses CSV text whose first record is the header.</summary>
    public static CsvTable Parse(TextReader reader, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var records = ReadRecords(reader, source, cancellationToken).ToList();
        if (records.Count == 0)
        {
            throw new DatasetFormatException($"CSV file '{source}' is empty (no header line).");
        }

        var header = records[0].Fields.Select(h => h.Trim()).ToArray();
        var rows = records.Skip(1).Where(r => !(r.Fields.Count == 1 && r.Fields[0].Length == 0)).ToList();
        foreach (var row in rows)
        {
            if (row.Fields.Count != header.Length)
            {
                throw new DatasetFormatException(
                    $"{source} line {row.Line}: {row.Fields.Count} fields, but the header has {header.Length} ({string.Join(",", header)}); a field with a comma must be in double quotes.");
            }
        }

        return new CsvTable(source, header, rows);
    }

    /// <summary>The index of a column by (case-insensitive) name.</summary>
    /// <exception cref="DatasetFormatException">No such column; the message lists the ones there are.</exception>
    public int Column(string name)
    {
        return _columns.TryGetValue(name, out var index)
            ? index
            : throw new DatasetFormatException(
                $"CSV file '{Source}' has no column '{name}'; its columns are: {string.Join(", ", Header)}.");
    }

    private static IEnumerable<CsvRecord> ReadRecords(TextReader reader, string source, CancellationToken cancellationToken)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var recordLine = 1;
        var inQuotes = false;
        var fieldWasQuoted = false;
        var any = false;
        int c;
        while ((c = reader.Read()) != -1)
        {
            any = true;
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    if (c == '\n')
                    {
                        line++;
                    }

                    field.Append((char)c);
                }

                continue;
            }

            switch (c)
            {
                case '"' when field.Length == 0 && !fieldWasQuoted:
                    inQuotes = true;
                    fieldWasQuoted = true;
                    break;
                case '"':
                    throw new DatasetFormatException(
                        $"{source} line {line}: a double quote inside an unquoted field; quote the whole field and double the quote (\"\").");
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    fieldWasQuoted = false;
                    break;
                case '\r' when reader.Peek() == '\n':
                    break;
                case '\r':
                case '\n':
                    fields.Add(field.ToString());
                    yield return new CsvRecord(recordLine, fields.ToArray());
                    cancellationToken.ThrowIfCancellationRequested();
                    fields.Clear();
                    field.Clear();
                    fieldWasQuoted = false;
                    any = false;
                    line++;
                    recordLine = line;
                    break;
                default:
                    if (fieldWasQuoted)
                    {
                        throw new DatasetFormatException(
                            $"{source} line {line}: text after the closing quote of a quoted field.");
                    }

                    field.Append((char)c);
                    break;
            }
        }

        if (inQuotes)
        {
            throw new DatasetFormatException($"{source} line {recordLine}: a quoted field is not closed before the end of the file.");
        }

        if (any)
        {
            fields.Add(field.ToString());
            yield return new CsvRecord(recordLine, fields.ToArray());
        }
    }
}
