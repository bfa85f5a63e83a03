using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using CaptionDaemon.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionDaemon.Tests.Hosting;

public sealed class SystemdWatchdogTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("captiond-watchdog-");
    private readonly SwitchableHealth _health = new() { Healthy = true };

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task ExecuteAsync_WatchdogEnvironment_PingsAtHalfTheWatchdogInterval()
    {
        using var systemd = NotifySocket.Bind(Path.Combine(_folder.FullName, "notify"));
        using var watchdog = Create(new()
        {
            ["NOTIFY_SOCKET"] = systemd.Address,
            ["WATCHDOG_USEC"] = "400000",
            ["WATCHDOG_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Assert.Equal(TimeSpan.FromMilliseconds(200), watchdog.Interval);

        var clock = Stopwatch.StartNew();
        await watchdog.StartAsync(CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("WATCHDOG=1", await systemd.ReceiveAsync());
        }

        // One ping at start, then one per interval: the fourth cannot come before three intervals have passed.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(3 * 200 - 20), $"4 pings after {clock.Elapsed}");
        await watchdog.StopAsync(CancellationToken.None);
        Assert.True(watchdog.ExecuteTask!.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ExecuteAsync_AbstractNotifySocket_Pings()
    {
        var name = $"captiond-watchdog-test-{Guid.NewGuid():N}";
        using var systemd = NotifySocket.Bind("\0" + name);
        using var watchdog = Create(new() { ["NOTIFY_SOCKET"] = "@" + name, ["WATCHDOG_USEC"] = "1000000" });

        await watchdog.StartAsync(CancellationToken.None);

        Assert.Equal("WATCHDOG=1", await systemd.ReceiveAsync());
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ExecuteAsync_Unhealthy_WithholdsPingsUntilHealthyAgain()
    {
        _health.Healthy = false;
        using var systemd = NotifySocket.Bind(Path.Combine(_folder.FullName, "notify"));
        using var watchdog = Create(new() { ["NOTIFY_SOCKET"] = systemd.Address, ["WATCHDOG_USEC"] = "100000" });

        await watchdog.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => _health.Probes >= 4);

        // Four ticks asked the probe and heard "unhealthy": none of them may have pinged.
        Assert.Equal(0, systemd.PendingBytes);
        _health.Healthy = true;
        Assert.Equal("WATCHDOG=1", await systemd.ReceiveAsync());
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(null, "400000", null)]
    [InlineData("notify", null, null)]
    [InlineData("notify", "", null)]
    [InlineData("notify", "0", null)]
    [InlineData("notify", "soon", null)]
    [InlineData("notify", "400000", "1")]
    [InlineData("notify", "400000", "someone")]
    public async Task ExecuteAsync_NotAskedToPing_StaysInactive(string? notifySocket, string? watchdogUsec, string? watchdogPid)
    {
        using var systemd = NotifySocket.Bind(Path.Combine(_folder.FullName, "notify"));
        using var watchdog = Create(new()
        {
            ["NOTIFY_SOCKET"] = notifySocket is null ? null : systemd.Address,
            ["WATCHDOG_USEC"] = watchdogUsec,
            ["WATCHDOG_PID"] = watchdogPid,
        });

        await watchdog.StartAsync(CancellationToken.None);

        // Inactive: the service ends by itself, without being stopped, and has sent nothing.
        Assert.Null(watchdog.Interval);
        await watchdog.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, systemd.PendingBytes);
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Constructor_WatchdogSec30_PingsEvery15Seconds()
    {
        using var watchdog = Create(new() { ["NOTIFY_SOCKET"] = "/run/systemd/notify", ["WATCHDOG_USEC"] = "30000000" });

        Assert.Equal(TimeSpan.FromSeconds(15), watchdog.Interval);
    }

    private SystemdWatchdog Create(Dictionary<string, string?> environment) =>
        new(_health, NullLogger<SystemdWatchdog>.Instance, name => environment.GetValueOrDefault(name), Environment.ProcessId, TimeProvider.System);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "condition not met within 10 s");
            await Task.Delay(10);
        }
    }

    /// <summary>The health the watchdog asks; counts how often it was asked.</summary>
    private sealed class SwitchableHealth : IDaemonHealth
    {
        private int _probes;
        private volatile bool _healthy;

        public bool Healthy
        {
            get => _healthy;
            set => _healthy = value;
        }

        public int Probes => Volatile.Read(ref _probes);

        public bool IsHealthy
        {
            get
            {
                Interlocked.Increment(ref _probes);
                return _healthy;
            }
        }
    }

    /// <summary>What systemd listens on: an AF_UNIX datagram socket (a path, or an abstract name starting with NUL).</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket;

        private NotifySocket(Socket socket, string address)
        {
            _socket = socket;
            Address = address;
        }

        /// <summary>The bound address, as NOTIFY_SOCKET would give it.</summary>
        public string Address { get; }

        public int PendingBytes => _socket.Available;

        public static NotifySocket Bind(string address)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(address));
            return new NotifySocket(socket, address);
        }

        public async Task<string> ReceiveAsync()
        {
            var buffer = new byte[256];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var length = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, length);
        }

        public void Dispose() => _socket.Dispose();
    }
}
