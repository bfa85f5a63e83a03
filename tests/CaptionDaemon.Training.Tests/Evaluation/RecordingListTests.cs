using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Evaluation;

namespace CaptionDaemon.Training.Tests.Evaluation;

public sealed class RecordingListTests
{
    [Fact]
    public void Parse_HeaderBlankLinesRelativeAndAbsolutePaths_ResolvesAgainstTheListFolder()
    {
        var absolute = Path.Combine(Path.GetTempPath(), "elsewhere", "cat.ogg");
        var text = $"path\tcategory\n\nsounds/dog.wav\tdog\n  \n{absolute}\tcat\n";

        var recordings = RecordingList.Parse(new StringReader(text), "list.tsv", "/data/lists");

        Assert.Equal(
            [new LabelledRecording("sounds/dog.wav", Path.GetFullPath("/data/lists/sounds/dog.wav"), "dog"), new LabelledRecording(absolute, absolute, "cat")],
            recordings);
    }

    [Theory]
    [InlineData("dog.wav dog\n", "line 1: expected 'path<TAB>category'")]
    [InlineData("path\tcategory\ndog.wav\tdog\ncat.wav\tcat\textra\n", "line 3: expected 'path<TAB>category' (2 tab-separated fields), found 3")]
    [InlineData("dog.wav\tdog\n\n\tcat\n", "line 3: the path is empty")]
    [InlineData("dog.wav\t \n", "line 1: the category is empty")]
    [InlineData("dog.wav\tdog\ndog.wav\tanimal\n", "line 2: 'dog.wav' is listed already on line 1")]
    [InlineData("path\tcategory\n\n", "lists no recordings")]
    public void Parse_MalformedList_ThrowsNamingFileAndLine(string text, string expected)
    {
        var error = Assert.Throws<DatasetFormatException>(() => RecordingList.Parse(new StringReader(text), "list.tsv", "/data"));

        Assert.StartsWith("list.tsv", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_ThrowsNamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "list.tsv");

        var error = Assert.Throws<DatasetFormatException>(() => RecordingList.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
