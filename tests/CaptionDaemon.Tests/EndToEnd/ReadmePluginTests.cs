using System.Text.RegularExpressions;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// The README's "Writing a plugin" sample, taken from the README's own text, built as a third party would build it and
/// run by the built daemon: it cannot drift from what compiles and works.
/// </summary>
public sealed partial class ReadmePluginTests : IDisposable
{
    private static readonly string _bundle = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "data", "labelled-bundle");

    // Outside the repository, so that none of its build settings help the sample.
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-readme-plugin-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task ReadmeSample_BuiltFromTheReadmeText_LoadsAndItsSourceIsOnlineAndCaptioned()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(DaemonProcess.RepositoryRoot, "README.md"));
        var section = readme[readme.IndexOf("## Writing a plugin", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var project = Directory.CreateDirectory(Path.Combine(_temp.FullName, "SinePlugin")).FullName;
        await File.WriteAllTextAsync(Path.Combine(project, "SinePlugin.cs"), Block(section, "csharp"));
        await File.WriteAllTextAsync(Path.Combine(project, "SinePlugin.csproj"), Block(section, "xml"));

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var (exit, output, error) = await ChildProcess.RunAsync(
            dotnet, ["build", Path.Combine(project, "SinePlugin.csproj"), "-c", "Release", "--nologo", $"-p:CaptionDaemonRoot={DaemonProcess.RepositoryRoot}"], TimeSpan.FromMinutes(4));
        Assert.True(exit == 0, output + error);

        // Installed as the README says: the build output in plugins/<assembly name>/, without the host's contracts.
        var plugins = Path.Combine(_temp.FullName, "plugins");
        var installed = Directory.CreateDirectory(Path.Combine(plugins, "SinePlugin")).FullName;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(project, "bin", "Release", "net10.0")))
            File.Copy(file, Path.Combine(installed, Path.GetFileName(file)));
        Assert.False(File.Exists(Path.Combine(installed, "CaptionDaemon.Contracts.dll")));

        var captions = Path.Combine(_temp.FullName, "captions.jsonl");
        var config = Path.Combine(_temp.FullName, "captiond.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Sources": { "tone": { "Type": "sine", "Hz": 880 } },
              "Sinks": { "file": { "Type": "jsonl", "Path": "{{captions}}" } },
              "Broker": { "Enabled": false },
              "Captions": { "SuppressRepeats": false, "MinConfidence": 0 }
            }
            """);
        var (checkExit, checkOutput, checkError) = await ChildProcess.RunAsync(
            Path.Combine(DaemonProcess.BinaryDirectory, "captiond"), ["check-config", "--config", config, "--plugins", plugins, "--model", _bundle],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["CAPTIOND_CONFIG_DIR"] = _temp.FullName });
        Assert.True(checkExit == 0, checkOutput + checkError);
        Assert.Contains("source:  tone (sine)", checkOutput, StringComparison.Ordinal);

        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--plugins", plugins, "--model", _bundle, "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}", "--hop", "1"]);
        await daemon.WaitForLineAsync(l => l.Contains("Plugin SinePlugin loaded", StringComparison.Ordinal) && l.Contains("sine", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        // The sample never reports a state: the host shows it online because it yields audio.
        await daemon.WaitForLineAsync(l => l.Contains("Source tone: Online", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !(File.Exists(captions) && (await ReadSharedAsync(captions)).Contains("\"source\":\"tone\"", StringComparison.Ordinal)))
            await Task.Delay(200);
        Assert.Contains("\"source\":\"tone\"", File.Exists(captions) ? await ReadSharedAsync(captions) : string.Empty, StringComparison.Ordinal);
    }

    private static string Block(string markdown, string language)
    {
        var match = CodeBlock().Matches(markdown).FirstOrDefault(m => m.Groups["language"].Value == language)
            ?? throw new InvalidOperationException($"The README's plugin section has no {language} block.");
        return match.Groups["code"].Value;
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    [GeneratedRegex(@"```(?<language>\w+)\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
