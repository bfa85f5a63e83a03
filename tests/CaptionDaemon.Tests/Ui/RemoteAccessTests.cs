using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CaptionDaemon.Tests.EndToEnd;
using CaptionDaemon.Tests.Scheduling;

namespace CaptionDaemon.Tests.Ui;

/// <summary>
/// The built captiond listening on all addresses: loopback clients are served as before; clients reaching it through
/// this machine's own network address need the generated credentials, or are refused with the reason.
/// </summary>
public sealed class RemoteAccessTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("page-access-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task Run_ListeningBeyondLoopback_OtherClientsNeedTheGeneratedPassword()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException("This machine has no IPv4 address besides loopback to reach the daemon from.");
        var state = Path.Combine(_temp.FullName, "state");
        var config = Path.Combine(_temp.FullName, "captiond.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Sources = new { scene = new { Type = "wav", Path = RepositoryFiles.Samples[0] } },
            Sinks = new { file = new { Type = "jsonl", Path = Path.Combine(_temp.FullName, "captions.jsonl") } },
            Broker = new { Enabled = false },
            StateDirectory = state,
        }));
        var port = DaemonProcess.FreePort();
        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--metrics", $"0.0.0.0:{port}"]);
        var passwordFile = Path.Combine(state, "ui-password");
        await daemon.WaitForLineAsync(l => l.Contains("beyond loopback", StringComparison.Ordinal) && l.Contains(passwordFile, StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        using var http = new HttpClient();
        var local = new Uri($"http://127.0.0.1:{port}");
        var remote = new Uri($"http://{address}:{port}");

        // Loopback: open, as before.
        await WaitForServingAsync(http, new Uri(local, "/healthz"), daemon);
        foreach (var path in new[] { "/", "/metrics", "/healthz" })
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(local, path))).StatusCode);

        // From the network address, without credentials: refused, saying how to log in.
        foreach (var path in new[] { "/", "/metrics", "/healthz", "/events", "/audio" })
        {
            using var refused = await http.GetAsync(new Uri(remote, path));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Basic", refused.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains($"log in as captiond with the password in {passwordFile}", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The generated password is the owner's alone, and lets the client in.
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));
        var password = (await File.ReadAllTextAsync(passwordFile)).Trim();
        Assert.True(password.Length >= 16, password);
        foreach (var path in new[] { "/", "/metrics", "/healthz" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(remote, path));
            request.Headers.Authorization = Basic("captiond", password);
            using var allowed = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri(remote, "/metrics"));
        wrong.Headers.Authorization = Basic("captiond", password + "x");
        using var wrongAnswer = await http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAnswer.StatusCode);
        Assert.Contains("wrong user name or password", await wrongAnswer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task WaitForServingAsync(HttpClient http, Uri url, DaemonProcess daemon)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var response = await http.GetAsync(url);
                return;
            }
            catch (HttpRequestException) when (!daemon.HasExited)
            {
                await Task.Delay(200);
            }
        }

        throw new TimeoutException($"captiond did not answer on {url}:\n{daemon.Output()}");
    }
}
