using System.Text.RegularExpressions;

namespace CaptionDaemon.Training.Tests.Repository;

/// <summary>
/// Committed manifests, results and docs name no path of the machine they were made on: paths are relative to the
/// repository or to a named root (<c>$WORK</c>, <c>~</c>, <c>$TMP</c>; see RecordedPaths). Only the places a package
/// installs to or a Linux system has are absolute.
/// </summary>
public sealed partial class CommittedPathsTests
{
    /// <summary>Where the install script and the docs' configuration examples put things, and system locations.</summary>
    private static readonly string[] _systemLocations =
        ["/etc/", "/opt/captiond", "/var/lib/captiond", "/var/log/captiond", "/usr/", "/dev/", "/run/", "/proc/", "/sys/", "/bin/"];

    [Fact]
    public void CommittedFiles_ManifestsResultsAndDocs_NameNoAbsolutePathOutsideTheRepository()
    {
        var files = CheckedFiles().ToArray();
        Assert.Contains(files, f => f.EndsWith(Path.Combine("models", "default", "manifest.json"), StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(Path.Combine("training", "results", "kd", "reproduction.json"), StringComparison.Ordinal));

        var found = files
            .SelectMany(file => MachinePaths(File.ReadAllText(file)).Select(path => $"{Path.GetRelativePath(RepositoryPaths.Root, file)}: {path}"))
            .ToArray();

        Assert.True(found.Length == 0, "machine paths in committed files:\n" + string.Join('\n', found));
    }

    [Theory]
    [InlineData("\"data\": \"/work/scenes-30k\",", "/work/scenes-30k")]
    [InlineData("captiond-train train --data /home/alice/scenes --out x", "/home/alice/scenes")]
    [InlineData("see `/work/shared/PAPERS.md` §1", "/work/shared/PAPERS.md")]
    [InlineData("--out=/tmp/demo/out", "/tmp/demo/out")]
    public void MachinePaths_TextWithAMachinePath_FindsIt(string text, string path)
    {
        Assert.Equal([path], MachinePaths(text));
    }

    [Theory]
    [InlineData("\"Path\": \"/var/lib/captiond/captions.jsonl\"")]
    [InlineData("sudo systemctl restart captiond; cat /etc/captiond/captiond.json")]
    [InlineData("\"data\": \"$WORK/scenes-30k\", \"checkpoint\": \"~/.cache/run/best\", models/default")]
    [InlineData("GET /healthz and /metrics; 1/2 of the clips; sup+seq/contrastive")]
    public void MachinePaths_PortableOrSystemPaths_FindsNone(string text)
    {
        Assert.Empty(MachinePaths(text));
    }

    private static IEnumerable<string> MachinePaths(string text) =>
        AbsolutePath().Matches(text).Select(m => m.Groups["path"].Value)
            .Where(path => !_systemLocations.Any(location => path.StartsWith(location, StringComparison.Ordinal)));

    /// <summary>
    /// Every manifest, the JSON of the shipped models, the test data and the results, and every Markdown document of the
    /// checkout; build output left out.
    /// </summary>
    private static IEnumerable<string> CheckedFiles()
    {
        var root = RepositoryPaths.Root;
        var options = new EnumerationOptions { RecurseSubdirectories = true };
        return Directory.EnumerateFiles(root, "*", options)
            .Where(file =>
            {
                var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                if (relative.Split('/').Any(part => part is "bin" or "obj" or "TestResults" or ".git" or "node_modules"))
                {
                    return false;
                }

                var json = relative.EndsWith(".json", StringComparison.Ordinal) || relative.EndsWith(".jsonl", StringComparison.Ordinal);
                return relative.EndsWith(".md", StringComparison.Ordinal)
                    || Path.GetFileName(relative) == "manifest.json"
                    || (json && (relative.StartsWith("training/results/", StringComparison.Ordinal)
                        || relative.StartsWith("models/", StringComparison.Ordinal)
                        || relative.StartsWith("tests/data/", StringComparison.Ordinal)));
            });
    }

    /// <summary>An absolute path of two or more parts, where a path starts: after a space, a quote, a backtick, '(' or '='.</summary>
    [GeneratedRegex("""(?:^|[\s"'`(=])(?<path>/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._+\-]+)+)""", RegexOptions.Multiline)]
    private static partial Regex AbsolutePath();
}
