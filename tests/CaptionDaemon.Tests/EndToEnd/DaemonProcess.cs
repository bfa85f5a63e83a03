using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// The real <c>captiond</c> binary from the daemon's build output (with its plugins/ and models/default), run as a
/// child process with the given arguments. Standard output and error are collected line by line.
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _standardOutput = new();

    private DaemonProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The daemon's build output folder, the same configuration as the tests.</summary>
    public static string BinaryDirectory
    {
        get
        {
            var configuration = BuildConfiguration;
            return Path.Combine(RepositoryRoot, "daemon", "CaptionDaemon", "bin", configuration, "net10.0");
        }
    }

    /// <summary>Debug or Release: the configuration these tests were built in (bin/&lt;configuration&gt;/net10.0).</summary>
    public static string BuildConfiguration =>
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CaptionDaemon.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("CaptionDaemon.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>The lines of standard output alone (<see cref="Lines"/> holds both streams).</summary>
    public IReadOnlyCollection<string> StandardOutputLines => _standardOutput;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts captiond with <paramref name="args"/>; <c>CAPTIOND_CONFIG_DIR</c> points at an empty folder so that the machine's /etc/captiond does not leak in.</summary>
    public static DaemonProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        StartExecutable(Path.Combine(BinaryDirectory, "captiond"), args, environment);

    /// <summary>Starts a captiond binary elsewhere (an installed copy) like <see cref="Start"/>.</summary>
    public static DaemonProcess StartExecutable(string executable, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["CAPTIOND_CONFIG_DIR"] = Path.Combine(Path.GetTempPath(), "captiond-no-config");
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var daemon = new DaemonProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                daemon._standardOutput.Enqueue(e.Data);
                daemon._lines.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) daemon._lines.Enqueue(e.Data); };
        if (!process.Start())
            throw new InvalidOperationException("captiond did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>Waits for a line that satisfies <paramref name="match"/>, failing with the output so far after the timeout.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var line = _lines.FirstOrDefault(match);
            if (line is not null)
                return line;
            if (_process.HasExited)
                break;
            await Task.Delay(100);
        }
        throw new TimeoutException($"captiond did not print the expected line within {timeout} (exited: {_process.HasExited}). Output:\n{Output()}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public string Output() => string.Join('\n', _lines);

    /// <summary>Stops it as systemd would (SIGTERM), then kills it if it does not stop in time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Signal(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }

    /// <summary>SIGKILL, at once: no shutdown code of the daemon runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _ = Signal(_process.Id, 9);
        _process.WaitForExit();
    }

    /// <summary>Sends a POSIX signal (15 = TERM, 1 = HUP) with kill(1).</summary>
    public static bool Signal(int pid, int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode == 0;
    }

    public int Id => _process.Id;

    /// <summary>A TCP port free on loopback right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
