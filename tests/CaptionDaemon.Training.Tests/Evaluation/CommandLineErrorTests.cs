using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Evaluation;

/// <summary>A user's mistake on the command line is one line and exit code 1, never a stack trace.</summary>
public sealed class CommandLineErrorTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-train-errors-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public void Eval_MissingBundleAndData_OneLineNamingWhatIsMissing()
    {
        var error = new StringWriter();

        var exit = Program.Run(["eval", "--bundle", "/nonexistent", "--data", _temp.FullName], error);

        Assert.Equal(1, exit);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("captiond-train: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Eval_MissingRecordingList_OneLineNamingTheList()
    {
        var error = new StringWriter();
        var list = Path.Combine(_temp.FullName, "missing.tsv");

        var exit = Program.Run(["eval", "--bundle", "/nonexistent", "--recordings", list, "--json", Path.Combine(_temp.FullName, "out.json")], error);

        Assert.Equal(1, exit);
        Assert.Equal($"captiond-train: Recording list '{list}' does not exist.", error.ToString().Trim());
    }

    [Fact]
    public void MissingProgram_MissingToolExceptionNamingTheProgram()
    {
        var ex = Assert.Throws<MissingToolException>(() => ExternalTool.Start("captiond-no-such-tool", ["--version"]));

        Assert.Contains("'captiond-no-such-tool'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("must be installed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UserMessage_ParallelWorkersAllMissingATool_TheToolsMessage()
    {
        // What 'data fetch' threw without ffmpeg: one failure per worker of its Parallel.ForEach.
        var missing = new MissingToolException("Could not run 'ffmpeg'; it must be installed and on PATH (Debian package: ffmpeg).");
        var thrown = new AggregateException(missing, new AggregateException(new MissingToolException("Could not run 'ffmpeg'.")));

        Assert.Equal(missing.Message, Program.UserMessage(thrown));
    }

    [Fact]
    public void UserMessage_ABugAmongTheWorkersFailures_NullSoTheStackTraceIsKept()
    {
        var thrown = new AggregateException(new MissingToolException("Could not run 'ffmpeg'."), new NullReferenceException());

        Assert.Null(Program.UserMessage(thrown));
        Assert.Null(Program.UserMessage(new InvalidOperationException("a bug")));
        Assert.Equal("no bundle", Program.UserMessage(new TrainingException("no bundle")));
    }
}
