using System.Runtime.Versioning;
using CaptionDaemon.Tests.EndToEnd;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Tests.Hosting;

/// <summary>The files in systemd/: the unit passes systemd-analyze, install.sh lays out what the unit expects.</summary>
[SupportedOSPlatform("linux")]
public sealed class SystemdUnitTests : IDisposable
{
    private static readonly string _systemd = Path.Combine(FindRepositoryRoot(), "systemd");
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("captiond-systemd-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task Verify_ShippedUnit_PassesSystemdAnalyze()
    {
        Assert.True(File.Exists("/usr/bin/systemd-analyze") || File.Exists("/bin/systemd-analyze"),
            "systemd-analyze is missing: install the Debian package 'systemd' (CI needs it for this check)");

        var result = await RunAsync(Path.Combine(_systemd, "verify.sh"));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("captiond.service OK", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_UnitWithAMisspelledKey_Fails()
    {
        var unit = Path.Combine(_folder.FullName, "captiond.service");
        var text = await File.ReadAllTextAsync(Path.Combine(_systemd, "captiond.service"));
        await File.WriteAllTextAsync(unit, text.Replace("WatchdogSec=30", "WatchdogSeconds=30", StringComparison.Ordinal));

        var result = await RunAsync(Path.Combine(_systemd, "verify.sh"), unit);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Unknown key 'WatchdogSeconds'", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Unit_Settings_MatchTheInstallLayoutAndTheWatchdog()
    {
        var settings = File.ReadAllLines(Path.Combine(_systemd, "captiond.service"))
            .Where(line => line.Length > 0 && line[0] is not '#' and not '[')
            .Select(line => line.Split('=', 2))
            .ToLookup(pair => pair[0], pair => pair[1]);

        Assert.Equal("/opt/captiond/captiond run --config /etc/captiond/captiond.json", Assert.Single(settings["ExecStart"]));
        Assert.Equal("/bin/kill -HUP $MAINPID", Assert.Single(settings["ExecReload"]));
        Assert.Equal("notify", Assert.Single(settings["Type"]));
        Assert.Equal("30", Assert.Single(settings["WatchdogSec"]));
        Assert.Equal("captiond", Assert.Single(settings["ConfigurationDirectory"]));
        Assert.Equal("captiond", Assert.Single(settings["StateDirectory"]));
        Assert.Equal("strict", Assert.Single(settings["ProtectSystem"]));
        Assert.Empty(settings["MemoryDenyWriteExecute"]);
        Assert.Equal(
            ["char-alsa rw", "/dev/nvidiactl rw", "/dev/nvidia0 rw", "/dev/nvidia-uvm rw", "/dev/nvidia-uvm-tools rw"],
            settings["DeviceAllow"]);
    }

    [Fact]
    public void ExampleConfiguration_ReadAsTheHostReadsJson_HasSourcesSinksAndModel()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(_systemd, "captiond.example.json"), optional: false, reloadOnChange: false)
            .Build();

        Assert.Equal(["door-cam", "kitchen", "sensor"], configuration.GetSection("Sources").GetChildren().Select(s => s.Key).Order(StringComparer.Ordinal));
        Assert.Equal("jsonl", configuration["Sinks:file:Type"]);
        Assert.Equal("mqtt", configuration["Sinks:mqtt:Type"]);
        Assert.Equal("/opt/captiond/models/default", configuration["Model:Path"]);
    }

    [Fact]
    public async Task Install_PublishedFolder_LaysOutDaemonUnitAndConfigurationAndKeepsAnEditedConfiguration()
    {
        var published = PublishedStandIn();
        var root = Path.Combine(_folder.FullName, "root");

        var first = await RunAsync(Path.Combine(_systemd, "install.sh"), "--from", published, "--destdir", root, "--no-start");
        Assert.True(first.ExitCode == 0, first.Output);

        Assert.True(File.Exists(Path.Combine(root, "opt/captiond/captiond")));
        Assert.True(File.Exists(Path.Combine(root, "opt/captiond/plugins/CaptionDaemon.Plugins.Outputs/CaptionDaemon.Plugins.Outputs.dll")));
        Assert.True(File.Exists(Path.Combine(root, "opt/captiond/models/default/manifest.json")));
        Assert.Equal(
            await File.ReadAllTextAsync(Path.Combine(_systemd, "captiond.service")),
            await File.ReadAllTextAsync(Path.Combine(root, "etc/systemd/system/captiond.service")));
        var config = Path.Combine(root, "etc/captiond/captiond.json");
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(_systemd, "captiond.json")), await File.ReadAllTextAsync(config));
        Assert.Equal(["captiond.env", "captiond.json"], Directory.EnumerateFiles(Path.Combine(root, "etc/captiond")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(_systemd, "captiond.example.json")), await File.ReadAllTextAsync(Path.Combine(root, "opt/captiond/captiond.example.json")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, "etc/captiond/captiond.env")));
        Assert.Contains("journalctl -u captiond -f", first.Output, StringComparison.Ordinal);

