namespace CaptionDaemon.Plugins.Audio.Ffmpeg;

/// <summary>One <c>ffmpeg</c> source's validated settings.</summary>
internal sealed record FfmpegOptions(
    string FfmpegPath,
    string Input,
    string? InputFormat,
    IReadOnlyList<string> InputOptions,
    bool Realtime,
    RestartPolicy Restart,
    TimeSpan MaxBackoff,
    TimeSpan StallTimeout)
{
    /// <summary>A run that delivered audio this long was a real connection: the next failure starts the backoff afresh.</summary>
    public TimeSpan BackoffResetAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The model's rate: ffmpeg resamples and mixes down, so the host has nothing left to do.</summary>
    public const int SampleRate = 16_000;

    /// <summary>True when the input URL carries a user:password, which must not appear on ffmpeg's command line.</summary>
    public bool InputHasCredentials => UrlCredentials.Redact(Input) != Input;

    /// <summary>
    /// The command line, as separate arguments (no shell, so nothing in the input is ever interpreted). An input with
    /// credentials is not on it: ffmpeg reads it from <paramref name="concatScript"/> (see <see cref="ConcatScript"/>),
    /// since every process's command line is readable by every local user (<c>ps</c>, <c>/proc/PID/cmdline</c>).
    /// </summary>
    public IReadOnlyList<string> Arguments(string? concatScript = null)
    {
        var args = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning" };
        if (Realtime)
            args.Add("-re");
        if (concatScript is not null)
        {
            // The concat demuxer opens the script's one entry as a URL, with the input options given there.
            args.AddRange(["-f", "concat", "-safe", "0", "-protocol_whitelist", "file,rtsp,rtsps,rtp,srtp,udp,tcp,tls,http,https,crypto,rtmp,rtmps", "-i", concatScript]);
        }
        else
        {
            args.AddRange(InputOptions);
            if (InputFormat is not null)
                args.AddRange(["-f", InputFormat]);
            args.AddRange(["-i", Input]);
        }
        args.AddRange(["-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"]);
        return args;
    }

    /// <summary>
    /// An ffconcat script whose one entry is the input, with the input options as <c>option</c> lines: how the input
    /// reaches ffmpeg when its URL holds credentials. Written to a file only the daemon's user can read.
    /// </summary>
    public string ConcatScript()
    {
        var script = new System.Text.StringBuilder("ffconcat version 1.0\n");
        script.Append("file '").Append(Input.Replace("'", "'\\''", StringComparison.Ordinal)).Append("'\n");
        for (var i = 0; i < InputOptions.Count; i++)
        {
            var option = InputOptions[i];
            if (!option.StartsWith('-'))
                continue;
            var value = i + 1 < InputOptions.Count && !InputOptions[i + 1].StartsWith('-') ? InputOptions[++i] : "1";
            script.Append("option ").Append(option[1..]).Append(' ').Append(value).Append('\n');
        }
        return script.ToString();
    }
}
