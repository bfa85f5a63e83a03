using System.Collections.Concurrent;
using System.Diagnostics;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>A real <c>mosquitto_sub -v</c>, its lines (<c>topic payload</c>) collected.</summary>
internal sealed class SubscriberProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private SubscriberProcess(Process process)
    {
        _process = process;
    }

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Subscribes at QoS 1; <paramref name="clientId"/> with a persistent session survives broker restarts.</summary>
    /// <param name="port">The broker's port on 127.0.0.1.</param>
    /// <param name="topic">The topic filter.</param>
    /// <param name="clientId">A fixed client id with a persistent session, or null.</param>
    /// <param name="optionsFolder">A folder holding a <c>mosquitto_sub</c> options file (the daemon's generated credentials), given as XDG_CONFIG_HOME.</param>
    public static SubscriberProcess Start(int port, string topic, string? clientId = null, string? optionsFolder = null)
    {
        var start = new ProcessStartInfo("mosquitto_sub") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (optionsFolder is not null)
            start.Environment["XDG_CONFIG_HOME"] = optionsFolder;
        foreach (var arg in new[] { "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-v", "-q", "1" })
            start.ArgumentList.Add(arg);
        if (clientId is not null)
        {
            foreach (var arg in new[] { "-c", "-i", clientId })
                start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("mosquitto_sub did not start");
        var subscriber = new SubscriberProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) subscriber._lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) subscriber._lines.Enqueue("stderr: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return subscriber;
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, DaemonProcess daemon)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var line = _lines.FirstOrDefault(match);
            if (line is not null)
                return line;
            await Task.Delay(100);
        }
        throw new TimeoutException($"mosquitto_sub did not receive the expected message within {timeout}. Received:\n{string.Join('\n', _lines)}\ncaptiond:\n{daemon.Output()}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.Dispose();
    }
}