        // Again, as an upgrade: the user's configuration stays; a model file the new version no longer has goes.
        await File.WriteAllTextAsync(config, "{ \"Sources\": {} }");
        await File.WriteAllTextAsync(Path.Combine(root, "opt/captiond/models/default/stale.onnx"), "old");
        var second = await RunAsync(Path.Combine(_systemd, "install.sh"), "--from", published, "--destdir", root, "--no-start");
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Equal("{ \"Sources\": {} }", await File.ReadAllTextAsync(config));
        Assert.False(File.Exists(Path.Combine(root, "opt/captiond/models/default/stale.onnx")));
    }

    [Fact]
    public async Task Install_Prefix_PointsTheUnitAndTheModelPathThere()
    {
        var root = Path.Combine(_folder.FullName, "root");

        var result = await RunAsync(Path.Combine(_systemd, "install.sh"), "--from", PublishedStandIn(), "--destdir", root, "--prefix", "/srv/captiond", "--no-start");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.True(File.Exists(Path.Combine(root, "srv/captiond/captiond")));
        var unit = await File.ReadAllLinesAsync(Path.Combine(root, "etc/systemd/system/captiond.service"));
        Assert.Contains("ExecStart=/srv/captiond/captiond run --config /etc/captiond/captiond.json", unit);
        Assert.Contains("\"Path\": \"/srv/captiond/models/default\"", await File.ReadAllTextAsync(Path.Combine(root, "srv/captiond/captiond.example.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uninstall_Installed_RemovesDaemonAndUnitButKeepsConfiguration()
    {
        var root = Path.Combine(_folder.FullName, "root");
        var install = await RunAsync(Path.Combine(_systemd, "install.sh"), "--from", PublishedStandIn(), "--destdir", root, "--no-start");
        Assert.True(install.ExitCode == 0, install.Output);

        var result = await RunAsync(Path.Combine(_systemd, "install.sh"), "--destdir", root, "--uninstall");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.False(Directory.Exists(Path.Combine(root, "opt/captiond")));
        Assert.False(File.Exists(Path.Combine(root, "etc/systemd/system/captiond.service")));
        Assert.True(File.Exists(Path.Combine(root, "etc/captiond/captiond.json")));
    }

    [Fact]
    public async Task Install_BuiltDaemonIntoATemporaryRoot_ChecksTheConfigurationAndTheInstalledDaemonCaptionsTheDemoOnLoopback()
    {
        var root = Path.Combine(_folder.FullName, "root");
        // An earlier version's example in /etc/captiond was read as configuration: the install takes it away.
        Directory.CreateDirectory(Path.Combine(root, "etc/captiond"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc/captiond/captiond.example.json"), "{ \"Sources\": { \"kitchen\": { \"Type\": \"ffmpeg\", \"Input\": \"default\", \"InputFormat\": \"alsa\" } } }");

        var install = await RunAsync(Path.Combine(_systemd, "install.sh"), "--from", DaemonProcess.BinaryDirectory, "--destdir", root, "--no-start");

        Assert.True(install.ExitCode == 0, install.Output);
        Assert.False(File.Exists(Path.Combine(root, "etc/captiond/captiond.example.json")), install.Output);
        Assert.Contains("Removed /etc/captiond/captiond.example.json", install.Output, StringComparison.Ordinal);
        // The installed daemon checked the installed configuration: the demo source, the embedded broker's MQTT sink.
        Assert.Contains("  source:  demo (wav)", install.Output, StringComparison.Ordinal);
        Assert.Contains("  The configuration is valid.", install.Output, StringComparison.Ordinal);
        Assert.Contains("configuration: /etc/captiond/captiond.json (valid)", install.Output, StringComparison.Ordinal);
        Assert.Contains("Edit /etc/captiond/captiond.json", install.Output, StringComparison.Ordinal);
        // Native libraries of this machine only.
        var rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        var runtimes = Directory.EnumerateDirectories(Path.Combine(root, "opt/captiond"), "*", SearchOption.AllDirectories)
            .Where(d => Path.GetFileName(Path.GetDirectoryName(d)) == "runtimes")
            .Select(Path.GetFileName)
            .Distinct()
            .ToList();
        Assert.All(runtimes, r => Assert.True(r is "linux" or "unix" || r == rid, $"runtimes/{r} does not run on {rid}"));

        // The installed daemon with the installed configuration, as the unit runs it (ports moved off the defaults).
        var daemonPath = Path.Combine(root, "opt/captiond/captiond");
        var environment = new Dictionary<string, string>
        {
            ["CAPTIOND_CONFIG_DIR"] = Path.Combine(root, "etc/captiond"),
            ["CAPTIOND__Broker__Port"] = DaemonProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CAPTIOND__Metrics__Listen"] = $"127.0.0.1:{DaemonProcess.FreePort()}",
            ["CAPTIOND__StateDirectory"] = Path.Combine(_folder.FullName, "state"),
        };
        await using var daemon = DaemonProcess.StartExecutable(daemonPath, ["run", "--config", Path.Combine(root, "etc/captiond/captiond.json")], environment);
        await daemon.WaitForLineAsync(l => l.Contains("[demo ", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        Assert.DoesNotContain(daemon.Lines, l => l.Contains("kitchen", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Install_UserConfigurationWithAMistake_KeptReportedByTheInstalledDaemonAndNotCalledValid()
    {
        var root = Path.Combine(_folder.FullName, "root");
        Directory.CreateDirectory(Path.Combine(root, "etc/captiond"));
        var config = Path.Combine(root, "etc/captiond/captiond.json");
        const string Mine = "{ \"Windowing\": { \"HopSeconds\": \"fast\" } }";
        await File.WriteAllTextAsync(config, Mine);

        var install = await RunAsync(Path.Combine(_systemd, "install.sh"), "--from", DaemonProcess.BinaryDirectory, "--destdir", root, "--no-start");

        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Equal(Mine, await File.ReadAllTextAsync(config));
        Assert.Contains("Kept your /etc/captiond/captiond.json.", install.Output, StringComparison.Ordinal);
        Assert.Contains("  error:   Windowing:HopSeconds: must be a number, was 'fast'", install.Output, StringComparison.Ordinal);
        Assert.Contains("configuration: /etc/captiond/captiond.json (NOT VALID, see above)", install.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_MachineWithoutFfmpeg_SaysHowToGetItAndStillInstalls()
    {
        // A PATH with the tools install.sh uses and dotnet, but no ffmpeg: a machine that never installed it.
        var tools = Directory.CreateDirectory(Path.Combine(_folder.FullName, "bin")).FullName;
        foreach (var tool in new[] { "bash", "cp", "sed", "mkdir", "rm", "chmod", "install", "find", "mktemp", "dirname", "readlink", "uname", "id", "env", "grep", "cat", "tr", "mv", "basename", "dotnet" })
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(d => Path.Combine(d, tool)).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(tools, tool), found);
        }
        Assert.False(File.Exists(Path.Combine(tools, "ffmpeg")));
        var root = Path.Combine(_folder.FullName, "root");

        var (exitCode, output, error) = await ChildProcess.RunAsync(
            Path.Combine(tools, "bash"), [Path.Combine(_systemd, "install.sh"), "--from", PublishedStandIn(), "--destdir", root, "--no-start"],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["PATH"] = tools });

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("ffmpeg: NOT FOUND. Sources of type ffmpeg (microphones, cameras, streams) need it: apt-get install ffmpeg", output, StringComparison.Ordinal);
        Assert.Contains("sudo apt-get install ffmpeg", error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(root, "opt/captiond/captiond")));
    }

    [Fact]
    public async Task ExampleConfiguration_CheckedByTheBuiltDaemon_IsValidWithoutWarnings()
    {
        var (exitCode, output, error) = await ChildProcess.RunAsync(
            Path.Combine(DaemonProcess.BinaryDirectory, "captiond"),
            ["check-config", "--config", Path.Combine(_systemd, "captiond.example.json"), "--model", Path.Combine(DaemonProcess.BinaryDirectory, "models", "default")],
            TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["CAPTIOND_CONFIG_DIR"] = _folder.FullName });

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("The configuration is valid.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/opt")]
    [InlineData("relative/dir")]
    [InlineData("/opt/../etc")]
    public async Task Install_UnsafePrefix_IsRefused(string prefix)
    {
        var root = Path.Combine(_folder.FullName, "root");

        var result = await RunAsync(Path.Combine(_systemd, "install.sh"), "--destdir", root, "--prefix", prefix, "--uninstall");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--prefix must be", result.Output, StringComparison.Ordinal);
    }

    /// <summary>A folder shaped like `dotnet publish daemon/CaptionDaemon` output, without the minutes of publishing.</summary>
    private string PublishedStandIn()
    {
        var published = Directory.CreateDirectory(Path.Combine(_folder.FullName, "published")).FullName;
        File.WriteAllText(Path.Combine(published, "captiond"), "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(Path.Combine(published, "captiond"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var plugin = Directory.CreateDirectory(Path.Combine(published, "plugins", "CaptionDaemon.Plugins.Outputs")).FullName;
        File.WriteAllText(Path.Combine(plugin, "CaptionDaemon.Plugins.Outputs.dll"), "stand-in");
        var model = Directory.CreateDirectory(Path.Combine(published, "models", "default")).FullName;
        File.WriteAllText(Path.Combine(model, "manifest.json"), "{}");
        return published;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string script, params string[] arguments)
    {
        var (exitCode, output, error) = await ChildProcess.RunAsync("bash", [script, .. arguments], TimeSpan.FromSeconds(60));
        return (exitCode, output + error);
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "systemd", "captiond.service")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No systemd/captiond.service above {AppContext.BaseDirectory}");
    }
}
