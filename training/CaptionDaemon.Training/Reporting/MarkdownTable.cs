using System.Globalization;
using System.Text;

namespace CaptionDaemon.Training.Reporting;

internal enum ColumnAlignment
{
    Left,
    Right,
    Centre,
}

/// <summary>A column: its header, alignment, and the .NET format of its numbers (null: shortest round-trip form).</summary>
internal sealed record MarkdownColumn(string Header, ColumnAlignment Alignment = ColumnAlignment.Left, string? Format = null);

/// <summary>
/// A GitHub-flavoured Markdown table. Cells are strings or numbers; numbers use the column's format in the invariant
/// culture (a report must not change with the machine's locale), NaN prints as "n/a", null as an empty cell. Columns
/// are padded so the raw Markdown lines up too.
/// </summary>
/// <example><code>
/// var table = new MarkdownTable([new("method"), new("CIDEr-D", ColumnAlignment.Right, "0.000"), new("ms/clip", ColumnAlignment.Right, "0.0")]);
/// table.AddRow("student", 0.4123, 12.46);
/// File.WriteAllText("results.md", table.ToString());
/// </code></example>
internal sealed class MarkdownTable
{
    public const string Missing = "n/a";

    private readonly MarkdownColumn[] _columns;
    private readonly List<string[]> _rows = [];

    /// <exception cref="ArgumentException">No columns, or a header is empty.</exception>
    public MarkdownTable(IReadOnlyList<MarkdownColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0)
        {
            throw new ArgumentException("A table needs at least one column.", nameof(columns));
        }

        if (columns.Any(c => c is null || string.IsNullOrWhiteSpace(c.Header)))
        {
            throw new ArgumentException("Every column needs a header; GitHub does not render a table without one.", nameof(columns));
        }

        _columns = [.. columns];
    }

    public int RowCount => _rows.Count;

    /// <summary>Appends a row of one cell per column.</summary>
    /// <exception cref="ArgumentException">The cell count differs from the column count, or a cell is of another type than string or number.</exception>
    public MarkdownTable AddRow(params object?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _columns.Length)
        {
            throw new ArgumentException($"The table has {_columns.Length} columns; the row has {cells.Length} cells.", nameof(cells));
        }

        _rows.Add([.. cells.Select((cell, i) => Escape(Format(cell, _columns[i])))]);
        return this;
    }

    public override string ToString()
    {
        var widths = _columns
            .Select((c, i) => _rows.Select(r => r[i].Length).Append(Escape(c.Header).Length).Append(3).Max())
            .ToArray();
        var text = new StringBuilder();
        AppendLine(text, _columns.Select(c => Escape(c.Header)).ToArray(), widths);
        AppendLine(text, _columns.Select((c, i) => Rule(c.Alignment, widths[i])).ToArray(), widths);
        foreach (var row in _rows)
        {
            AppendLine(text, row, widths);
        }

        return text.ToString();
    }

    private void AppendLine(StringBuilder text, string[] cells, int[] widths)
    {
        text.Append('|');
        for (var i = 0; i < cells.Length; i++)
        {
            var pad = widths[i] - cells[i].Length;
            var before = _columns[i].Alignment switch
            {
                ColumnAlignment.Right => pad,
                ColumnAlignment.Centre => pad / 2,
                _ => 0,
            };
            text.Append(' ').Append(' ', before).Append(cells[i]).Append(' ', pad - before).Append(" |");
        }

        text.Append('\n');
    }

    private static string Rule(ColumnAlignment alignment, int width) => alignment switch
    {
        ColumnAlignment.Right => new string('-', width - 1) + ":",
        ColumnAlignment.Centre => ":" + new string('-', width - 2) + ":",
        _ => ":" + new string('-', width - 1),
    };

    private static string Format(object? cell, MarkdownColumn column) => cell switch
    {
        null => "",
        string s => s,
        double d when double.IsNaN(d) => Missing,
        float f when float.IsNaN(f) => Missing,
        double or float or decimal or int or long or short or byte or uint or ulong or ushort or sbyte =>
            ((IFormattable)cell).ToString(column.Format, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException(
            $"Column '{column.Header}' got a {cell.GetType().Name}; cells are strings or numbers (format other values first).", nameof(cell)),
    };

    /// <summary>A pipe would end the cell and a line break the row.</summary>
    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
