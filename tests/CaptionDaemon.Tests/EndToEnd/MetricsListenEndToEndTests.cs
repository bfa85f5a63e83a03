namespace CaptionDaemon.Tests.EndToEnd;

/// <summary><c>/metrics</c> beyond loopback is said at start (anyone who reaches it reads it); on loopback it is not.</summary>
public sealed class MetricsListenEndToEndTests
{
    private const string Warning = "reachable beyond this machine";

    [Fact]
    public async Task Run_MetricsOnAllInterfaces_WarnsAtStartButNotOnLoopback()
    {
        var bundle = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "data", "labelled-bundle");
        await using (var open = DaemonProcess.Start(["run", "--model", bundle, "--metrics", $"0.0.0.0:{DaemonProcess.FreePort()}", "--mqtt", "mqtt://127.0.0.1:1"]))
        {
            var line = await open.WaitForLineAsync(l => l.Contains(Warning, StringComparison.Ordinal), TimeSpan.FromSeconds(90));
            Assert.Contains("Metrics:Listen", line, StringComparison.Ordinal);
        }

        await using var closed = DaemonProcess.Start(["run", "--model", bundle, "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}", "--mqtt", "mqtt://127.0.0.1:1"]);
        await closed.WaitForLineAsync(l => l.Contains("Model ", StringComparison.Ordinal) && l.Contains(" loaded from ", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        Assert.DoesNotContain(closed.Lines, l => l.Contains(Warning, StringComparison.Ordinal));
    }
}
