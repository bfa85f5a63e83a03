using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Audio.Ffmpeg;

/// <summary>
/// One ffmpeg process: its stdout is the audio, its stderr lines go to the log (the last few are kept to explain an
/// exit). Disposing kills the process tree if it still runs, so that no ffmpeg outlives its source.
/// </summary>
internal sealed partial class FfmpegRun : IAsyncDisposable
{
    private const int KeptLines = 5;
    private static readonly TimeSpan _exitGrace = TimeSpan.FromSeconds(5);
    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly Queue<string> _lastLines = new();
    private readonly Lock _linesLock = new();
    private readonly Task _stderrPump;
    private readonly CancellationTokenRegistration _killOnCancel;
    private int _disposed;

    private readonly string? _concatScript;
    private readonly string _shownInput;

    private FfmpegRun(Process process, ILogger logger, string? concatScript, string shownInput, CancellationToken cancellationToken)
    {
        _process = process;
        _concatScript = concatScript;
        _shownInput = shownInput;
        _logger = logger;
        ProcessId = process.Id;
        _stderrPump = Task.Run(PumpStandardErrorAsync, CancellationToken.None);
        // A read of the pipe may not notice cancellation by itself; killing ffmpeg ends it for sure.
        _killOnCancel = cancellationToken.UnsafeRegister(static state => ((FfmpegRun)state!).Kill(), this);
    }

    public int ProcessId { get; }

    /// <summary>ffmpeg's stdout: f32le samples.</summary>
    public Stream Output => _process.StandardOutput.BaseStream;

    /// <summary>The last lines ffmpeg wrote to stderr (credentials hidden), oldest first.</summary>
    public IReadOnlyList<string> LastLines
    {
        get
        {
            lock (_linesLock)
                return [.. _lastLines];
        }
    }

    /// <exception cref="IOException">ffmpeg could not be started; the message says which executable and why.</exception>
    public static FfmpegRun Start(FfmpegOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(options.FfmpegPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        var concatScript = options.InputHasCredentials ? WritePrivateScript(options.ConcatScript()) : null;
        foreach (var argument in options.Arguments(concatScript))
            startInfo.ArgumentList.Add(argument);
        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            DeleteScript(concatScript);
            throw new IOException($"cannot start ffmpeg '{options.FfmpegPath}': {ex.Message} (install ffmpeg, e.g. apt-get install ffmpeg, or set FfmpegPath)", ex);
        }
        // ffmpeg runs with -nostdin; a closed stdin makes sure it never waits for a key press.
        process.StandardInput.Close();
        return new FfmpegRun(process, logger, concatScript, UrlCredentials.Redact(options.Input), cancellationToken);
    }

    /// <summary>Waits for ffmpeg to exit and for its last stderr lines, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await DrainStandardErrorAsync(cancellationToken).ConfigureAwait(false);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _killOnCancel.DisposeAsync().ConfigureAwait(false);
        Kill();
        try
        {
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(_exitGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A process that ignores SIGKILL (stuck in the kernel) cannot be helped; disposing the handle must go on.
            LogNotExited(_logger, ProcessId);
        }
        await DrainStandardErrorAsync(CancellationToken.None).ConfigureAwait(false);
        _process.Dispose();
        DeleteScript(_concatScript);
    }

    /// <summary>Writes the input's script to a new file that only this user can read (mode 0600).</summary>
    private static string WritePrivateScript(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"captiond-ffmpeg-{Guid.NewGuid():N}.ffconcat");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
            stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
        return path;
    }

    private static void DeleteScript(string? path)
    {
        if (path is null)
            return;
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left in the temporary folder, readable by this user only; nothing else depends on it.
        }
    }

    private async Task DrainStandardErrorAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _stderrPump.WaitAsync(_exitGrace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Something else holds ffmpeg's stderr open; the lines read so far are enough to explain the exit.
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill: nothing left to do.
        }
        catch (Win32Exception ex)
        {
            // Not ours to kill any more (or already gone); the dispose that follows releases what we hold.
            LogKillFailed(_logger, ProcessId, ex.Message);
        }
    }

    private async Task PumpStandardErrorAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                    continue;
                // ffmpeg names its input: the script's path means nothing to a reader, the URL (without credentials) does.
                var shown = UrlCredentials.Redact(_concatScript is null ? line : line.Replace(_concatScript, _shownInput, StringComparison.Ordinal));
                LogStandardError(_logger, shown);
                lock (_linesLock)
                {
                    if (_lastLines.Count == KeptLines)
                        _lastLines.Dequeue();
                    _lastLines.Enqueue(shown);
                }
            }
        }
        catch (IOException)
        {
            // The pipe broke as ffmpeg was killed; the lines read so far are kept.
        }
        catch (ObjectDisposedException)
        {
            // The process was disposed while a read was pending (a stuck ffmpeg after the grace period).
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ffmpeg: {Line}")]
    private static partial void LogStandardError(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ffmpeg (pid {ProcessId}) could not be killed: {Reason}")]
    private static partial void LogKillFailed(ILogger logger, int processId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "ffmpeg (pid {ProcessId}) did not exit within 5 s of being killed")]
    private static partial void LogNotExited(ILogger logger, int processId);
}
