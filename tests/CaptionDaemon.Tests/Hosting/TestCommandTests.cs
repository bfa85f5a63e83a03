using System.Text.RegularExpressions;
using CaptionDaemon.Tests.EndToEnd;

namespace CaptionDaemon.Tests.Hosting;

/// <summary>One test command: the README's, which sets up what the tests need, is what CI runs.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class TestCommandTests
{
    [Fact]
    public async Task ReadmeTestCommand_IsTestShWhichCiRunsAndWhichEndsInDotnetTestOfTheSolution()
    {
        var root = DaemonProcess.RepositoryRoot;
        var readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"));
        var section = readme[readme.IndexOf("## Test\n", StringComparison.Ordinal)..];
        var command = ShellBlock().Match(section).Groups["command"].Value.Trim();
        Assert.Equal("./test.sh", command);

        var ci = await File.ReadAllLinesAsync(Path.Combine(root, ".ci", "run"));
        Assert.Equal("exec ./test.sh", ci.Last(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).Trim());

        var script = await File.ReadAllLinesAsync(Path.Combine(root, "test.sh"));
        Assert.Equal("exec dotnet test CaptionDaemon.sln \"$@\"", script.Last(l => l.Trim().Length > 0).Trim());
        Assert.True(File.GetUnixFileMode(Path.Combine(root, "test.sh")).HasFlag(UnixFileMode.UserExecute));

        // Every program the tests start is one the script installs when missing.
        var text = string.Join('\n', script);
        foreach (var package in new[] { "ffmpeg", "mosquitto", "mosquitto-clients", "python3-jsonschema", "python3-jinja2", "fluidsynth", "systemd", "fonts-dejavu-core", "python3" })
            Assert.Contains($"need+=({package})", text, StringComparison.Ordinal);
    }

    [GeneratedRegex("```sh\n(?<command>[^`]*)```")]
    private static partial Regex ShellBlock();
}
