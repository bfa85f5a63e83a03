using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

public sealed class MarkdownTableTests
{
    [Fact]
    public void ToString_MixedCells_WritesAlignedGitHubTable()
    {
        var table = new MarkdownTable(
        [
            new MarkdownColumn("method"),
            new MarkdownColumn("CIDEr-D", ColumnAlignment.Right, "0.000"),
            new MarkdownColumn("ms/clip", ColumnAlignment.Right, "0.0"),
            new MarkdownColumn("note", ColumnAlignment.Centre),
        ]);

        table.AddRow("student", 0.41234, 12.46, "ok").AddRow("teacher", 0.5, 240, null);

        Assert.Equal(
            """
            | method  | CIDEr-D | ms/clip | note |
            | :------ | ------: | ------: | :--: |
            | student |   0.412 |    12.5 |  ok  |
            | teacher |   0.500 |   240.0 |      |

            """,
            table.ToString());
        Assert.Equal(2, table.RowCount);
    }

    [Fact]
    public void AddRow_NoFormat_WritesShortestInvariantForm()
    {
        var table = new MarkdownTable([new MarkdownColumn("x"), new MarkdownColumn("y")]);

        table.AddRow(0.1 + 0.2, 1_234_567L);

        Assert.Contains("| 0.30000000000000004 | 1234567 |", table.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AddRow_PipeNewlineAndNaN_EscapedAndMarkedMissing()
    {
        var table = new MarkdownTable([new MarkdownColumn("a|b"), new MarkdownColumn("score", ColumnAlignment.Right, "0.00")]);

        table.AddRow("x | y\nz", double.NaN);

        var lines = table.ToString().Split('\n');
        Assert.Equal("| a\\|b     | score |", lines[0]);
        Assert.Equal("| x \\| y z |   n/a |", lines[2]);
    }

    [Fact]
    public void AddRow_WrongCellCount_Throws()
    {
        var table = new MarkdownTable([new MarkdownColumn("a"), new MarkdownColumn("b")]);

        var error = Assert.Throws<ArgumentException>(() => table.AddRow("only one"));

        Assert.Contains("2 columns", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRow_UnsupportedCell_ThrowsNamingTheColumn()
    {
        var table = new MarkdownTable([new MarkdownColumn("when")]);

        var error = Assert.Throws<ArgumentException>(() => table.AddRow(DateTime.UnixEpoch));

        Assert.Contains("'when'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NoColumnsOrBlankHeader_Throws()
    {
        Assert.Throws<ArgumentException>(() => new MarkdownTable([]));
        Assert.Throws<ArgumentException>(() => new MarkdownTable([new MarkdownColumn(" ")]));
    }
}
