using System.Net;
using System.Net.Sockets;
using System.Text;
using CaptionDaemon.Plugins.Audio.Ffmpeg;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionDaemon.Plugins.Audio.Tests.Ffmpeg;

/// <summary>RTSP credentials reach the real ffmpeg without appearing on its command line (readable by every local user).</summary>
public sealed class FfmpegCredentialsTests
{
    [Fact]
    public async Task Start_RtspUrlWithCredentials_FfmpegAuthenticatesWithThemAndTheyAreNotOnItsCommandLine()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;
        var authorization = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serving = ServeAsync(server, authorization, stop.Token);
        var options = new FfmpegOptions("ffmpeg", $"rtsp://camera:s3cr'et@127.0.0.1:{port}/stream", null, ["-rtsp_transport", "tcp"], false, RestartPolicy.Always, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30));

        await using var run = FfmpegRun.Start(options, NullLogger.Instance, stop.Token);
        var header = await authorization.Task.WaitAsync(stop.Token);
        // ffmpeg is still connecting (the server holds its authenticated request): its command line is there to read.
        var commandLine = (await File.ReadAllTextAsync($"/proc/{run.ProcessId}/cmdline", stop.Token)).Replace('\0', ' ');

        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("camera:s3cr'et")), header);
        Assert.DoesNotContain("s3cr", commandLine, StringComparison.Ordinal);
        Assert.DoesNotContain("camera:", commandLine, StringComparison.Ordinal);
        Assert.Contains("-f concat", commandLine, StringComparison.Ordinal);
        await stop.CancelAsync();
        await serving;
    }

    /// <summary>An RTSP server that asks for Basic credentials, records what comes back and then says nothing more.</summary>
    private static async Task ServeAsync(TcpListener server, TaskCompletionSource<string> authorization, CancellationToken cancellationToken)
    {
        var held = new List<TcpClient>();
        try
        {
            while (!authorization.Task.IsCompleted)
            {
                var client = await server.AcceptTcpClientAsync(cancellationToken);
                held.Add(client);
                var stream = client.GetStream();
                var buffer = new byte[4096];
                while (await stream.ReadAsync(buffer, cancellationToken) is var read and > 0)
                {
                    var request = Encoding.ASCII.GetString(buffer, 0, read);
                    var lines = request.Split("\r\n");
                    var auth = lines.FirstOrDefault(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase));
                    if (auth is not null)
                    {
                        authorization.TrySetResult(auth["Authorization:".Length..].Trim());
                        break;
                    }

                    var cseq = lines.FirstOrDefault(l => l.StartsWith("CSeq:", StringComparison.OrdinalIgnoreCase))?["CSeq:".Length..].Trim() ?? "1";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm=\"camera\"\r\n\r\n"), cancellationToken);
                }
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The test is done.
        }
        finally
        {
            foreach (var client in held)
                client.Dispose();
        }
    }
}
