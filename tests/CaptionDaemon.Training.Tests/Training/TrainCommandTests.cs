using System.CommandLine;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Training;

public sealed class TrainCommandTests
{
    [Fact]
    public void Invoke_DataWithoutDevelopmentSplit_FailsWithExitCode2NamingTheFile()
    {
        var data = Directory.CreateTempSubdirectory("captiond-train-cmd-").FullName;
        try
        {
            var (exitCode, error) = Invoke("--data", data, "--out", Path.Combine(data, "out"), "--epochs", "1");

            Assert.Equal(2, exitCode);
            Assert.Contains("train: Clotho split 'development' not found", error, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(data, "clotho_captions_development.csv"), error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void Invoke_ResumeWithoutCheckpoint_FailsSayingSo()
    {
        var data = Directory.CreateTempSubdirectory("captiond-train-cmd-").FullName;
        try
        {
            var (exitCode, error) = Invoke("--data", data, "--out", Path.Combine(data, "out"), "--resume");

            Assert.Equal(2, exitCode);
            Assert.Contains("--resume", error, StringComparison.Ordinal);
            Assert.Contains("holds no checkpoint", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void Invoke_InvalidSize_IsRejectedByTheParser()
    {
        var (exitCode, error) = Invoke("--data", "d", "--out", "o", "--size", "huge");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("huge", error, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Error) Invoke(params string[] arguments)
    {
        var root = new RootCommand { TrainCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = root.Parse(["train", .. arguments]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, error.ToString());
    }
}
