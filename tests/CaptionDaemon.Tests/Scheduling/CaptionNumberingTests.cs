using CaptionDaemon.Scheduling;

namespace CaptionDaemon.Tests.Scheduling;

public sealed class CaptionNumberingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outbox-numbering-").FullName;

    private string FilePath => Path.Combine(_directory, "sequences");

    [Fact]
    public void Persistent_Reopened_SameRunAndNumbersContinuePerSource()
    {
        var first = CaptionNumbering.Persistent(FilePath);
        Assert.Equal(1, first.Next("kitchen"));
        Assert.Equal(2, first.Next("kitchen"));
        Assert.Equal(1, first.Next("garden"));

        // No clean shutdown: the file is all there is, as after SIGKILL.
        var second = CaptionNumbering.Persistent(FilePath);
        Assert.Equal(first.Run, second.Run);
        Assert.Equal(3, second.Next("kitchen"));
        Assert.Equal(2, second.Next("garden"));
        Assert.Null(second.Problem);
    }

    [Fact]
    public void InMemory_EachInstance_NewRunFromOne()
    {
        var a = CaptionNumbering.InMemory();
        var b = CaptionNumbering.InMemory();
        Assert.NotEqual(a.Run, b.Run);
        Assert.Equal(1, a.Next("kitchen"));
        Assert.Equal(1, b.Next("kitchen"));
        Assert.False(a.IsPersistent);
    }

    [Fact]
    public void Persistent_UnreadableFile_NewRunAndSaysWhy()
    {
        var first = CaptionNumbering.Persistent(FilePath);
        first.Next("kitchen");
        File.WriteAllText(FilePath, "run abc\nnot-a-number kitchen\n");

        var second = CaptionNumbering.Persistent(FilePath);

        Assert.NotEqual("abc", second.Run);
        Assert.Contains(FilePath, second.Problem, StringComparison.Ordinal);
        Assert.Contains("line 2", second.Problem, StringComparison.Ordinal);
        Assert.Equal(1, second.Next("kitchen"));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
