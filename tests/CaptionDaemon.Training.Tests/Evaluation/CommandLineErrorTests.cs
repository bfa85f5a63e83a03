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
}
