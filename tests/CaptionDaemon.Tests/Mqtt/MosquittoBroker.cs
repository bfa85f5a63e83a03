using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CaptionDaemon.Tests.Mqtt;

/// <summary>
/// A real mosquitto on a free loopback port with its own temporary configuration, killed on dispose. Shared (as a
/// linked file) by the daemon's and the MQTT plugin's tests.
/// </summary>
internal sealed class MosquittoBroker : IDisposable
{
    private const string Executable = "/usr/sbin/mosquitto";

    private readonly string _configPath;
    private Process? _process;

    private MosquittoBroker(string directory, int port)
    {
        Directory = directory;
        Port = port;
        _configPath = Path.Combine(directory, "mosquitto.conf");
    }

    public string Directory { get; }

    public int Port { get; }

    public string LogPath => Path.Combine(Directory, "mosquitto.log");

    /// <summary>Starts mosquitto. <paramref name="extraConfig"/> replaces <c>allow_anonymous true</c> when given.</summary>
    public static async Task<MosquittoBroker> StartAsync(string? extraConfig = null, bool persistence = false, string? listenerConfig = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "captiond-mosquitto-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var broker = new MosquittoBroker(directory, FreePort());
        // Started as root (CI, this machine), mosquitto drops to user "mosquitto", who may not write the temp folder.
        var config = new StringBuilder()
            .AppendLine(Environment.UserName == "root" ? "user root" : string.Empty)
            .AppendLine($"listener {broker.Port} 127.0.0.1")
            .AppendLine(listenerConfig ?? string.Empty)
            .AppendLine(extraConfig ?? "allow_anonymous true")
            .AppendLine($"log_dest file {broker.LogPath}")
            .AppendLine("log_type all")
            .AppendLine(persistence ? $"persistence true\npersistence_location {directory}/\nautosave_interval 0" : "persistence false")
            .ToString();
        await File.WriteAllTextAsync(broker._configPath, config);
        try
        {
            await broker.RestartAsync();
        }
        catch (Exception)
        {
            broker.Dispose();
            throw;
        }

        return broker;
    }

    /// <summary>Writes a mosquitto password file with one user (by <c>mosquitto_passwd -b</c>) and returns its path.</summary>
    public static string WritePasswordFile(string directory, string user, string password)
    {
        System.IO.Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "passwords");
        File.WriteAllText(path, string.Empty);
        using var process = Process.Start(new ProcessStartInfo("mosquitto_passwd", ["-b", path, user, password]) { RedirectStandardError = true })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("mosquitto_passwd failed: " + process.StandardError.ReadToEnd());
        }

        return path;
    }

    /// <summary>Starts (again) on the same port and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo(Executable, ["-c", _configPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}: {ReadLog()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Stops mosquitto gracefully (SIGTERM: with persistence it saves sessions and queued messages).</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
        _process = null;
    }

    public string ReadLog()
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>Publishes one message at QoS 1 with a real <c>mosquitto_pub</c>, retained when asked.</summary>
    public async Task PublishAsync(string topic, string payload, bool retain = false)
    {
        string[] arguments = ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-m", payload, "-q", "1", .. retain ? new[] { "-r" } : []];
        using var process = Process.Start(new ProcessStartInfo("mosquitto_pub", arguments))!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"mosquitto_pub -t {topic} exited with {process.ExitCode}");
    }

    /// <summary>Waits until mosquitto's log holds <paramref name="text"/>.</summary>
    public Task WaitForLogAsync(string text, TimeSpan? timeout = null) =>
        Poll.UntilAsync(() => ReadLog().Contains(text, StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(15), $"mosquitto's log to contain '{text}'");

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A real <c>mosquitto_sub -v</c> process; collects "topic payload" lines.</summary>
internal sealed class MosquittoSubscriber : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private MosquittoSubscriber(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Enqueue(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Starts <c>mosquitto_sub -h 127.0.0.1 -p PORT -t TOPIC -v</c> plus <paramref name="extraArguments"/>, and waits until it is subscribed.</summary>
    public static async Task<MosquittoSubscriber> StartAsync(MosquittoBroker broker, string topic, params string[] extraArguments)
    {
        var clientId = "sub-" + Guid.NewGuid().ToString("N")[..8];
        string[] arguments = ["-h", "127.0.0.1", "-p", broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-v", .. extraArguments];
        if (!arguments.Contains("-i"))
        {
            arguments = [.. arguments, "-i", clientId];
        }
        else
        {
            clientId = arguments[Array.IndexOf(arguments, "-i") + 1];
        }

        var process = Process.Start(new ProcessStartInfo("mosquitto_sub", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var subscriber = new MosquittoSubscriber(process);
        // Subscribed once mosquitto has answered the SUBSCRIBE: only then are later publications certain to arrive.
        try
        {
            await broker.WaitForLogAsync($"Sending SUBACK to {clientId}");
        }
        catch (TimeoutException)
        {
            subscriber.Dispose();
            throw;
        }

        return subscriber;
    }

    /// <summary>Payloads received on exactly <paramref name="topic"/>, in arrival order.</summary>
    public IReadOnlyList<string> PayloadsOf(string topic) =>
        [.. Lines.Where(l => l.StartsWith(topic + " ", StringComparison.Ordinal)).Select(l => l[(topic.Length + 1)..])];

    public Task WaitForAsync(Func<MosquittoSubscriber, bool> condition, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync(() => condition(this), timeout ?? TimeSpan.FromSeconds(20), what + " (got: " + string.Join(" | ", Lines.TakeLast(10)) + ")");

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}

/// <summary>Polls a condition until it holds or the time is up.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            }

            await Task.Delay(50);
        }
    }
}
