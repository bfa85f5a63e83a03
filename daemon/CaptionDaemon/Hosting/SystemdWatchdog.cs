using System.Globalization;
using System.Net.Sockets;

namespace CaptionDaemon.Hosting;

/// <summary>Whether the daemon is doing its work; the systemd watchdog is fed only while it is.</summary>
internal interface IDaemonHealth
{
    /// <summary>True while the daemon makes progress (e.g. the inference loop keeps completing batches).</summary>
    bool IsHealthy { get; }
}

/// <summary>
/// Feeds systemd's service watchdog (<c>WatchdogSec=</c>): sends <c>WATCHDOG=1</c> to <c>$NOTIFY_SOCKET</c> every
/// half of <c>$WATCHDOG_USEC</c> while <see cref="IDaemonHealth.IsHealthy"/> holds. Microsoft.Extensions.Hosting.Systemd
/// sends READY=1 and STOPPING=1 but no watchdog pings. A daemon that stops making progress stops pinging, and systemd
/// restarts it (<c>Restart=on-failure</c>). Outside systemd, or without <c>WatchdogSec=</c>, it does nothing.
/// </summary>
internal sealed partial class SystemdWatchdog : BackgroundService
{
    private static readonly byte[] _ping = "WATCHDOG=1"u8.ToArray();

    private readonly IDaemonHealth _health;
    private readonly ILogger<SystemdWatchdog> _logger;
    private readonly TimeProvider _time;
    private readonly string? _inactiveReason;

    /// <summary>Reads the watchdog settings that systemd put in this process's environment.</summary>
    public SystemdWatchdog(IDaemonHealth health, ILogger<SystemdWatchdog> logger)
        : this(health, logger, Environment.GetEnvironmentVariable, Environment.ProcessId, TimeProvider.System)
    {
    }

    /// <summary>Reads the watchdog settings through <paramref name="environment"/> (tests pass their own).</summary>
    internal SystemdWatchdog(
        IDaemonHealth health,
        ILogger<SystemdWatchdog> logger,
        Func<string, string?> environment,
        int processId,
        TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(environment);
        _health = health;
        _logger = logger;
        _time = time;
        (NotifySocket, Interval, _inactiveReason) = ReadEnvironment(environment, processId);
    }

    /// <summary>Where the pings go, or null when the watchdog is inactive.</summary>
    internal UnixDomainSocketEndPoint? NotifySocket { get; }

    /// <summary>Time between pings (half of <c>WATCHDOG_USEC</c>), or null when the watchdog is inactive.</summary>
    internal TimeSpan? Interval { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (NotifySocket is null || Interval is not { } interval)
        {
            LogInactive(_logger, _inactiveReason!);
            return;
        }

        LogActive(_logger, interval.TotalSeconds * 2, interval.TotalSeconds);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        using var timer = new PeriodicTimer(interval, _time);
        var withheld = false;
        var failing = false;
        try
        {
            do
            {
                if (!_health.IsHealthy)
                {
                    if (!withheld)
                    {
                        LogWithheld(_logger);
                        withheld = true;
                    }

                    continue;
                }

                if (withheld)
                {
                    LogResumed(_logger);
                    withheld = false;
                }

                try
                {
                    await socket.SendToAsync(_ping, SocketFlags.None, NotifySocket, stoppingToken).ConfigureAwait(false);
                    failing = false;
                }
                catch (SocketException ex)
                {
                    // systemd may be re-executing and its socket briefly gone: try again at the next tick. Logged once
                    // per run of failures; if they last, systemd restarts the daemon, which is the watchdog's point.
                    if (!failing)
                    {
                        LogPingFailed(_logger, ex);
                        failing = true;
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The daemon is stopping; systemd stops expecting pings after STOPPING=1.
        }
    }

    private static (UnixDomainSocketEndPoint? Socket, TimeSpan? Interval, string? InactiveReason) ReadEnvironment(
        Func<string, string?> environment, int processId)
    {
        var usecText = environment("WATCHDOG_USEC");
        if (string.IsNullOrEmpty(usecText))
        {
            return (null, null, "WATCHDOG_USEC is not set (no WatchdogSec= in the unit, or not run by systemd)");
        }

        if (!ulong.TryParse(usecText, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec == 0)
        {
            return (null, null, $"WATCHDOG_USEC is not a positive number of microseconds: \"{usecText}\"");
        }

        // WATCHDOG_PID names the process that must ping; a child that inherited the variables must stay quiet.
        var pidText = environment("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pidText)
            && (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid != processId))
        {
            return (null, null, $"WATCHDOG_PID is {pidText}, not this process ({processId})");
        }

        var path = environment("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return (null, null, "NOTIFY_SOCKET is not set");
        }

        // "@name" is a socket in the abstract namespace, which .NET addresses with a leading NUL.
        var endPoint = new UnixDomainSocketEndPoint(path[0] == '@' ? string.Concat("\0", path.AsSpan(1)) : path);
        return (endPoint, TimeSpan.FromMicroseconds(usec / 2.0), null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "systemd watchdog active: WatchdogSec={WatchdogSeconds} s, pinging every {IntervalSeconds} s while healthy")]
    private static partial void LogActive(ILogger logger, double watchdogSeconds, double intervalSeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "systemd watchdog inactive: {Reason}")]
    private static partial void LogInactive(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The daemon is not healthy: withholding systemd watchdog pings (systemd restarts it when WatchdogSec= passes)")]
    private static partial void LogWithheld(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "The daemon is healthy again: systemd watchdog pings resumed")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send a watchdog ping to systemd")]
    private static partial void LogPingFailed(ILogger logger, Exception exception);
}
